import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  AuthenticationError,
  ErrorCodes,
  LimitError,
  NotFoundError,
  TesseraError,
  ValidationError,
} from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { checkAudioTranscode } from '../../shared/media/audioOut.ts';
import { checkVideoParameters, checkVideoTranscode } from '../../shared/media/videoOut.ts';
import type { Departures } from '../../shared/ports/departures.ts';
import type { RoomStore } from '../../shared/ports/durable.ts';
import type { ConnectionGateway, ConnectionRecord, ConnectionStore } from '../../shared/ports/gateway.ts';
import type { ParticipantStore } from '../../shared/ports/live.ts';
import type { RateLimiter } from '../../shared/ports/rateLimit.ts';
import type { ResumeTickets } from '../../shared/ports/sessions.ts';
import { parseRoomKey, roomKey } from '../../shared/protocol/http/roomKey.ts';
import { invalidInput } from '../../shared/protocol/issues.ts';
import {
  MAX_MESSAGE_BYTES,
  methodParams,
  type Params,
  RequestSchema,
  requestIdOf,
  type SessionInfo,
  type SignalingResponse,
} from '../../shared/protocol/signaling.ts';
import { httpStatusOf } from '../http/errorResponse.ts';
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
  /** Whether the node still runs (draining counts): it keeps a disconnected participant's place itself. */
  nodeAlive?(nodeId: string): Promise<boolean>;
  /** Resume tickets, and how sessions outlive their sockets (config.session, the gateway's age limit). */
  tickets: ResumeTickets;
  /** Departures of cut sessions whose node died, swept by the live nodes unless the session resumes. */
  departures?: Departures;
  session: { graceMs: number; ticketRefreshMs: number; maxConnectionMs?: number | undefined };
  /**
   * Frames one connection may send per second, counted across function instances, before they
   * are refused here (1303) instead of costing a command to the node: API Gateway itself does
   * not throttle per connection.
   */
  throttle?: { limiter: RateLimiter; framesPerSecond: number };
  logger: Logger;
  /**
   * `stream.mix`: the participant's own stream into or out of a view of its room (room key),
   * checked against the room's views and sent to its host; unset: refused as not available.
   */
  mix?(roomId: string, participantId: string, params: Params<'stream.mix'>): Promise<void>;
  /** A failover login stayed on its node (see #beforeLogin); never throws. */
  keptAfterFailover?(roomId: string, nodeId: string): Promise<void>;
}

/** The participant's room was deleted (or made again), the participant was dropped, or its session expired. */
class PlaceGoneError extends NotFoundError {
  constructor(message = 'the room or your place in it is gone') {
    super(ErrorCodes.roomNotFound, message);
  }
}

/** Join tokens are a few hundred characters; anything far longer is not one. */
const MAX_TOKEN_CHARS = 4096;
/** Resume tickets are 43 characters (32 random bytes, base64url). */
const MAX_TICKET_CHARS = 64;
/** A ticket outlives its refresh period this many times over while its socket is open. */
const TICKET_LIFETIMES = 3;

/** Tickets are stored under the hash of the secret the client holds. */
/** How long a login that took a resume ticket may be retried on its socket (see ResumeTickets.claim). */
const LOGIN_RETRY_WINDOW_MS = 30_000;

