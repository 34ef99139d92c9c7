import { availableParallelism } from 'node:os';
import type { Logger } from '../../shared/logger.ts';
import type { NodeRegistry, NodeReport } from '../../shared/ports/nodes.ts';
import { type NodeCapability, nodeCapabilities } from '../ffmpeg/capabilities.ts';
import { PipelineCpuMeter } from '../pipelines/PipelineCpuMeter.ts';
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
  /** Where encoders push to this node's RTMP ingest, when it runs one. */
  rtmpIngestUrl?: string | undefined;
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
  readonly #pipelineCpu: PipelineCpuMeter;
  readonly #cores = availableParallelism();
  #capabilities: NodeCapability[] = ['sfu'];
  #timer: ReturnType<typeof setInterval> | undefined;
  draining = false;

  constructor(options: CapacityReporterOptions) {
    this.#o = options;
    this.#pipelineCpu = new PipelineCpuMeter(() => options.pipelines?.());
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
    const { count: pipelines, cores: pipelineCpu } = this.#pipelineCpu.read();
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
      pipelines,
      pipelineCpu: Math.round(pipelineCpu * 1000) / 1000,
      ...(this.#o.rtmpIngestUrl ? { rtmpIngestUrl: this.#o.rtmpIngestUrl } : {}),
    };
    await this.#o.registry.report(report);
    return report;
  }
}
