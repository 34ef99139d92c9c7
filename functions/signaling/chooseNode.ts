import { ErrorCodes, TesseraError } from '../../shared/errors.ts';
import type { NodeRegistry } from '../../shared/ports/nodes.ts';

/** A node that missed three one-second reports is not selectable. */
const FRESH_MS = 3000;

/**
 * The node for a room that has none: the freshly reporting, non-draining node with the fewest
 * rooms, ties broken by load. (The cluster's placement module will take strategies and limits.)
 */
export async function leastLoadedNode(registry: NodeRegistry): Promise<string> {
  const candidates = (await registry.fresh(FRESH_MS)).filter(
    (n) => !n.draining && n.workersAlive > 0 && n.load < 0.85,
  );
  const best = candidates.sort((a, b) => a.rooms - b.rooms || a.load - b.load)[0];
  if (!best) throw new TesseraError(ErrorCodes.clusterUnavailable, 'no media node available');
  return best.id;
}
