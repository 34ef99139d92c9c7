import { writeFileSync } from 'node:fs';
import type { RtpBridge, RtpInput } from '../pipelines/RtpBridge.ts';
import type { Room } from '../sfu/Room.ts';

/**
 * Opens a room track as a mixer input: made available on the room's primary router (where the
 * mixer's bridge lives), consumed into `bridge`, its receive SDP written to `sdpPath` for the
 * decoder, and resumed. Undefined, with nothing left open, when `gone()` turned true meanwhile.
 * `onProducerClose` runs when the track goes (unpublished, its participant left).
 */
export async function openMixerInput(
  room: Room,
  bridge: RtpBridge,
  input: { producerId: string; sdpPath: string },
  gone: () => boolean,
  onProducerClose: () => void,
): Promise<RtpInput | undefined> {
  await room.ensureOn(input.producerId, room.router);
  if (gone()) return undefined;
  const opened = await bridge.input(input.producerId);
  if (gone()) {
    bridge.closeInput(opened);
    return undefined;
  }
  opened.consumer.once('producerclose', onProducerClose);
  writeFileSync(input.sdpPath, opened.sdp);
  await opened.consumer.resume();
  // Removed while resuming: the caller never held it, so it closes here.
  if (gone()) {
    bridge.closeInput(opened);
    return undefined;
  }
  return opened;
}
