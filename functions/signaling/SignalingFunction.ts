import { randomUUID } from 'node:crypto';
import {
  AuthenticationError,
  ErrorCodes,
  LimitError,
  NotFoundError,
  TesseraError,
  ValidationError,
} from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { RoomStore } from '../../shared/ports/durable.ts';
import type { ConnectionGateway, ConnectionRecord, ConnectionStore } from '../../shared/ports/gateway.ts';
import type { ParticipantStore } from '../../shared/ports/live.ts';
import type { RateLimiter } from '../../shared/ports/rateLimit.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import {
  MAX_MESSAGE_BYTES,
  methodParams,
  type Params,
  RequestSchema,
  requestIdOf,
  type SignalingResponse,
} from '../../shared/protocol/signaling.ts';
import type { Commands } from '../services/Commands.ts';
import type { JoinClaims, JoinTokens } from '../services/JoinTokens.ts';

export interface SignalingDeps {
  tokens: JoinTokens;
  rooms: RoomStore;
  participants: ParticipantStore;
  connections: ConnectionStore;
  commands: Commands;
  gateway: ConnectionGateway;
  /** The media node for a new participant of the room (the join token's preference counts). */
  place(roomId: string, preference: { region?: string; isp?: string }, avoid?: string): Promise<string>;
  /** The participant left its node. */
  release?(roomId: string, nodeId: string): Promise<void>;
  /**
   * Whether a session on this node may stay there when it logs in again (not failed, not
   * draining); `failover`: the client found the node unresponsive, so a missed report is enough.
   */
  canKeep?(nodeId: string, failover: boolean): Promise<boolean>;
  /**
   * Frames one connection may send per second, counted across function instances, before they
   * are refused here (1303) instead of costing a command to the node: API Gateway itself does
   * not throttle per connection.
   */
  throttle?: { limiter: RateLimiter; framesPerSecond: number };
  logger: Logger;
}

/** The participant's room was deleted (or made again), or the participant was dropped. */
class PlaceGoneError extends NotFoundError {
  constructor() {
    super(ErrorCodes.roomNotFound, 'the room or your place in it is gone');
  }
}

/** Join tokens are a few hundred characters; anything far longer is not one. */
const MAX_TOKEN_CHARS = 4096;

export type ConnectResult = { ok: true } | { ok: false; status: 401 | 403 | 404 | 503; message: string };

/**
 * The stateless signaling function behind the WebSocket gateway ($connect, $default,
 * $disconnect). It authenticates the connection with a join token, checks every message
 * against the protocol, and forwards requests to the media node hosting the room, which
 * answers the connection itself. Nothing is kept between invocations.
 */
export class SignalingFunction {
  readonly #d: SignalingDeps;

  constructor(deps: SignalingDeps) {
    this.#d = deps;
  }

