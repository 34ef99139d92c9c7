import type { StreamAnnouncement } from '../../shared/protocol/signaling.ts';
import type { Peer } from '../sfu/Peer.ts';
import type { Room } from '../sfu/Room.ts';

type ParticipantInfo = { id: string; user: string; role: string };
type Lists = { streams: StreamAnnouncement; participants: ParticipantInfo };
export type ListName = keyof Lists;

/** Bytes an item adds to a JSON array (its text and a comma). */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value)) + 1;

/**
 * The ids of the room's streams and participants as they were when the peer logged in. Pages
 * walk this snapshot by offset, so what is added or removed between pages neither shifts nor
 * repeats the rest; changes after login reach the peer as events anyway. Dropped with the peer.
 */
const snapshots = new WeakMap<Peer, { [L in ListName]: string[] }>();

function current<L extends ListName>(room: Room, list: L): Lists[L][] {
  return (list === 'streams' ? room.streams() : room.participants()) as Lists[L][];
}

/** Takes the peer's snapshot (at login). */
export function snapshot(room: Room, peer: Peer): void {
  snapshots.set(peer, {
    streams: room.streams().map((s) => s.id),
    participants: room.participants().map((p) => p.id),
  });
}

/**
 * The items of `list` from `offset` in the peer's snapshot that fit in `budget` bytes of JSON
 * (at least one, so a page always advances: a single item is far below any budget), as they are
 * now (gone ones are skipped), and the cursor of the rest, if any.
 */
export function page<L extends ListName>(
  room: Room,
  peer: Peer,
  list: L,
  offset: number,
  budget: number,
): { items: Lists[L][]; cursor?: string } {
  if (!snapshots.has(peer)) snapshot(room, peer);
  const ids = snapshots.get(peer)![list];
  const now = new Map(current(room, list).map((item) => [item.id, item]));
  const items: Lists[L][] = [];
  let used = 0;
  let at = offset;
  for (; at < ids.length; at++) {
    const item = now.get(ids[at]!);
    if (!item) continue;
    const bytes = jsonBytes(item);
    if (items.length > 0 && used + bytes > budget) break;
    items.push(item);
    used += bytes;
  }
  return at < ids.length ? { items, cursor: String(at) } : { items };
}
