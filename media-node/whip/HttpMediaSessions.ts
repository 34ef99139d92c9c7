import type { types } from 'mediasoup';
import { ErrorCodes, NotFoundError, PermissionError, TesseraError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Replies } from '../../shared/ports/replies.ts';
import type { NodeCommand } from '../../shared/protocol/commands.ts';
import { nullSink } from '../sfu/ParticipantSink.ts';
import type { RoomRegistry } from '../sfu/RoomRegistry.ts';
import type { SessionKeeper } from '../signaling/SessionKeeper.ts';
import { readWhepOffer, sessionCodecs, whepAnswer } from './whepSdp.ts';
import { readWhipOffer, whipAnswer } from './whipSdp.ts';

/** ICE and DTLS must complete this soon after the answer, or the session ends. */
const CONNECT_WITHIN_MS = 30_000;

/** What the node answers to a WHIP offer (Replies, under the offer's `replyTo`). */
export type WhipReply = { ok: true; sdp: string } | { ok: false; error: { code: number; message: string } };

/**
 * WHIP and WHEP sessions on this node, answered without a signaling socket: each is a participant
 * of the room (its join token's). A WHIP session has one send transport and one publication of
 * the offer's audio and video; a WHEP session plays one stream of the room through a router of
 * its own (so that it sends with the payload types the player offered). A session ends when the
 * function sends `connection.closed` (its resource was deleted), when ICE/DTLS fails or never
 * completes, or with its room; then it departs like any participant.
 */
export class HttpMediaSessions {
  readonly #rooms: RoomRegistry;
  readonly #sessions: SessionKeeper;
  readonly #replies: Replies;
  readonly #logger: Logger;

  constructor(o: { rooms: RoomRegistry; sessions: SessionKeeper; replies: Replies; logger: Logger }) {
    this.#rooms = o.rooms;
    this.#sessions = o.sessions;
    this.#replies = o.replies;
    this.#logger = o.logger.child({ component: 'whip' });
  }