const ticketId = (secret: string) => createHash('sha256').update(secret).digest('base64url');

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
  async connect(connectionId: string, token: string | undefined, resume?: string): Promise<ConnectResult> {
    try {
      if (resume !== undefined) return await this.#reconnect(connectionId, resume);
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
      const refused = refusalOf(error);
      if (refused) return refused;
      this.#d.logger.error('$connect failed', { error });
      return { ok: false, status: 503, message: 'unavailable' };
    }
  }

  /**
   * A join admitted by connect() and then refused further on (a WHIP or WHEP offer the node
   * turned down) gives its token back, as a refused $connect does: the caller may try again.
   */
  async restoreToken(token: string): Promise<void> {
    if (token.length > MAX_TOKEN_CHARS) return;
    const claims = await this.#d.tokens.verify(token).catch(() => undefined);
    if (claims) await this.#d.tokens.restore(claims);
  }

  /**
   * $connect with a resume ticket: the participant's place must still exist (it keeps it for the
   * grace period after its socket closed). The ticket is taken by this connection's first login,
   * so a socket that dies before logging in leaves it usable for the next attempt.
   */
  async #reconnect(connectionId: string, secret: string): Promise<ConnectResult> {
    if (secret.length === 0 || secret.length > MAX_TICKET_CHARS)
      return { ok: false, status: 401, message: 'resume ticket invalid' };
    const id = ticketId(secret);
    const ticket = await this.#d.tickets.get(id);
    if (!ticket) return { ok: false, status: 401, message: 'resume ticket invalid or expired' };
    const live = await this.#d.participants.get(ticket.roomId, ticket.participant.id);
    if (!live) return { ok: false, status: 404, message: 'session ended' };
    await this.#d.connections.put({
      connectionId,
      roomId: ticket.roomId,
      nodeId: ticket.nodeId,
      participant: { ...ticket.participant, role: live.role, permission: live.permission },
      ticket: id,
      resuming: true,
    });
    return { ok: true };
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
    if (!envelope.success) throw invalidInput('request', envelope.error);
    const request = envelope.data;
    let params: ReturnType<(typeof methodParams)[typeof request.method]['safeParse']>;
    try {
      params = methodParams[request.method].safeParse(request.params ?? {});
    } catch {
      // A refinement that cannot even measure the params (absurd nesting) is a refusal too.
      throw new ValidationError(`invalid ${request.method} params: too deeply nested`, []);
    }
    if (!params.success) throw invalidInput(`${request.method} params`, params.error);
    let connection = await this.#d.connections.get(connectionId);
    if (!connection) throw new AuthenticationError('not connected');
    if (request.method === 'session.refresh') {
      const session = await this.#refresh(connection);
      await this.#reply(connectionId, { id: request.id, ok: true, data: session });
      return;
    }
    if (request.method === 'stream.mix') {
      // Answered here: the node may not be the room's host, and does not hold the room's views.
      if (!connection.ticket || connection.resuming) throw new AuthenticationError('log in first');
      if (!this.#d.mix) throw new TesseraError(ErrorCodes.notImplemented, 'mixing is not available');
      await this.#d.mix(connection.roomId, connection.participant.id, params.data as Params<'stream.mix'>);
      await this.#reply(connectionId, { id: request.id, ok: true, data: {} });
      return;
    }
    if (request.method === 'subscribe' || request.method === 'subscription.control')
      await this.#checkTranscode(connection, params.data as Params<'subscribe' | 'subscription.control'>);
    let forwarded = request.params ?? {};
    if (request.method === 'login') {
      const login = await this.#beforeLogin(connection, (params.data as Params<'login'>).failover === true);
      connection = login.connection;
      // Only a connection that came with a valid ticket resumes, whatever the client claims.
      forwarded = { ...(forwarded as object), resume: login.resumed };
    }
    try {
      await this.#d.commands.send(connection.nodeId, {
        type: 'signal',
        roomId: connection.roomId,
        connectionId,
        participant: connection.participant,
        request: { id: request.id, method: request.method, params: forwarded },
      });
    } catch (error) {
      this.#d.logger.error('forwarding a request failed', { error, method: request.method });
      throw new TesseraError(ErrorCodes.clusterUnavailable, 'media node unavailable');
    }
  }

  /**
   * Transcoding on subscribe is the room's to allow (`transcoding`, `mediaOut`): checked here,
   * where the room is one read away, before the node starts an encoder for it.
   */
  async #checkTranscode(
    connection: ConnectionRecord,
    params: Params<'subscribe' | 'subscription.control'>,
  ): Promise<void> {
    const video = 'video' in params ? params.video : undefined;
    const audio = 'audio' in params ? params.audio : undefined;
    if (!video && !audio) return;
    const { serviceId, roomId } = parseRoomKey(connection.roomId);
    const room = await this.#d.rooms.get(serviceId, roomId);
    if (!room) throw new PlaceGoneError();
    if (audio) checkAudioTranscode(room.options, audio);
    if (!video) return;
    if ('operation' in params) checkVideoParameters(room.options, video.parameters ?? {});
    else checkVideoTranscode(room.options, video);
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
  async #beforeLogin(
    connection: ConnectionRecord,
    failover: boolean,
  ): Promise<{ connection: ConnectionRecord; resumed: boolean }> {
    // Three independent calls at once (a login's latency is its round trips): the ticket's
    // claim, the live record, and whether the node may keep the session.
    const [previous, live, keep] = await Promise.all([
      // A resume ticket is single use: of two sockets racing with one ticket, one logs in. The
      // socket that won may ask again (its first login unanswered in time on a busy cluster).
      connection.ticket
        ? this.#d.tickets.claim(connection.ticket, connection.connectionId, LOGIN_RETRY_WINDOW_MS)
        : undefined,
      this.#d.participants.get(connection.roomId, connection.participant.id),
      this.#d.canKeep?.(connection.nodeId, failover) ?? true,
    ]);
    if (connection.resuming && !previous)
      throw new PlaceGoneError('resume ticket already used or expired; join again');
    if (!live) throw new PlaceGoneError();
    let record = live;
    if (connection.resuming) {
      // Back: a departure scheduled while it was away must not happen. The record's new version
      // tells a sweeper that raced with this cancel (it took the departure first) to keep it.
      record = { ...live, nodeId: connection.nodeId, version: live.version + 1 };
      await this.#d.participants.update(record).catch(() => {
        record = live;
      });
      await this.#d.departures?.cancel(connection.roomId, connection.participant.id);
    }
    const { resuming: _, ...rest } = connection;
    let next: ConnectionRecord = {
      ...rest,
      participant: { ...connection.participant, role: live.role, permission: live.permission },
    };
    if (!keep) {
      // Failover or drain: the participant's node died or is leaving; logging in again moves it.
      const nodeId = await this.#d.place(connection.roomId, {}, connection.nodeId);
      await this.#d.release?.(connection.roomId, connection.nodeId);
      this.#d.logger.info('session moved off its node', { from: connection.nodeId, to: nodeId, failover });
      next = { ...next, nodeId };
    } else if (failover) {
      // The node did not answer and kept the session: it may have restarted under the same id
      // with the placement intact, and forgotten the room's views.
      await this.#d.keptAfterFailover?.(connection.roomId, connection.nodeId);
    }
    // The record names the participant's node: REST commands for it go there (a failed write
    // leaves an older node or none, and commands then go to every node of the room).
    const nodeRecorded =
      record.nodeId !== next.nodeId
        ? this.#d.participants
            .update({ ...record, nodeId: next.nodeId, version: record.version + 1 })
            .catch(() => {})
        : undefined;
    const [session] = await Promise.all([this.#issueTicket(next), nodeRecorded]);
    next = { ...next, ticket: session.id };
    await this.#d.connections.put(next);
    // Before the login is forwarded: the ticket reaches the client ahead of the node's answer.
    await this.#d.gateway.post(connection.connectionId, { event: 'session', data: session.info });
    return { connection: next, resumed: connection.resuming === true };
  }

  /** A fresh ticket for the connection's participant, valid while the socket lives. */
  async #issueTicket(connection: ConnectionRecord): Promise<{ id: string; info: SessionInfo }> {
    const secret = randomBytes(32).toString('base64url');
    const id = ticketId(secret);
    const { graceMs, ticketRefreshMs, maxConnectionMs } = this.#d.session;
    await this.#d.tickets.put(
      id,
      {
        roomId: connection.roomId,
        nodeId: connection.nodeId,
        participant: connection.participant,
        connectionId: connection.connectionId,
      },
      TICKET_LIFETIMES * ticketRefreshMs,
    );
    return {
      id,
      info: {
        ticket: secret,
        graceMs,
        refreshMs: ticketRefreshMs,
        ...(maxConnectionMs ? { maxConnectionMs } : {}),
      },
    };
  }

  /** session.refresh: a new ticket replaces the connection's current one (which stops working). */
  async #refresh(connection: ConnectionRecord): Promise<SessionInfo> {
    if (!connection.ticket || connection.resuming) throw new AuthenticationError('log in first');
    if (!(await this.#d.tickets.take(connection.ticket)))
      throw new PlaceGoneError('your session was taken over or has ended');
    const session = await this.#issueTicket(connection);
    await this.#d.connections.put({ ...connection, ticket: session.id });
    return session.info;
  }

  #toError(error: unknown): { code: number; message: string } {
    if (error instanceof TesseraError) return { code: error.code, message: error.publicMessage };
    this.#d.logger.error('$default failed', { error });
    return { code: ErrorCodes.unexpected, message: 'unexpected server error' };
  }

  /**
   * $disconnect: the socket is gone. A client that said goodbye (`left`: it closed the socket
   * normally) leaves now; otherwise its node keeps its place for the grace period, in which its
   * resume ticket still works, and ends it after. When the node no longer runs, a goodbye is
   * ended here; otherwise the place waits for the session to resume onto a live node (one that
   * never comes back keeps its record: no live node holds a timer for it).
   */
  async disconnect(connectionId: string, how: { left?: boolean } = {}): Promise<void> {
    const connection = await this.#d.connections.get(connectionId);
    if (!connection) return;
    const { roomId, nodeId, participant, ticket } = connection;
    const nodeAlive = (await this.#d.nodeAlive?.(nodeId).catch(() => true)) ?? true;
    const graceMs = how.left ? 0 : this.#d.session.graceMs;
    if (!nodeAlive && graceMs > 0) await this.#scheduleDeparture(connection, graceMs).catch(() => {});
    // Each step on its own, the connection record last: a step that fails leaves the record for
    // its TTL rather than a participant no one will ever remove.
    const steps = await Promise.allSettled([
      this.#d.commands.send(nodeId, {
        type: 'connection.closed',
        roomId,
        connectionId,
        participantId: participant.id,
        graceMs,
        ...(ticket ? { session: true } : {}),
      }),
      // A node that no longer runs cannot end a goodbye itself. Without a goodbye the place and
      // ticket stay for the grace period: the session resumes and moves to a live node.
      nodeAlive || graceMs > 0 ? Promise.resolve() : this.#leave(roomId, participant.id, nodeId),
      ticket &&
        (graceMs > 0 ? this.#d.tickets.expire(ticket, graceMs) : this.#d.tickets.take(ticket).then(() => {})),
    ]);
    const failed = steps.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed.length > 0) {
      this.#d.logger.warn('a closed connection was not fully cleaned up', { error: failed[0]!.reason });
      return;
    }
    await this.#d.connections.delete(connectionId);
  }

  /**
   * A cut session whose node died: no node holds its grace timer, so the live nodes sweep its
   * departure when the grace period ends, unless it resumes first. Only while this connection's
   * ticket is unused: once taken, the session already lives on another connection. The record's
   * version is read first, so a resume that takes the ticket after this check bumps it after.
   */
  async #scheduleDeparture(connection: ConnectionRecord, graceMs: number): Promise<void> {
    const { roomId, participant, nodeId, ticket } = connection;
    const live = await this.#d.participants.get(roomId, participant.id);
    if (!live || !ticket || !(await this.#d.tickets.get(ticket))) return;
    await this.#d.departures?.schedule(
      { roomId, participantId: participant.id, nodeId, version: live.version },
      Date.now() + graceMs,
    );
  }

  /** The participant's departure, counted once: whoever deletes its record releases its node. */
  async #leave(roomId: string, participantId: string, nodeId: string): Promise<void> {
    if (await this.#d.participants.delete(roomId, participantId)) await this.#d.release?.(roomId, nodeId);
  }

  async #reply(connectionId: string, response: SignalingResponse): Promise<void> {
    await this.#d.gateway.post(connectionId, response).catch(() => false);
  }
}

/**
 * A typed error the caller may see (bad credentials, no media node, …) refuses the upgrade with
 * its code's status, where an upgrade can answer it; a failed store or anything else is ours to log.
 */
function refusalOf(error: unknown): ConnectResult | undefined {
  if (!(error instanceof TesseraError) || error.code === ErrorCodes.storageFailure) return undefined;
  const status = httpStatusOf(error.code);
  return status === 401 || status === 403 || status === 404 || status === 503
    ? { ok: false, status, message: error.publicMessage }
    : undefined;
}
