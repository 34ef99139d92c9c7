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

/**
 * A pipeline's `inputs` (changed in place) switched to the tracks `ids`: the new ones consumed
 * first (a track that is not there throws and leaves the inputs as they were), then the old ones
 * let go. Their SDP files are rewritten for the next ffmpeg run.
 */
export async function switchTracks(
  room: Room,
  bridge: RtpBridge,
  inputs: RtpInput[],
  ids: readonly string[],
  dir: string,
  gone: () => void,
  closed: () => boolean,
): Promise<void> {
  const next = await consumeTracks(room, bridge, ids, dir, gone, closed);
  const old = inputs.splice(0, inputs.length, ...next);
  for (const input of old) {
    input.consumer.off('producerclose', gone);
    input.consumer.off('transportclose', gone);
    bridge.closeInput(input);
  }
}
