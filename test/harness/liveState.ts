import type { Adapters } from '../../shared/adapters/select.ts';
import type { Participant, Stream } from '../../shared/protocol/http/liveState.ts';

/** Participant p1 ("ana", presenter) of a room, as signaling writes it. */
export const presenter = (roomKey: string): Participant => ({
  id: 'p1',
  roomId: roomKey,
  user: 'ana',
  role: 'presenter',
  permission: { publish: { audio: true, video: true }, subscribe: { audio: true, video: true } },
  joinedAt: new Date().toISOString(),
  version: 1,
});

/** p1's camera and microphone as forward stream s1, as the media node writes it. */
export const forwardStream = (roomKey: string, media?: Stream['media']): Stream => ({
  id: 's1',
  roomId: roomKey,
  type: 'forward',
  media: media ?? {
    audio: { status: 'active', format: { codec: 'opus' }, source: 'mic' },
    video: { status: 'active', format: { codec: 'vp8' }, source: 'camera' },
  },
  info: { owner: 'p1', type: 'webrtc', inViews: [] },
  version: 1,
});

/** A room made live as signaling and a media node would: placed on `nodeId`, p1 in it publishing s1. */
export async function seedLiveRoom(
  adapters: Pick<Adapters, 'placement' | 'participants' | 'streams'>,
  roomKey: string,
  options: { nodeId?: string; media?: Stream['media'] } = {},
): Promise<void> {
  await adapters.placement.set(roomKey, options.nodeId ?? 'node-1');
  await adapters.participants.put(presenter(roomKey));
  await adapters.streams.put(forwardStream(roomKey, options.media));
}
