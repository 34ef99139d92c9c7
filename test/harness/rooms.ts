import type { types } from 'mediasoup';
import type { ParticipantSink } from '../../media-node/sfu/ParticipantSink.ts';
import type { Peer, PeerInfo } from '../../media-node/sfu/Peer.ts';
import type { Room } from '../../media-node/sfu/Room.ts';
import { RoomRegistry, type RtcOptions } from '../../media-node/sfu/RoomRegistry.ts';
import type { WorkerPool } from '../../media-node/workers/WorkerPool.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ServerMessage } from '../../shared/protocol/signaling.ts';

export const peerLimits = {
  producersPerParticipant: 8,
  dataProducersPerParticipant: 4,
  consumersPerParticipant: 32,
};

/** A participant allowed everything. */
export const presenter = (id: string): PeerInfo => ({
  id,
  user: id,
  role: 'presenter',
  permission: { publish: { audio: true, video: true }, subscribe: { audio: true, video: true } },
});

/** What a browser would produce, as mediasoup's own tests write it (no media needed to exist). */
export const vp8 = (ssrc: number): types.RtpParameters => ({
  mid: 'v',
  codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [] }],
  headerExtensions: [],
  encodings: [{ ssrc }],
  rtcp: { cname: `c${ssrc}` },
});
export const opus = (ssrc: number): types.RtpParameters => ({
  mid: 'a',
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, rtcpFeedback: [] }],
  headerExtensions: [],
  encodings: [{ ssrc }],
  rtcp: { cname: `c${ssrc}` },
});

/**
 * A node's rooms for worker-level tests, and the one place that knows how a room reaches its
 * participants (a sink per participant): join a room as a logged-in participant, and read
 * what each participant was sent.
 */
export function roomsWithInbox(pool: WorkerPool, rtc: RtcOptions, logger: Logger) {
  const sent = new Map<string, ServerMessage[]>();
  const sinkFor = (connectionId: string): ParticipantSink => ({
    post: async (message) => {
      sent.set(connectionId, [...(sent.get(connectionId) ?? []), message]);
      return true;
    },
    close: async () => {},
  });
  const rooms = new RoomRegistry(pool, rtc, logger, peerLimits);
  return {
    rooms,
    async join(room: Room, id: string): Promise<Peer> {
      const peer = await room.join(presenter(id), `conn-${id}`, sinkFor(`conn-${id}`));
      room.loginAnswered(id);
      return peer;
    },
    sent: (id: string): ServerMessage[] => sent.get(`conn-${id}`) ?? [],
  };
}
