import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { ErrorCodes, TesseraError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { RoomStore } from '../../shared/ports/durable.ts';
import type { ConnectionGateway, ConnectionStore } from '../../shared/ports/gateway.ts';
import type { ParticipantStore } from '../../shared/ports/live.ts';
import {
  MAX_MESSAGE_BYTES,
  methodParams,
  RequestSchema,
  type SignalingResponse,
} from '../../shared/protocol/signaling.ts';
import type { Commands } from '../services/Commands.ts';
import type { JoinTokens } from '../services/JoinTokens.ts';

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
  /** Whether a session on this node may stay there when it logs in again (not failed, not draining). */
  canKeep?(nodeId: string): Promise<boolean>;
  logger: Logger;
}

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

  /** $connect: a valid, unspent join token for an existing room with space left, or no socket. */
  async connect(connectionId: string, token: string | undefined): Promise<ConnectResult> {
    try {
      if (!token) return { ok: false, status: 401, message: 'missing token' };
      let roomId: unknown;
      try {
        roomId = decodeJwt(token).room;
      } catch {
        return { ok: false, status: 401, message: 'join token invalid' };
      }
      if (typeof roomId !== 'string' || roomId.length > 64)
        return { ok: false, status: 401, message: 'join token invalid' };
      const claims = await this.#d.tokens.redeem(token, roomId);
      const room = await this.#d.rooms.get(roomId);
      if (!room) return { ok: false, status: 404, message: 'room not found' };
      const limit = room.options.participantLimit;
      if (limit >= 0 && (await this.#d.participants.list(roomId)).length >= limit) {
        return { ok: false, status: 403, message: 'room is full' };
      }
      const nodeId = await this.#d.place(roomId, claims.preference);
      const participant = {
        id: randomUUID(),
        user: claims.user,
        role: claims.role,
        permission: claims.permission,
      };
      await this.#d.connections.put({ connectionId, roomId, nodeId, participant });
      await this.#d.participants.put({
        ...participant,
        roomId,
        joinedAt: new Date().toISOString(),
        version: 1,
      });
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

  /** $default: one request. Malformed input is answered here, without a trip to the node. */
  async message(connectionId: string, raw: string): Promise<void> {
    const fail = (id: string | number | null, code: number, message: string) =>
      this.#reply(connectionId, { id, ok: false, error: { code, message } });
    if (Buffer.byteLength(raw) > MAX_MESSAGE_BYTES)
      return fail(null, ErrorCodes.invalidRequest, 'message too large');
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return fail(null, ErrorCodes.invalidRequest, 'message is not JSON');
    }
    const envelope = RequestSchema.safeParse(body);
    const id = idOf(body);
    if (!envelope.success) {
      return fail(
        id,
        ErrorCodes.invalidRequest,
        `invalid request: ${envelope.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      );
    }
    const request = envelope.data;
    const params = methodParams[request.method].safeParse(request.params ?? {});
    if (!params.success) {
      return fail(
        request.id,
        ErrorCodes.invalidRequest,
        `invalid ${request.method} params: ${params.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      );
    }
    let connection = await this.#d.connections.get(connectionId);
    if (!connection) return fail(request.id, ErrorCodes.authenticationFailed, 'not connected');
    if (request.method === 'login' && this.#d.canKeep && !(await this.#d.canKeep(connection.nodeId))) {
      // Failover or drain: the participant's node died or is leaving; logging in again moves it.
      const nodeId = await this.#d.place(connection.roomId, {}, connection.nodeId);
      await this.#d.release?.(connection.roomId, connection.nodeId);
      connection = { ...connection, nodeId };
      await this.#d.connections.put(connection);
    }
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
      return fail(request.id, ErrorCodes.clusterUnavailable, 'media node unavailable');
    }
  }

  /** $disconnect: the participant is gone, however the socket ended. */
  async disconnect(connectionId: string): Promise<void> {
    const connection = await this.#d.connections.get(connectionId);
    if (!connection) return;
    await this.#d.connections.delete(connectionId);
    await this.#d.participants.delete(connection.roomId, connection.participant.id);
    await this.#d.release?.(connection.roomId, connection.nodeId);
    await this.#d.commands
      .send(connection.nodeId, {
        type: 'connection.closed',
        roomId: connection.roomId,
        connectionId,
        participantId: connection.participant.id,
      })
      .catch((error) => this.#d.logger.warn('could not tell the node about a closed connection', { error }));
  }

  async #reply(connectionId: string, response: SignalingResponse): Promise<void> {
    await this.#d.gateway.post(connectionId, response).catch(() => false);
  }
}

function idOf(body: unknown): string | number | null {
  const id = body && typeof body === 'object' && 'id' in body ? (body as { id: unknown }).id : null;
  return (typeof id === 'string' && id.length <= 64) || (typeof id === 'number' && Number.isInteger(id))
    ? id
    : null;
}
