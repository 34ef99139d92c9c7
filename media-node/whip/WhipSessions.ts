import type { types } from 'mediasoup';
import { ErrorCodes, TesseraError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Replies } from '../../shared/ports/replies.ts';
import type { NodeCommand } from '../../shared/protocol/commands.ts';
import { nullSink } from '../sfu/ParticipantSink.ts';
import type { RoomRegistry } from '../sfu/RoomRegistry.ts';
import type { SessionKeeper } from '../signaling/SessionKeeper.ts';
import { readWhipOffer, whipAnswer } from './whipSdp.ts';

/** ICE and DTLS must complete this soon after the answer, or the session ends. */
const CONNECT_WITHIN_MS = 30_000;

/** What the node answers to a WHIP offer (Replies, under the offer's `replyTo`). */
export type WhipReply = { ok: true; sdp: string } | { ok: false; error: { code: number; message: string } };

/**
 * WHIP sessions on this node: each is a participant of the room (its join token's) with one send
 * transport and one publication of the offer's audio and video, answered without a signaling
 * socket. It ends when the function sends `connection.closed` (the WHIP resource was deleted),
 * when ICE/DTLS fails or never completes, or with its room; then it departs like any participant.
 */
export class WhipSessions {
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
