import type { NodeReport } from '../ports/nodes.ts';

/**
 * The one rule for whether a media node is there and what it may take (LiveKit's single
 * `selector.IsAvailable`): placement, the room placer, `/v1/nodes` and the cluster metrics all
 * read a node's report through it.
 */

/** Nodes report every second; one that missed three reports is gone. */
export const NODE_FRESH_MS = 3000;
/** A node at or above this load takes nothing new (OWT's max_load). */
export const NODE_MAX_LOAD = 0.85;

export interface HealthLimits {
  freshnessMs?: number | undefined;
  maxLoad?: number | undefined;
}

/** Why a node takes no new room: gone, leaving, without a live worker, or busy. */
export type Unavailability = 'stale' | 'draining' | 'no-workers' | 'overloaded';

export function isFresh(node: NodeReport, now: number, freshnessMs = NODE_FRESH_MS): boolean {
  return now - node.reportedAt <= freshnessMs;
}

/**
 * A (fresh) node keeps the rooms it has while a worker lives: draining and busy nodes included,
 * since moving a live room needs cross-node pipes.
 */
export const isServing = (node: NodeReport): boolean => node.workersAlive > 0;

/** A (fresh) node keeps a session that logs in again unless it is leaving. */
export const keepsSessions = (node: NodeReport): boolean => isServing(node) && !node.draining;

/** Why the node cannot take a new room, or undefined when it can. */
export function unavailability(
  node: NodeReport,
  now: number,
  limits: HealthLimits = {},
): Unavailability | undefined {
  if (!isFresh(node, now, limits.freshnessMs)) return 'stale';
  if (node.draining) return 'draining';
  if (!isServing(node)) return 'no-workers';
  if (node.load >= (limits.maxLoad ?? NODE_MAX_LOAD)) return 'overloaded';
  return undefined;
}

/** ready: takes new rooms; draining: finishing its rooms; full: takes nothing new; stale: missed reports. */
export type NodeState = 'ready' | 'draining' | 'full' | 'stale';

/** The state `/v1/nodes` shows: a node without a live worker is as full as a busy one. */
export function nodeState(node: NodeReport, now: number): NodeState {
  const why = unavailability(node, now);
  if (why === undefined) return 'ready';
  return why === 'no-workers' || why === 'overloaded' ? 'full' : why;
}
