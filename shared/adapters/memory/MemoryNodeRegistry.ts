import type { NodeRegistry, NodeReport } from '../../ports/nodes.ts';

export class MemoryNodeRegistry implements NodeRegistry {
  readonly #reports = new Map<string, NodeReport>();
  #capabilities: unknown;

  async report(report: NodeReport): Promise<void> {
    this.#reports.set(report.id, structuredClone(report));
  }

  async fresh(maxAgeMs: number): Promise<NodeReport[]> {
    const since = Date.now() - maxAgeMs;
    return structuredClone([...this.#reports.values()].filter((r) => r.reportedAt >= since));
  }

  async setRtpCapabilities(capabilities: unknown): Promise<void> {
    this.#capabilities = structuredClone(capabilities);
  }

  async rtpCapabilities(): Promise<unknown | undefined> {
    return this.#capabilities;
  }
}
