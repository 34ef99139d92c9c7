import { ErrorCodes, NotFoundError } from '../../shared/errors.ts';
import type { Room } from '../sfu/Room.ts';

/**
 * A room's track of `kind` named by `id`: the track itself when `id` names one of that kind,
 * else the track of that kind of the publication (OWT stream) `id`.
 */
export function trackOfKind(room: Room, id: string, kind: 'audio' | 'video'): string {
  const own = room.streams().find((s) => s.id === id);
  if (own?.kind === kind) return id;
  const track = room.producersOf(id).find((t) => t.announcement.kind === kind);
  if (!track) throw new NotFoundError(ErrorCodes.streamNotFound, `stream ${id} has no ${kind} in the room`);
  return track.announcement.id;
}
