import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, NotFoundError } from '../../shared/errors.ts';
import type { Room } from '../sfu/Room.ts';
import type { RtpBridge, RtpInput } from './RtpBridge.ts';

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

/**
 * Room tracks consumed into `bridge` one by one (each moved to the room's primary router first,
 * where pipelines run), each one's receive SDP written as `<i>.sdp` into `dir` for ffmpeg;
 * `gone` runs when a track's producer or transport closes. Stops early, with what it opened,
 * once `closed()` holds (the pipeline stopped meanwhile).
 */
export async function consumeTracks(
  room: Room,
  bridge: RtpBridge,
  ids: readonly string[],
  dir: string,
  gone: () => void,
  closed: () => boolean,
): Promise<RtpInput[]> {
  const inputs: RtpInput[] = [];
  for (const [i, id] of ids.entries()) {
    await room.ensureOn(id, room.router);
    if (closed()) break;
    const input = await bridge.input(id);
    inputs.push(input);
    input.consumer.once('producerclose', gone);
    input.consumer.once('transportclose', gone);
    writeFileSync(join(dir, `${i}.sdp`), input.sdp);
    if (closed()) break;
  }
  return inputs;
}
