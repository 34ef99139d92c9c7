import type { types } from 'mediasoup';
import { ErrorCodes, NotImplementedError, TesseraError } from '../../shared/errors.ts';
import type { IceServer, Method, Params } from '../../shared/protocol/signaling.ts';
import { PAGE_BYTES, type ParticipantsPage, type StreamsPage } from '../../shared/protocol/signaling.ts';
import { type Peer, streamOfConsumer } from '../sfu/Peer.ts';
import type { Room } from '../sfu/Room.ts';
import type { SubscriptionTranscoders } from '../transcoding/SubscriptionTranscoders.ts';
import { page } from './paging.ts';

export interface MethodContext {
  room: Room;
  peer: Peer;
  /** Leaves the room (logout); the node's RoomRegistry decides what happens to an empty room. */
  leave(): void;
  /** Fresh ICE servers (TURN credentials) for this participant, when the deployment runs TURN. */
  iceServers?(): IceServer[];
  /** Transcoding on subscribe, on a node that runs pipelines. */
  transcoders?: SubscriptionTranscoders | undefined;
}

/**
 * Methods the node runs: `login` creates the peer (NodeSignaling); `session.refresh` and
 * `stream.mix` (which needs the room's views and its host) are the signaling function's.
 */
export type NodeMethod = Exclude<Method, 'login' | 'session.refresh' | 'stream.mix'>;

type Handler<M extends Method> = (ctx: MethodContext, params: Params<M>) => Promise<unknown>;

export const transportParams = (t: types.WebRtcTransport) => ({
  id: t.id,
  iceParameters: t.iceParameters,
  iceCandidates: t.iceCandidates,
  dtlsParameters: t.dtlsParameters,
  sctpParameters: t.sctpParameters,
});

export const consumerParams = (c: types.Consumer) => ({
  id: c.id,
  // The stream subscribed to (its announced id), even when a mix-minus producer stands in for it.
  producerId: streamOfConsumer(c),
  kind: c.kind,
  rtpParameters: c.rtpParameters,
  type: c.type,
  producerPaused: c.producerPaused,
});

export async function resume(consumer: types.Consumer): Promise<void> {
  await consumer.resume();
  // mediasoup asks for a key frame itself on resume of a connected consumer; this covers the
  // case where the producer had already answered an earlier request.
  if (consumer.kind === 'video') await consumer.requestKeyFrame();
}

/**
 * Every signaling method but `login` (which creates the peer; see NodeSignaling), keyed by
 * name. Params arrive validated against shared/protocol/signaling.ts.
 */
export const methods: { [M in NodeMethod]: Handler<M> } = {
  async ping() {
    return {};
  },

  async logout(ctx) {
    ctx.leave();
    return {};
  },

  async 'transport.connect'({ room, peer }, { transportId, dtlsParameters, resume: ready }) {
    const transport = peer.transports.get(transportId);
    if (!transport) throw new TesseraError(ErrorCodes.notFound, `no transport ${transportId}`);
    await transport.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters });
    // Consumers the client has set up while connecting are resumed in the same round trip; one
    // whose stream went meanwhile is skipped (the client is told with consumerClosed).
    const live = (ready ?? []).filter((id) => !room.consumerGone(peer, id));
    await Promise.all(live.map((id) => resume(room.consumer(peer, id))));
    return {};
  },

  async 'transport.restartIce'(ctx, { transportId }) {
    const transport = ctx.peer.transports.get(transportId);
    if (!transport) throw new TesseraError(ErrorCodes.notFound, `no transport ${transportId}`);
    // Fresh TURN credentials too: coturn checks them when an allocation is made, and a restart
    // long after the login (a relayed client in a long meeting) would find them expired.
    const iceServers = ctx.iceServers?.();
    return { iceParameters: await transport.restartIce(), ...(iceServers ? { iceServers } : {}) };
  },

  async publish({ room, peer }, { transportId, kind, rtpParameters, source, stream }) {
    const producer = await room.publish(
      peer,
      transportId,
      kind,
      rtpParameters as unknown as types.RtpParameters,
      source,
      stream,
    );
    return { id: producer.id, stream: stream ?? producer.id };
  },

  async unpublish({ room, peer }, { producerId }) {
    room.unpublish(peer, producerId);
    return {};
  },

  async subscribe({ room, peer, transcoders }, { producerId, video, audio }) {
    if (!video && !audio) return consumerParams(await room.subscribe(peer, producerId));
    if (!transcoders)
      throw new NotImplementedError('this node does not transcode', { option: video ? 'video' : 'audio' });
    // A stream is one track: the request for the other kind has nothing to apply to.
    const consumer =
      room.stream(producerId)?.announcement.kind === 'audio' && audio
        ? await transcoders.subscribeAudio(room, peer, producerId, audio)
        : video
          ? await transcoders.subscribe(room, peer, producerId, video)
          : await transcoders.subscribeAudio(room, peer, producerId, audio!);
    return consumerParams(consumer);
  },

  async unsubscribe({ room, peer }, { consumerId }) {
    room.consumer(peer, consumerId).close();
    return {};
  },

  async 'subscription.control'({ room, peer, transcoders }, params) {
    const consumer = room.consumer(peer, params.consumerId);
    switch (params.operation) {
      case 'update': {
        if (!transcoders) throw new NotImplementedError('this node does not transcode', { option: 'video' });
        const video = await transcoders.update(room, consumer.id, params.video.parameters);
        return { paused: consumer.paused, preferredLayers: consumer.preferredLayers ?? null, video };
      }
      case 'pause':
        await consumer.pause();
        break;
      case 'resume':
        await resume(consumer);
        break;
      case 'preferredLayers':
        await consumer.setPreferredLayers({
          spatialLayer: params.spatialLayer,
          ...(params.temporalLayer !== undefined ? { temporalLayer: params.temporalLayer } : {}),
        });
        break;
      case 'priority':
        await consumer.setPriority(params.priority);
        break;
    }
    return { paused: consumer.paused, preferredLayers: consumer.preferredLayers ?? null };
  },

  async 'stream.control'({ room, peer }, { producerId, operation }) {
    if (operation === 'keyframe') await room.requestKeyFrames(peer, producerId);
    else await room.setProducerPaused(peer, producerId, operation === 'pause');
    return {};
  },

  async text({ room, peer }, { to, message }) {
    await room.text(peer, to, message);
    return {};
  },

  async 'data.publish'({ room, peer }, { transportId, sctpStreamParameters, label, protocol }) {
    const dataProducer = await room.publishData(peer, transportId, sctpStreamParameters, label, protocol);
    return { id: dataProducer.id };
  },

  async 'data.subscribe'({ room, peer }, { dataProducerId }) {
    const dc = await room.subscribeData(peer, dataProducerId);
    return {
      id: dc.id,
      dataProducerId,
      sctpStreamParameters: dc.sctpStreamParameters,
      label: dc.label,
      protocol: dc.protocol,
    };
  },

  async 'room.streams'({ room, peer }, { cursor }): Promise<StreamsPage> {
    const { items, cursor: next } = page(room, peer, 'streams', Number(cursor), PAGE_BYTES);
    return { streams: items, ...(next ? { cursor: next } : {}) };
  },

  async 'room.participants'({ room, peer }, { cursor }): Promise<ParticipantsPage> {
    const { items, cursor: next } = page(room, peer, 'participants', Number(cursor), PAGE_BYTES);
    return { participants: items, ...(next ? { cursor: next } : {}) };
  },
};
