import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  AuthenticationError,
  type ErrorCode,
  ErrorCodes,
  LimitError,
  NotFoundError,
  TesseraError,
} from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ConnectionRecord, ConnectionStore } from '../../shared/ports/gateway.ts';
import type { Replies } from '../../shared/ports/replies.ts';
import type { NodeCommandInput } from '../../shared/protocol/commands.ts';
import type { Commands } from '../services/Commands.ts';
import type { SignalingFunction } from '../signaling/SignalingFunction.ts';

/** How long the function waits for the node's answer (a room opening on a busy node included). */
const ANSWER_WITHIN_MS = 15_000;

const WhipReplySchema = z.union([
  z.object({ ok: z.literal(true), sdp: z.string().min(1) }),
  z.object({ ok: z.literal(false), error: z.object({ code: z.number().int(), message: z.string() }) }),
]);

/**
 * WHIP (RFC 9725) ingest and WHEP playback. WHIP: an encoder's SDP offer with a join token as its bearer becomes a
 * participant of the token's room, publishing one stream, exactly as a WebSocket join would be
 * admitted (the token is spent; room limits hold; an offer the node refuses gives it back), on
 * the node placement picks. The session is
 * a connection `whip:<session id>` with no socket: the node answers through Replies, and DELETE
 * of the session's URL is its disconnect. The session id is the resource's capability (122
 * random bits). WHEP: a player's offer, with a join token whose role may subscribe, plays one
 * stream of the room the same way (a participant with a session of its own on the node).
 */
export interface WhipEndpointDeps {
  signaling: Pick<SignalingFunction, 'connect' | 'disconnect' | 'restoreToken'>;
  connections: ConnectionStore;
  commands: Commands;
  replies: Replies;
  logger: Logger;
}

export class WhipEndpoint {
  readonly #d: WhipEndpointDeps;

  constructor(d: WhipEndpointDeps) {
    this.#d = d;
  }

  /** WHIP: the offer publishes into the token's room. */
  offer(token: string | undefined, sdp: string): Promise<{ sessionId: string; sdp: string }> {
    return this.#session(token, (connection, connectionId) => ({
      type: 'whip.offer',
      roomId: connection.roomId,
      connectionId,
      participant: connection.participant,
      sdp,
      replyTo: connectionId,
    }));
  }

  /** WHEP: the offer plays the stream `streamId` of the token's room (a participant's or a mixed view). */
  play(
    token: string | undefined,
    streamId: string,
    sdp: string,
  ): Promise<{ sessionId: string; sdp: string }> {
    return this.#session(token, (connection, connectionId) => ({
      type: 'whep.offer',
      roomId: connection.roomId,
      connectionId,
      participant: connection.participant,
      streamId,
      sdp,
      replyTo: connectionId,
    }));
  }

  /** Admits the token's participant, sends the node the command, and waits for its answer. */
  async #session(
    token: string | undefined,
    command: (connection: ConnectionRecord, connectionId: string) => NodeCommandInput,
  ): Promise<{ sessionId: string; sdp: string }> {
    const sessionId = randomUUID();
    const connectionId = connectionOf(sessionId);
    const admitted = await this.#d.signaling.connect(connectionId, token);
    if (!admitted.ok) throw refusal(admitted.status, admitted.message);
    try {
      const connection = await this.#d.connections.get(connectionId);
      if (!connection) throw new TesseraError(ErrorCodes.unexpected, 'the session was not recorded');
      await this.#d.commands.send(connection.nodeId, command(connection, connectionId));
      const reply = WhipReplySchema.safeParse(await this.#d.replies.wait(connectionId, ANSWER_WITHIN_MS));
      if (!reply.success)
        throw new TesseraError(ErrorCodes.clusterUnavailable, 'the media node did not answer in time');
      if (!reply.data.ok)
        throw new TesseraError(reply.data.error.code as ErrorCode, reply.data.error.message);
      return { sessionId, sdp: reply.data.sdp };
    } catch (error) {
      await this.#d.signaling.disconnect(connectionId, { left: true }).catch((e) => {
        this.#d.logger.warn('a refused WHIP/WHEP session was not fully cleaned up', { error: e });
      });
      // Nobody joined: the token may be used again (an offer fixed, another stream asked for).
      if (token) await this.#d.signaling.restoreToken(token).catch(() => {});
      throw error;
    }
  }

  /** Ends the session (the participant leaves, its stream goes); false when there is none. */
  async end(sessionId: string): Promise<boolean> {
    const connectionId = connectionOf(sessionId);
    if (!(await this.#d.connections.get(connectionId))) return false;
    await this.#d.signaling.disconnect(connectionId, { left: true });
    return true;
  }
}

const connectionOf = (sessionId: string) => `whip:${sessionId}`;

/** $connect's refusals, as the errors the edge maps (401, 404, 403 room full, 503). */
function refusal(status: number, message: string): TesseraError {
  if (status === 401) return new AuthenticationError(message);
  if (status === 404) return new NotFoundError(ErrorCodes.roomNotFound, message);
  if (status === 403) return new LimitError(message);
  return new TesseraError(ErrorCodes.clusterUnavailable, message);
}