  /** Answers the offer (to Replies), never throws: a refusal is the answer. */
  async offer(c: Extract<NodeCommand, { type: 'whip.offer' }>): Promise<void> {
    let reply: WhipReply;
    try {
      reply = { ok: true, sdp: await this.#answer(c) };
    } catch (error) {
      await this.#sessions.depart(c.roomId, c.participant.id).catch(() => {});
      reply = { ok: false, error: this.#toError(error) };
    }
    await this.#replies.post(c.replyTo, reply);
  }

  /** Answers a WHEP offer (to Replies), never throws: a refusal is the answer. */
  async play(c: Extract<NodeCommand, { type: 'whep.offer' }>): Promise<void> {
    let reply: WhipReply;
    try {
      reply = { ok: true, sdp: await this.#play(c) };
    } catch (error) {
      await this.#sessions.depart(c.roomId, c.participant.id).catch(() => {});
      reply = { ok: false, error: this.#toError(error) };
    }
    await this.#replies.post(c.replyTo, reply);
  }

  async #play(c: Extract<NodeCommand, { type: 'whep.offer' }>): Promise<string> {
    const room = this.#rooms.get(c.roomId);
    const tracks = room && !room.closed ? room.producersOf(c.streamId) : [];
    if (!room || tracks.length === 0)
      throw new NotFoundError(ErrorCodes.streamNotFound, `stream ${c.streamId} not found in the room`);
    const offer = readWhepOffer(c.sdp);
    const peer = await room.join(c.participant, c.connectionId, nullSink);
    // Each offered section gets the stream's track of its kind, if it has one and the role may.
    const wanted = offer.sections.flatMap(({ kind, mid }) => {
      const track = tracks.find((t) => t.announcement.kind === kind);
      if (!track) return [];
      if (!peer.maySubscribe(kind))
        throw new PermissionError(`role ${peer.info.role} may not receive ${kind}`);
      return [{ mid, track }];
    });
    if (wanted.length === 0)
      throw new NotFoundError(ErrorCodes.streamNotFound, 'the stream has nothing the offer asks for');
    const slot = room.primarySlot;
    const router = await slot.worker.createRouter({
      mediaCodecs: sessionCodecs(
        wanted.map((w) => w.track.producer),
        offer.capabilities,
      ),
      appData: { roomId: room.id, whep: c.connectionId },
    });
    try {
      const transport = await router.createWebRtcTransport({
        webRtcServer: slot.webRtcServer,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        appData: { peerId: peer.info.id, direction: 'recv' },
      });
      // The peer's transports close with it (it leaves); its router goes with its transport.
      peer.transports.set(transport.id, transport);
      transport.observer.once('close', () => router.close());
      await transport.connect({ dtlsParameters: offer.dtlsParameters });
      const consumers = new Map<string, types.Consumer>();
      for (const { mid, track } of wanted) {
        // A new id: both routers are on the same worker, where ids must differ.
        const { pipeProducer } = await track.router.pipeToRouter({
          producerId: track.producer.id,
          router,
          keepId: false,
        });
        const consumer = await transport.consume({
          producerId: pipeProducer!.id,
          rtpCapabilities: offer.capabilities,
        });
        consumers.set(mid, consumer);
      }
      this.#watch(c.roomId, c.participant.id, transport);
      const answer = whepAnswer(transport, offer, consumers, c.streamId);
      // The first key frame as soon as the player can decode.
      transport.on('dtlsstatechange', (state) => {
        if (state === 'connected')
          for (const consumer of consumers.values()) void consumer.requestKeyFrame().catch(() => {});
      });
      return answer;
    } catch (error) {
      router.close();
      throw error;
    }
  }

  async #answer(c: Extract<NodeCommand, { type: 'whip.offer' }>): Promise<string> {
    const room = await this.#rooms.open(c.roomId);
    const offer = readWhipOffer(c.sdp, room.router.rtpCapabilities);
    const peer = await room.join(c.participant, c.connectionId, nullSink);
    const transport = await room.createTransport(peer, 'send');
    await transport.connect({ dtlsParameters: offer.dtlsParameters });
    let publication: string | undefined;
    for (const track of offer.tracks) {
      const producer = await room.publish(
        peer,
        transport.id,
        track.kind,
        track.rtpParameters,
        track.kind === 'video' ? 'camera' : 'mic',
        publication,
      );
      publication ??= producer.id;
    }
    this.#watch(c.roomId, c.participant.id, transport);
    return whipAnswer(transport, offer);
  }

  /** The session departs when its media connection fails or never comes up. */
  #watch(roomId: string, participantId: string, transport: types.WebRtcTransport): void {
    const depart = (reason: string) => {
      clearTimeout(deadline);
      if (transport.closed) return;
      this.#logger.info('whip session ended', { roomId, participantId, reason });
      void this.#sessions.depart(roomId, participantId);
    };
    const deadline = setTimeout(() => depart('ICE/DTLS did not connect in time'), CONNECT_WITHIN_MS);
    deadline.unref();
    transport.on('dtlsstatechange', (state) => {
      if (state === 'connected') clearTimeout(deadline);
      if (state === 'failed' || state === 'closed') depart(`DTLS ${state}`);
    });
    transport.observer.once('close', () => clearTimeout(deadline));
  }

  #toError(error: unknown): { code: number; message: string } {
    if (error instanceof TesseraError) return { code: error.code, message: error.publicMessage };
    // mediasoup refuses RTP parameters it cannot take with these; the message names the field.
    if (error instanceof Error && (error instanceof TypeError || error.name === 'UnsupportedError'))
      return { code: ErrorCodes.invalidRequest, message: `WHIP offer: ${error.message}` };
    this.#logger.error('whip offer failed', { error });
    return { code: ErrorCodes.unexpected, message: 'unexpected server error' };
  }
}