  /**
   * $connect: a valid, unspent join token for a room of the token's service that exists and is
   * the room the token was issued for (not an older room of the same id), with space left; or no
   * socket. A refused join gives the token back.
   */
  async connect(connectionId: string, token: string | undefined): Promise<ConnectResult> {
    try {
      if (!token) return { ok: false, status: 401, message: 'missing token' };
      if (token.length > MAX_TOKEN_CHARS) return { ok: false, status: 401, message: 'join token invalid' };
      const claims = await this.#d.tokens.verify(token);
      const room = await this.#d.rooms.get(claims.serviceId, claims.roomId);
      // A newer room under an old id looks exactly like a missing one.
      if (!room || room.createdAt !== claims.roomCreatedAt) {
        return { ok: false, status: 404, message: 'room not found' };
      }
      if (!(await this.#d.tokens.spend(claims)))
        return { ok: false, status: 401, message: 'join token already used' };
      const admitted = await this.#admit(connectionId, claims, room.options.participantLimit).catch(
        async (error) => {
          await this.#d.tokens.restore(claims).catch(() => {});
          throw error;
        },
      );
      if (!admitted) {
        await this.#d.tokens.restore(claims);
        return { ok: false, status: 403, message: 'room is full' };
      }
      return { ok: true };
    } catch (error) {
      if (error instanceof TesseraError && error.code === ErrorCodes.authenticationFailed) {
        return { ok: false, status: 401, message: error.publicMessage };
      }
      if (error instanceof TesseraError && error.code === ErrorCodes.clusterUnavailable) {
        return { ok: false, status: 503, message: error.publicMessage };
      }
      this.#d.logger.error('$connect failed', { error });
      return { ok: false, status: 503, message: 'unavailable' };
    }
  }

  /** Takes a place in the room (atomically against its limit), then records the connection. */
  async #admit(connectionId: string, claims: JoinClaims, limit: number): Promise<boolean> {
    // Live state, placement and the media node know the room by its key.
    const roomId = roomKey(claims.serviceId, claims.roomId);
    const participant = {
      id: randomUUID(),
      user: claims.user,
      role: claims.role,
      permission: claims.permission,
    };
    const admitted = await this.#d.participants.admit(
      { ...participant, roomId, joinedAt: new Date().toISOString(), version: 1 },
      limit,
    );
    if (!admitted) return false;
    try {
      const nodeId = await this.#d.place(roomId, claims.preference);
      await this.#d.connections.put({
        connectionId,
        roomId,
        nodeId,
        participant,
      });
      return true;
    } catch (error) {
      await this.#d.participants.delete(roomId, participant.id).catch(() => {});
      throw error;
    }
  }

  /** $default: one request, answered exactly once whatever happens (malformed input here, without a trip to the node). */
  async message(connectionId: string, raw: string): Promise<void> {
    let id: string | number | null = null;
    try {
      await this.#message(connectionId, raw, (known) => {
        id = known;
      });
    } catch (error) {
      await this.#reply(connectionId, { id, ok: false, error: this.#toError(error) });
      // Told why, then cut off: a socket with no place in the room has nothing left to ask.
      if (error instanceof PlaceGoneError) await this.#d.gateway.disconnect(connectionId).catch(() => {});
    }
  }

  /** Forwards a valid request to the participant's node; throws what the caller answers. */
  async #message(
    connectionId: string,
    raw: string,
    identified: (id: string | number | null) => void,
  ): Promise<void> {
    if (Buffer.byteLength(raw) > MAX_MESSAGE_BYTES)
      throw new ValidationError('message too large', [{ path: '(root)', message: 'over 128 KiB' }]);
    let body: unknown;
    let json = true;
    try {
      body = JSON.parse(raw);
      identified(requestIdOf(body));
    } catch {
      json = false;
    }
    // Every frame counts, garbage too: a flood stops here, before it costs the node anything.
    const throttle = this.#d.throttle;
    if (throttle && !(await throttle.limiter.take(`conn:${connectionId}`, throttle.framesPerSecond, 1000))) {
      throw new LimitError(
        `limit messagesPerSecond reached: at most ${throttle.framesPerSecond} frames per second per connection`,
      );
    }
    if (!json) throw new ValidationError('message is not JSON', []);
    const envelope = RequestSchema.safeParse(body);
    if (!envelope.success) {
      throw new ValidationError(`invalid request: ${describeIssues(envelope.error.issues)}`, []);
    }
    const request = envelope.data;
    let params: ReturnType<(typeof methodParams)[typeof request.method]['safeParse']>;
    try {
      params = methodParams[request.method].safeParse(request.params ?? {});
    } catch {
      // A refinement that cannot even measure the params (absurd nesting) is a refusal too.
      throw new ValidationError(`invalid ${request.method} params: too deeply nested`, []);
    }
    if (!params.success) {
      throw new ValidationError(
        `invalid ${request.method} params: ${describeIssues(params.error.issues)}`,
        [],
      );
    }
    let connection = await this.#d.connections.get(connectionId);
    if (!connection) throw new AuthenticationError('not connected');
    if (request.method === 'login')
      connection = await this.#beforeLogin(connection, (params.data as Params<'login'>).failover === true);
    try {
      await this.#d.commands.send(connection.nodeId, {
        type: 'signal',
        roomId: connection.roomId,
        connectionId,
        participant: connection.participant,
        request: { id: request.id, method: request.method, params: request.params ?? {} },
      });
    } catch (error) {
      this.#d.logger.error('forwarding a request failed', { error, method: request.method });
      throw new TesseraError(ErrorCodes.clusterUnavailable, 'media node unavailable');
    }
  }

  /**
   * A login (the first, or a rejoin) is only for a participant still in the room: deleting a
   * room (or its service) clears its live records, dropping a participant deletes its record,
   * and a room created again under the same id has none of the old ids, so the live record
   * alone answers all three with one Redis read. Its permissions are the ones the login gets
   * (REST may have changed them since the token was issued). A node that failed or drains is
   * swapped for a live one; with `failover` (the client's node stopped answering it), as soon
   * as the node has missed a report.
   */
  async #beforeLogin(connection: ConnectionRecord, failover: boolean): Promise<ConnectionRecord> {
    const live = await this.#d.participants.get(connection.roomId, connection.participant.id);
    if (!live) throw new PlaceGoneError();
    let next: ConnectionRecord = {
      ...connection,
      participant: { ...connection.participant, role: live.role, permission: live.permission },
    };
    if (this.#d.canKeep && !(await this.#d.canKeep(connection.nodeId, failover))) {
      // Failover or drain: the participant's node died or is leaving; logging in again moves it.
      const nodeId = await this.#d.place(connection.roomId, {}, connection.nodeId);
      await this.#d.release?.(connection.roomId, connection.nodeId);
      this.#d.logger.info('session moved off its node', { from: connection.nodeId, to: nodeId, failover });
      next = { ...next, nodeId };
    }
    if (JSON.stringify(next) !== JSON.stringify(connection)) await this.#d.connections.put(next);
    return next;
  }

  #toError(error: unknown): { code: number; message: string } {
    if (error instanceof TesseraError) return { code: error.code, message: error.publicMessage };
    this.#d.logger.error('$default failed', { error });
    return { code: ErrorCodes.unexpected, message: 'unexpected server error' };
  }

  /** $disconnect: the participant is gone, however the socket ended. */
  async disconnect(connectionId: string): Promise<void> {
    const connection = await this.#d.connections.get(connectionId);
    if (!connection) return;
    const { roomId, nodeId, participant } = connection;
    // Each step on its own, the connection record last: a step that fails leaves the record for
    // its TTL rather than a participant no one will ever remove.
    const steps = await Promise.allSettled([
      this.#d.commands.send(nodeId, {
        type: 'connection.closed',
        roomId,
        connectionId,
        participantId: participant.id,
      }),
      this.#d.participants.delete(roomId, participant.id),
      this.#d.release?.(roomId, nodeId),
    ]);
    const failed = steps.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed.length > 0) {
      this.#d.logger.warn('a closed connection was not fully cleaned up', { error: failed[0]!.reason });
      return;
    }
    await this.#d.connections.delete(connectionId);
  }

  async #reply(connectionId: string, response: SignalingResponse): Promise<void> {
    await this.#d.gateway.post(connectionId, response).catch(() => false);
  }
}

function describeIssues(issues: { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 8)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
