import { PermissionError } from '../../shared/errors.ts';
import type { NodeRegistry, NodeReport } from '../../shared/ports/nodes.ts';
import type { Caller } from './ServiceRegistry.ts';

/** ready: takes new rooms; draining: finishing its rooms; full: at the load limit; stale: missed reports. */
export type NodeState = 'ready' | 'draining' | 'full' | 'stale';

export interface NodeView extends NodeReport {
  state: NodeState;
}

/** A node that missed three one-second reports is stale, as placement's freshness rule has it. */
export function nodeState(report: NodeReport, now: number): NodeState {
  if (now - report.reportedAt > 3000) return 'stale';
  if (report.draining) return 'draining';
  return report.load >= 0.85 ? 'full' : 'ready';
}

/** The media nodes, as the cluster sees them (super service only). */
export class NodeService {
  readonly #registry: NodeRegistry;

  constructor(registry: NodeRegistry) {
    this.#registry = registry;
  }

  async list(caller: Caller): Promise<NodeView[]> {
    if (!caller.isSuper) throw new PermissionError('only the super service sees the cluster');
    const now = Date.now();
    // Nodes seen in the last minute, so a node that just stopped reporting is visible as stale.
    const reports = await this.#registry.fresh(60_000);
    return reports
      .map((r) => ({ ...r, state: nodeState(r, now) }) satisfies NodeView)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}
