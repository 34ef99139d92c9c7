import { ErrorCodes, TesseraError } from '../../shared/errors.ts';
import { choose, initialState, type Strategy, type StrategyState } from '../../shared/placement/placement.ts';
import type { PlacementStore, RoomNodes } from '../../shared/ports/live.ts';
import type { NodeRegistry, NodeReport } from '../../shared/ports/nodes.ts';

export interface RoomPlacerOptions {
  placement: PlacementStore;
  /** Which nodes host each room; with `peersPerNode`, rooms span nodes. */
  roomNodes?: RoomNodes | undefined;
  /** Participants of one room per node before the room spreads to another node (0: no limit). */
  peersPerNode?: number;
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
  readonly #o: Required<Omit<RoomPlacerOptions, 'roomNodes'>> & { roomNodes: RoomNodes | undefined };
  #state: StrategyState = initialState();
  #snapshot: { at: number; nodes: Promise<NodeReport[]> } | undefined;

  constructor(options: RoomPlacerOptions) {
    this.#o = { snapshotMs: 1000, lockTtlMs: 5000, roomNodes: undefined, peersPerNode: 0, ...options };
  }

  /**
   * The node for a new participant of the room: the room's node while it holds fewer than
   * `peersPerNode` of the room's participants, else another node already hosting the room,
   * else a newly chosen one (streams then cross between them over pipes). The limit is soft:
   * simultaneous joins may put one more on a node. Counts the participant in.
   */
  async placeParticipant(
    roomId: string,
    preference?: { region?: string | undefined; isp?: string | undefined },
    avoid?: string,
  ): Promise<string> {
    const primary = await this.place(roomId, preference, avoid);
    const { roomNodes, peersPerNode } = this.#o;
    if (!roomNodes) return primary;
    let nodeId = primary;
    if (peersPerNode > 0) {
      const [counts, nodes] = await Promise.all([roomNodes.counts(roomId), this.#nodes()]);
      const hosting = [primary, ...Object.keys(counts).filter((n) => n !== primary)].filter(
        (n) => n !== avoid && alive(nodes, n) && (counts[n] ?? 0) < peersPerNode,
      );
      const fresh = () =>
        choose(
          nodes.filter((n) => !(n.id in counts)),
          { strategy: this.#o.strategy, now: Date.now(), preference, requires: ['sfu'] },
        ).node?.id;
      nodeId = hosting[0] ?? fresh() ?? primary;
    }
    await roomNodes.add(roomId, nodeId, 1);
    return nodeId;
  }

  /** Whether a node can keep a session that logs in again: it reports and is not draining. */
  async canKeep(nodeId: string): Promise<boolean> {
    const node = (await this.#nodes()).find((n) => n.id === nodeId);
    return node !== undefined && node.workersAlive > 0 && !node.draining;
  }

  /** The participant left the node. */
  async release(roomId: string, nodeId: string): Promise<void> {
    await this.#o.roomNodes?.add(roomId, nodeId, -1);
  }

  /** The room's node; `avoid`: a node the room is leaving (draining or failed), never kept or chosen. */
  async place(
    roomId: string,
    preference?: { region?: string | undefined; isp?: string | undefined },
    avoid?: string,
  ): Promise<string> {
    const { placement } = this.#o;
    for (let attempt = 0; attempt < 200; attempt++) {
      const nodes = (await this.#nodes()).filter((n) => n.id !== avoid);
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
    throw new TesseraError(ErrorCodes.clusterUnavailable, 'could not place the room on a media node');
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
