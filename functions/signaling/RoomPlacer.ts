import { ErrorCodes, TesseraError } from '../../shared/errors.ts';
import { isServing, keepsSessions, NODE_FRESH_MS } from '../../shared/placement/nodeHealth.ts';
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
  /**
   * Report age past which a node that a client found unresponsive (a `failover` login) is given
   * up at once rather than after the 3 s freshness rule: nodes report every second, so 1.2 s is
   * one missed report plus jitter.
   */
  suspectAfterMs?: number;
  /**
   * Called once per placement decision (a room placed for the first time, or moved off a failed
   * or draining node), before the placement is used: the new host learns the room's views.
   */
  onPlaced?: ((roomId: string, nodeId: string) => Promise<void>) | undefined;
  /**
   * Called when a participant is placed on a node other than the room's, one that holds none of
   * the room's participants now, before the placement is used: that node learns the room's views
   * (to record its publications in them; the host mixes).
   */
  onSpread?: ((roomId: string, nodeId: string) => Promise<void>) | undefined;
}

/**
 * Places rooms on media nodes. A room keeps its node while that node is alive (a draining or
 * busy node keeps its existing rooms: moving a live room needs cross-node pipes). Otherwise one
 * caller takes the room's lock (re-reading in the same round trip), chooses with the placement
 * strategy and writes under the lock, releasing it; concurrent callers wait for that decision
 * instead of making their own.
 */
export class RoomPlacer {
  readonly #o: Required<Omit<RoomPlacerOptions, 'roomNodes' | 'onPlaced' | 'onSpread'>> &
    Pick<RoomPlacerOptions, 'onPlaced' | 'onSpread'> & { roomNodes: RoomNodes | undefined };
  #state: StrategyState = initialState();
  #snapshot: { at: number; nodes: Promise<NodeReport[]> } | undefined;
  /** A registry read in flight for failover checks: a burst of them shares one read. */
  #latest: Promise<NodeReport[]> | undefined;

  constructor(options: RoomPlacerOptions) {
    this.#o = {
      snapshotMs: 1000,
      lockTtlMs: 5000,
      suspectAfterMs: 1200,
      roomNodes: undefined,
      peersPerNode: 0,
      ...options,
    };
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
      if (nodeId !== primary && !counts[nodeId]) await this.#o.onSpread?.(roomId, nodeId);
    }
    await roomNodes.add(roomId, nodeId, 1);
    return nodeId;
  }

  /**
   * Whether a node can keep a session that logs in again: it reports and is not draining. With
   * `failover` (the client found the node unresponsive) the registry is read now, not from a
   * snapshot, and the node must make its next report on time: one that missed it
   * (`suspectAfterMs`) loses the client at once; otherwise this waits for the report due
   * (at most `suspectAfterMs`) rather than send the login to a node that may be dead. A node
   * that reports on time keeps the client: a slow client cannot evict a healthy node's sessions.
   */
  async canKeep(nodeId: string, failover = false): Promise<boolean> {
    const find = async () =>
      (await (failover ? this.#latestNodes() : this.#nodes())).find((n) => n.id === nodeId);
    const usable = (n: NodeReport | undefined): n is NodeReport => n !== undefined && keepsSessions(n);
    const node = await find();
    if (!usable(node) || !failover) return usable(node);
    const { suspectAfterMs } = this.#o;
    const age = Date.now() - node.reportedAt;
    if (age > suspectAfterMs) return false;
    await new Promise((r) => setTimeout(r, suspectAfterMs - age + 1));
    const next = await find();
    return usable(next) && Date.now() - next.reportedAt <= suspectAfterMs;
  }

  /** The participant left the node. */
  async release(roomId: string, nodeId: string): Promise<void> {
    await this.#o.roomNodes?.add(roomId, nodeId, -1);
  }

  /**
   * The room's node; `avoid`: a node the room is leaving (draining or failed), never kept or
   * chosen. A room placed for the first time goes to a node with every capability `requires`
   * names (a streaming-in into an empty room needs `stream`); a placed room keeps its node.
   */
  async place(
    roomId: string,
    preference?: { region?: string | undefined; isp?: string | undefined },
    avoid?: string,
    requires: string[] = ['sfu'],
  ): Promise<string> {
    const { placement } = this.#o;
    // Waiters outlast the lock's TTL: a holder that died mid-decision delays them, never fails them.
    const deadline = Date.now() + this.#o.lockTtlMs + 1000;
    for (let waits = 0; Date.now() <= deadline; ) {
      const nodes = (await this.#nodes()).filter((n) => n.id !== avoid);
      const current = await placement.get(roomId);
      if (current && alive(nodes, current)) return current;
      const { token, nodeId: decided } = await placement.lock(roomId, this.#o.lockTtlMs);
      if (!token) {
        // Someone else is deciding: wait for the decision, then use it. Growing, jittered pauses
        // (5 ms up to 50 ms) keep a burst of waiters (a failed node's whole room) off Redis.
        const pause = Math.min(50, 5 * 1.5 ** waits++) * (0.5 + Math.random());
        await new Promise((r) => setTimeout(r, pause));
        continue;
      }
      // Three round trips for a new decision: the read above, the lock with a re-read, and the
      // write that releases the lock. Every other way out releases it here.
      let released = false;
      try {
        if (decided && decided !== current && alive(nodes, decided)) return decided;
        const { node, state } = choose(
          nodes,
          { strategy: this.#o.strategy, now: Date.now(), preference, requires },
          this.#state,
        );
        if (!node)
          throw new TesseraError(
            ErrorCodes.clusterUnavailable,
            requires.length > 1
              ? `no media node available that can ${requires.join(' and ')}`
              : 'no media node available',
          );
        this.#state = state;
        // Undefined: the lock expired mid-decision (and is someone else's now): go round again.
        released = (await placement.assign(roomId, node.id, token)) !== undefined;
        if (released) {
          // Before this join goes on: the views are on the host's queue ahead of its login, and a
          // join racing in reads the placement now but logs in a client round-trip later.
          await this.#o.onPlaced?.(roomId, node.id);
          return node.id;
        }
      } finally {
        if (!released) await placement.unlock(roomId, token);
      }
    }
    throw new TesseraError(ErrorCodes.clusterUnavailable, 'could not place the room on a media node');
  }

  #nodes(): Promise<NodeReport[]> {
    const now = Date.now();
    if (!this.#snapshot || now - this.#snapshot.at >= this.#o.snapshotMs) {
      const nodes = this.#o.registry.fresh(NODE_FRESH_MS);
      const snapshot = { at: now, nodes };
      this.#snapshot = snapshot;
      // A failed read is not cached: the next caller reads again instead of failing for a second.
      nodes.catch(() => {
        if (this.#snapshot === snapshot) this.#snapshot = undefined;
      });
    }
    return this.#snapshot.nodes;
  }

  /** The registry as it is now (no snapshot: a report newer than it must count). */
  #latestNodes(): Promise<NodeReport[]> {
    this.#latest ??= this.#o.registry.fresh(NODE_FRESH_MS).finally(() => {
      this.#latest = undefined;
    });
    return this.#latest;
  }
}

/** Among fresh reports: the node keeps its rooms. */
function alive(nodes: NodeReport[], nodeId: string): boolean {
  const node = nodes.find((n) => n.id === nodeId);
  return node !== undefined && isServing(node);
}
