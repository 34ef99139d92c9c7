import type { Logger } from '../../shared/logger.ts';
import type { NodeRegistry, NodeReport } from '../../shared/ports/nodes.ts';
import type { RoomRegistry } from '../sfu/RoomRegistry.ts';
import type { WorkerPool } from '../workers/WorkerPool.ts';

const INTERVAL_MS = 1000;

export interface CapacityReporterOptions {
  nodeId: string;
  pool: WorkerPool;
  rooms: RoomRegistry;
  registry: NodeRegistry;
  logger: Logger;
  region?: string | undefined;
  isp?: string | undefined;
  /** Pipe links to other nodes in use. */
  pipes?: () => number;
}

/**
 * Reports this node's capacity every second: rooms, workers alive, and load, the busiest
 * worker's CPU share over the last interval (from the workers' own resource usage).
 */
export class CapacityReporter {
  readonly #o: CapacityReporterOptions;
  readonly #lastCpu = new Map<number, { cpuMs: number; at: number }>();
  #timer: ReturnType<typeof setInterval> | undefined;
  draining = false;

  constructor(options: CapacityReporterOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    await this.report();
    this.#timer = setInterval(
      () => void this.report().catch((error) => this.#o.logger.warn('capacity report failed', { error })),
      INTERVAL_MS,
    );
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async report(): Promise<NodeReport> {
    const workers = this.#o.pool.workers;
    const alive = workers.filter((w) => !w.closed && !w.died);
    const loads = await Promise.all(
      alive.map(async (w) => {
        const usage = await w.getResourceUsage();
        const cpuMs = usage.ru_utime + usage.ru_stime;
        const now = Date.now();
        const last = this.#lastCpu.get(w.pid);
        this.#lastCpu.set(w.pid, { cpuMs, at: now });
        return last ? Math.min(1, (cpuMs - last.cpuMs) / Math.max(1, now - last.at)) : 0;
      }),
    );
    const report: NodeReport = {
      id: this.#o.nodeId,
      rooms: this.#o.rooms.rooms.size,
      workers: workers.length,
      workersAlive: alive.length,
      load: Math.max(0, ...loads),
      draining: this.draining,
      reportedAt: Date.now(),
      region: this.#o.region,
      isp: this.#o.isp,
      capabilities: ['sfu'],
      pipes: this.#o.pipes?.() ?? 0,
    };
    await this.#o.registry.report(report);
    return report;
  }
}
