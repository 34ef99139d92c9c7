import { PermissionError } from '../../shared/errors.ts';
import type { NodeRegistry, NodeReport } from '../../shared/ports/nodes.ts';
import type { Caller } from './ServiceRegistry.ts';

export interface NodeView extends NodeReport {
  /** ready: takes new rooms; draining: finishing its rooms; full: at the load limit; stale: missed reports. */
  state: 'ready' | 'draining' | 'full' | 'stale';
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
      .map(
        (r) =>
          ({
            ...r,
            state:
              now - r.reportedAt > 3000
                ? 'stale'
                : r.draining
                  ? 'draining'
                  : r.load >= 0.85
                    ? 'full'
                    : 'ready',
          }) satisfies NodeView,
      )
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}
