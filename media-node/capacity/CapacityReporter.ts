import { availableParallelism } from 'node:os';
import type { Logger } from '../../shared/logger.ts';
import type { NodeRegistry, NodeReport } from '../../shared/ports/nodes.ts';
import { type NodeCapability, nodeCapabilities } from '../ffmpeg/capabilities.ts';
import type { PipelinesUsage } from '../pipelines/Pipelines.ts';
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
  /** The node's media pipelines (their ffmpeg CPU counts in the load). */
  pipelines?: () => PipelinesUsage;
  /** What the node can run; probed from its ffmpeg when absent. */
  capabilities?: () => Promise<NodeCapability[]>;
}

/**
 * Reports this node's capacity every second: rooms, workers alive, pipelines, and load: the
 * busiest worker's CPU share over the last interval (from the workers' own resource usage) plus
 * the node's share used by pipeline ffmpeg processes (from /proc), which run on the same cores.
 */
export class CapacityReporter {
  readonly #o: CapacityReporterOptions;
  readonly #lastCpu = new Map<number, { cpuMs: number; at: number }>();
  readonly #lastPipelineCpu = new Map<number, { cpuSeconds: number; at: number }>();
  readonly #cores = availableParallelism();
  #capabilities: NodeCapability[] = ['sfu'];
  #timer: ReturnType<typeof setInterval> | undefined;
  draining = false;

  constructor(options: CapacityReporterOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    this.#capabilities = await (this.#o.capabilities ?? nodeCapabilities)();
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
    const pipelines = this.#o.pipelines?.();
    const pipelineCpu = this.#pipelineCores(pipelines);
    const report: NodeReport = {
      id: this.#o.nodeId,
      rooms: this.#o.rooms.rooms.size,
      workers: workers.length,
      workersAlive: alive.length,
      load: Math.min(1, Math.max(0, ...loads) + pipelineCpu / this.#cores),
      draining: this.draining,
      reportedAt: Date.now(),
      region: this.#o.region,
      isp: this.#o.isp,
      capabilities: [...this.#capabilities],
      pipes: this.#o.pipes?.() ?? 0,
      pipelines: pipelines?.count ?? 0,
      pipelineCpu: Math.round(pipelineCpu * 1000) / 1000,
    };
    await this.#o.registry.report(report);
    return report;
  }

  /** Cores the pipelines' ffmpeg processes used since the last report (a new process counts from its next one). */
  #pipelineCores(usage: PipelinesUsage | undefined): number {
    const now = Date.now();
    let cores = 0;
    const seen = new Set<number>();
    for (const { pid, cpuSeconds } of usage?.processes ?? []) {
      seen.add(pid);
      const last = this.#lastPipelineCpu.get(pid);
      this.#lastPipelineCpu.set(pid, { cpuSeconds, at: now });
      if (last && cpuSeconds >= last.cpuSeconds)
        cores += (cpuSeconds - last.cpuSeconds) / Math.max(0.001, (now - last.at) / 1000);
    }
    for (const pid of this.#lastPipelineCpu.keys()) if (!seen.has(pid)) this.#lastPipelineCpu.delete(pid);
    return cores;
  }
}
