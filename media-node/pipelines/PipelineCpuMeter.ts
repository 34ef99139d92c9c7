import type { PipelinesUsage } from './Pipelines.ts';

/**
 * Cores the pipelines' processes used since the previous reading (1 = one core busy). Each
 * reader (the capacity report, the metrics scrape) keeps its own meter: readings are deltas.
 * A process seen for the first time counts from its next reading.
 */
export class PipelineCpuMeter {
  readonly #usage: () => PipelinesUsage | undefined;
  readonly #last = new Map<number, { cpuSeconds: number; at: number }>();

  constructor(usage: () => PipelinesUsage | undefined) {
    this.#usage = usage;
  }

  read(): { count: number; cores: number } {
    const usage = this.#usage();
    const now = Date.now();
    let cores = 0;
    const seen = new Set<number>();
    for (const { pid, cpuSeconds } of usage?.processes ?? []) {
      seen.add(pid);
      const last = this.#last.get(pid);
      this.#last.set(pid, { cpuSeconds, at: now });
      if (last && cpuSeconds >= last.cpuSeconds)
        cores += (cpuSeconds - last.cpuSeconds) / Math.max(0.001, (now - last.at) / 1000);
    }
    for (const pid of this.#last.keys()) if (!seen.has(pid)) this.#last.delete(pid);
    return { count: usage?.count ?? 0, cores };
  }
}
