import { PermissionError } from '../../shared/errors.ts';
import { type NodeState, nodeState } from '../../shared/placement/nodeHealth.ts';
import type { NodeRegistry, NodeReport } from '../../shared/ports/nodes.ts';
import type { Caller } from './ServiceRegistry.ts';

export interface NodeView extends NodeReport {
  state: NodeState;
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
