import { ErrorCodes, TesseraError } from '../../shared/errors.ts';
import { choose, initialState, type Strategy, type StrategyState } from '../../shared/placement/placement.ts';
import type { PlacementStore } from '../../shared/ports/live.ts';
import type { NodeRegistry, NodeReport } from '../../shared/ports/nodes.ts';

export interface RoomPlacerOptions {
  placement: PlacementStore;
  registry: NodeRegistry;
  strategy: Strategy;
  /** How long a registry snapshot is reused: bounds Redis work per decision. */
  snapshotMs?: number;
  lockTtlMs?: number;
}

const FRESH_MS = 3000;

/**
 * Places rooms on media nodes. A room keeps its node while that node is alive (a draining or
 * busy node keeps its existing rooms: moving a live room needs cross-node pipes). Otherwise one
 * caller takes the room's lock, re-reads, chooses with the placement strategy and writes under
 * the lock; concurrent callers wait for that decision instead of making their own.
 */
export class RoomPlacer {
  readonly #o: Required<RoomPlacerOptions>;
  #state: StrategyState = initialState();
  #snapshot: { at: number; nodes: Promise<NodeReport[]> } | undefined;

  constructor(options: RoomPlacerOptions) {
    this.#o = { snapshotMs: 1000, lockTtlMs: 5000, ...options };
  }

  async place(
    roomId: string,
    preference?: { region?: string | undefined; isp?: string | undefined },
  ): Promise<string> {
    const { placement } = this.#o;
    for (let attempt = 0; attempt < 200; attempt++) {
      const nodes = await this.#nodes();
      const current = await placement.get(roomId);
      if (current && alive(nodes, current)) return current;
      const token = await placement.lock(roomId, this.#o.lockTtlMs);
      if (!token) {
        // Someone else is deciding: wait for the decision, then use it.
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
        continue;
      }
      try {
        const decided = await placement.get(roomId);
        if (decided && decided !== current && alive(nodes, decided)) return decided;
        const { node, state } = choose(
          nodes,
          { strategy: this.#o.strategy, now: Date.now(), preference, requires: ['sfu'] },
          this.#state,
        );
        if (!node) throw new TesseraError(ErrorCodes.clusterUnavailable, 'no media node available');
        this.#state = state;
        if ((await placement.assign(roomId, node.id, token)) !== undefined) return node.id;
      } finally {
        await placement.unlock(roomId, token);
      }
    }
    throw new TesseraError(ErrorCodes.clusterUnavailable, `could not place room ${roomId}`);
  }

  #nodes(): Promise<NodeReport[]> {
    const now = Date.now();
    if (!this.#snapshot || now - this.#snapshot.at >= this.#o.snapshotMs) {
      this.#snapshot = { at: now, nodes: this.#o.registry.fresh(FRESH_MS) };
    }
    return this.#snapshot.nodes;
  }
}

function alive(nodes: NodeReport[], nodeId: string): boolean {
  const node = nodes.find((n) => n.id === nodeId);
  return node !== undefined && node.workersAlive > 0;
}
