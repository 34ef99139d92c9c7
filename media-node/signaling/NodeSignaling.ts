import type { types as ms } from 'mediasoup';
import type { Limits } from '../../shared/config/schema.ts';
import { ErrorCodes, LimitError, TesseraError, ValidationError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { type ConnectionGateway, MessageTooLargeError } from '../../shared/ports/gateway.ts';
import type { NodeCommand } from '../../shared/protocol/commands.ts';
import { parseRoomKey } from '../../shared/protocol/http/roomKey.ts';
import { invalidInput } from '../../shared/protocol/issues.ts';
import {
  type IceServer,
  LOGIN_BUDGET,
  type LoginRoom,
  type Method,
  methodParams,
  type Params,
  type SignalingResponse,
} from '../../shared/protocol/signaling.ts';
import { type Clock, KeyedRateLimiter } from '../../shared/rateLimit/TokenBucket.ts';
import type { Peer } from '../sfu/Peer.ts';
import type { Room } from '../sfu/Room.ts';
import type { RoomRegistry } from '../sfu/RoomRegistry.ts';
import type { SubscriptionTranscoders } from '../transcoding/SubscriptionTranscoders.ts';
import { GatewaySink } from './GatewaySink.ts';
import { consumerParams, methods, resume, transportParams } from './methods.ts';
import { jsonBytes, page, snapshot } from './paging.ts';
import type { SessionKeeper } from './SessionKeeper.ts';

type SignalCommand = Extract<NodeCommand, { type: 'signal' }>;

/** How long a connection closed before its login is remembered (signals older than a minute are dropped). */
const CLOSED_EARLY_MS = 2 * 60 * 1000;
const MAX_CLOSED_EARLY = 100_000;

export type SignalingLimits = Pick<
  Limits,
  'messagesPerSecond' | 'textsPerSecond' | 'loginsPerParticipantPerMinute'
>;

/**
 * The node's signaling edge: validates each forwarded request against the protocol, runs the
 * method, and answers the connection exactly once. Errors are mapped to `{code, message}` here
 * and nowhere else.
 */
export class NodeSignaling {
  readonly #rooms: RoomRegistry;
  readonly #gateway: ConnectionGateway;
  readonly #logger: Logger;
  readonly #limits: SignalingLimits;
  /** Per connection; a connection's buckets go when its peer leaves (full ones are swept too). */
  readonly #messages: KeyedRateLimiter;
  readonly #texts: KeyedRateLimiter;
  /** Per participant, kept across its connections (a reconnect must not reset it). */
  readonly #logins: KeyedRateLimiter;
  /** Connections inside `login`: replacing their previous peer must not reset their buckets. */
  readonly #loggingIn = new Set<string>();
  /**
   * Connections reported closed before they had a peer here, until when: the queue does not keep
   * order, so their `login` may still arrive, and must not make a peer for a dead socket.
   */
  readonly #closedEarly = new Map<string, number>();
  readonly #now: Clock;
  readonly #sessions: SessionKeeper | undefined;
  /** TURN servers with fresh credentials for a login answer; set when the deployment runs TURN. */
  readonly #iceServersFor: ((participantId: string) => IceServer[]) | undefined;
  readonly #transcoders: SubscriptionTranscoders | undefined;
  readonly #observers: { signalingAnswered(method: string, ok: boolean, seconds: number): void } | undefined;

  constructor(
    rooms: RoomRegistry,
    gateway: ConnectionGateway,
    logger: Logger,
    limits: SignalingLimits,
    options: {
      now?: Clock;
      sessions?: SessionKeeper;
      iceServersFor?: ((participantId: string) => IceServer[]) | undefined;
      /** Transcoding on subscribe (a node that runs pipelines). */
      transcoders?: SubscriptionTranscoders | undefined;
      /** Times each answer for the node's metrics. */
      observers?: { signalingAnswered(method: string, ok: boolean, seconds: number): void } | undefined;
    } = {},
  ) {
    this.#observers = options.observers;
    const now = options.now;
    this.#sessions = options.sessions;
    this.#iceServersFor = options.iceServersFor;
    this.#transcoders = options.transcoders;
    this.#rooms = rooms;
    this.#gateway = gateway;
    this.#logger = logger;
    this.#limits = limits;
    this.#now = now ?? Date.now;
    const clock = now ? { now } : {};
    // Burst = 2 × rate: a client may catch up after a short stall (a join's opening requests).
    this.#messages = new KeyedRateLimiter({
      ratePerSecond: limits.messagesPerSecond,
      burst: 2 * limits.messagesPerSecond,
      ...clock,
    });
    this.#texts = new KeyedRateLimiter({
      ratePerSecond: limits.textsPerSecond,
      burst: 2 * limits.textsPerSecond,
      ...clock,
    });
    this.#logins = new KeyedRateLimiter({
      ratePerSecond: limits.loginsPerParticipantPerMinute / 60,
      burst: limits.loginsPerParticipantPerMinute,
      ...clock,
    });
    rooms.on('roomcreated', (room) =>
      room.on('peerleft', ({ connectionId }) => {
        if (this.#loggingIn.has(connectionId)) return;
        this.#messages.delete(connectionId);
        this.#texts.delete(connectionId);
      }),
    );
  }

  /** A connection closed before it had a peer on this node: a late `login` of it is refused. */
  closedBeforeLogin(connectionId: string): void {
    const now = this.#now();
    // Oldest first: expired marks go as new ones come; the map never outgrows the cap.
    for (const [id, until] of this.#closedEarly) {
      if (until > now && this.#closedEarly.size < MAX_CLOSED_EARLY) break;
      this.#closedEarly.delete(id);
    }
    this.#closedEarly.set(connectionId, now + CLOSED_EARLY_MS);
  }

  /** Rate-limit buckets held now (bounded: tests watch it). */
  get rateLimitKeys(): number {
    return this.#messages.size + this.#texts.size;
  }

  /** Refuses the request (1303, naming the limit) when its connection or participant is over a rate. */
  #checkRates(command: SignalCommand): void {
    const { connectionId, request } = command;
    const l = this.#limits;
    if (!this.#messages.take(connectionId)) {
      throw new LimitError(
        `rate limit messagesPerSecond: at most ${l.messagesPerSecond} signaling messages per second per connection`,
      );
    }
    if (request.method === 'text' && !this.#texts.take(connectionId)) {
      throw new LimitError(
        `rate limit textsPerSecond: at most ${l.textsPerSecond} text messages per second per connection`,
      );
    }
    if (request.method === 'login' && !this.#logins.take(command.participant.id)) {
      throw new LimitError(
        `rate limit loginsPerParticipantPerMinute: at most ${l.loginsPerParticipantPerMinute} logins per participant per minute`,
      );
    }
  }

  async handle(command: SignalCommand): Promise<void> {
    const { request } = command;
    const started = performance.now();
    let response: SignalingResponse;
    try {
      this.#checkRates(command);
      const parsed = methodParams[request.method].safeParse(request.params ?? {});
      if (!parsed.success) throw invalidInput(`${request.method} params`, parsed.error);
      let data: unknown;
      if (request.method === 'login') {
        this.#loggingIn.add(command.connectionId);
        try {
          data = await this.#login(command, parsed.data as Params<'login'>);
        } finally {
          this.#loggingIn.delete(command.connectionId);
        }
      } else {
        data = await this.#run(command, request.method, parsed.data);
      }
      response = { id: request.id, ok: true, data };
    } catch (error) {
      response = { id: request.id, ok: false, error: this.#toError(error, request.method) };
    }
    await this.#answer(command, response);
    this.#observers?.signalingAnswered(request.method, response.ok, (performance.now() - started) / 1000);
    // Events for this peer waited for its login answer (Room.loginAnswered).
    if (request.method === 'login') this.#rooms.get(command.roomId)?.loginAnswered(command.participant.id);
  }

  /**
   * Posts the one answer. One the gateway refuses as too large becomes an error answer, so the
   * client is never left waiting; other failures are logged (a gone connection is no failure).
   */
  async #answer(command: SignalCommand, response: SignalingResponse): Promise<void> {
    const { connectionId, request } = command;
    try {
      await this.#gateway.post(connectionId, response);
    } catch (error) {
      if (!(error instanceof MessageTooLargeError)) {
        this.#logger.error('signaling answer not delivered', { method: request.method, error });
        return;
      }
      this.#logger.error('signaling answer too large', { method: request.method, ...error.details });
      const refusal: SignalingResponse = {
        id: request.id,
        ok: false,
        error: { code: ErrorCodes.unexpected, message: 'answer too large' },
      };
      await this.#gateway
        .post(connectionId, refusal)
        .catch((e) =>
          this.#logger.error('signaling answer not delivered', { method: request.method, error: e }),
        );
    }
  }

  async #login(command: SignalCommand, params: Params<'login'>) {
    if ((this.#closedEarly.get(command.connectionId) ?? 0) > this.#now()) {
      throw new TesseraError(ErrorCodes.authenticationFailed, 'connection closed');
    }
    if (params.resume) {
      const kept = this.#rooms.get(command.roomId);
      const held = kept?.peer(command.participant.id);
      if (kept && held && !kept.closed && !held.closed) return this.#resume(command, kept, held);
      // Nothing kept here (the grace period passed, or the session moved): a fresh login.
    }
    const room = await this.#rooms.open(command.roomId);
    const peer = await room.join(
      command.participant,
      command.connectionId,
      new GatewaySink(this.#gateway, command.connectionId),
    );
    if (params.rtpCapabilities)
      peer.rtpCapabilities = params.rtpCapabilities as unknown as ms.RtpCapabilities;
    // `{audio: false, video: false}` (a viewer) is no permission at all: no transport for it.
    const mayPublish = peer.mayPublishAny();
    const maySubscribe = peer.maySubscribeAny();
    const [send, recv] = await Promise.all([
      mayPublish ? room.createTransport(peer, 'send') : undefined,
      maySubscribe ? room.createTransport(peer, 'recv') : undefined,
    ]);
    // The client's certificate is known: connected now, media flows as soon as ICE and DTLS do.
    const dtlsParameters = params.dtlsParameters as ms.DtlsParameters | undefined;
    const dtlsConnected = dtlsParameters !== undefined;
    if (dtlsParameters) await Promise.all([send, recv].map((t) => t?.connect({ dtlsParameters })));
    const answerRoom = roomLists(room, peer);
    // Consumers for the listed streams, within budget, paused until transport.connect `resume`s
    // them (or started below when the transports are connected already); the client subscribes
    // to the rest itself.
    const consumers = [];
    if (peer.rtpCapabilities && recv && params.subscribe !== false) {
      const mixedToo = params.subscribe === 'all';
      let bytes = 0;
      for (const stream of answerRoom.streams) {
        if (consumers.length >= LOGIN_BUDGET.maxConsumers) break;
        if (stream.owner === peer.info.id || stream.kind === 'data' || !peer.maySubscribe(stream.kind))
          continue;
        // A view's mixed stream carries the same people again: only for those who ask for it.
        if (stream.type === 'mixed' && !mixedToo) continue;
        // A stream this device cannot receive (no common codec) or gone meanwhile (its `remove`
        // event follows) is left out, not an error; past the consumer cap the login still
        // succeeds, with what fits.
        const consumer = await room.subscribe(peer, stream.id).catch((e) => {
          if (e instanceof ValidationError || e instanceof LimitError) return undefined;
          if (e instanceof TesseraError && e.code === ErrorCodes.streamNotFound) return undefined;
          throw e;
        });
        if (!consumer) continue;
        const params = consumerParams(consumer);
        bytes += jsonBytes(params);
        if (bytes > LOGIN_BUDGET.consumers) {
          consumer.close();
          break;
        }
        consumers.push(params);
      }
      // Their m-sections are in the client's first answer, before its DTLS can complete.
      if (dtlsConnected) await Promise.all(consumers.map((c) => resume(room.consumer(peer, c.id))));
    }
    return {
      participant: { ...command.participant },
      room: answerRoom,
      routerRtpCapabilities: room.router.rtpCapabilities,
      transports: {
        ...(send ? { send: transportParams(send) } : {}),
        ...(recv ? { recv: transportParams(recv) } : {}),
      },
      consumers,
      ...(dtlsConnected ? { dtlsConnected } : {}),
      ...(this.#iceServersFor ? { iceServers: this.#iceServersFor(command.participant.id) } : {}),
    };
  }

  /**
   * A resumed session: the new connection takes the kept peer over, with its transports,
   * producers and consumers untouched (media never stopped). The answer lists the room as a
   * login does, and what the peer holds now, so the client can catch up with what it missed.
   */
  #resume(command: SignalCommand, room: Room, peer: Peer) {
    const previous = peer.connectionId;
    const sink = new GatewaySink(this.#gateway, command.connectionId);
    const replaced =
      this.#sessions?.resume(room.id, peer, command.connectionId, sink) ??
      peer.attach(command.connectionId, sink);
    peer.info.role = command.participant.role;
    peer.info.permission = command.participant.permission;
    // A socket it replaces may still be open (the client gave up on it first): close it.
    if (previous !== command.connectionId) void replaced.close();
    return {
      resumed: true,
      participant: { ...command.participant },
      room: roomLists(room, peer),
      routerRtpCapabilities: room.router.rtpCapabilities,
      transports: {},
      consumers: [],
      held: {
        consumers: [...peer.consumers.keys()],
        producers: [...peer.producers.keys(), ...peer.dataProducers.keys()],
      },
    };
  }

  async #run(command: SignalCommand, method: Exclude<Method, 'login'>, params: unknown) {
    if (method === 'session.refresh' || method === 'stream.mix')
      throw new ValidationError(`${method} is answered by the signaling function`, []);
    const room = this.#rooms.get(command.roomId);
    const peer = room?.peer(command.participant.id);
    // Only the connection that logged in speaks for a peer.
    if (!room || !peer || peer.connectionId !== command.connectionId) {
      throw new TesseraError(ErrorCodes.authenticationFailed, 'log in first');
    }
    const handler = methods[method] as (ctx: unknown, p: unknown) => Promise<unknown>;
    // A logout is a departure for good: the participant's record goes too.
    const leave = () =>
      this.#sessions ? void this.#sessions.depart(room.id, peer.info.id) : room.leave(peer.info.id);
    const iceServersFor = this.#iceServersFor;
    const iceServers = iceServersFor ? () => iceServersFor(peer.info.id) : undefined;
    return handler(
      { room, peer, leave, transcoders: this.#transcoders, ...(iceServers ? { iceServers } : {}) },
      params,
    );
  }

  #toError(error: unknown, method: Method): NonNullable<SignalingResponse['error']> {
    // A limit's details name it (and what holds it: the existing subscription), for the client.
    if (error instanceof LimitError && error.details)
      return { code: error.code, message: error.publicMessage, details: { ...error.details } };
    if (error instanceof TesseraError) return { code: error.code, message: error.publicMessage };
    // mediasoup rejects media parameters it cannot use with these (its error classes are not
    // exported, their names are); the messages name the offending field.
    if (error instanceof Error && (error instanceof TypeError || error.name === 'UnsupportedError')) {
      return { code: ErrorCodes.invalidRequest, message: `${method}: ${error.message}` };
    }
    if (error instanceof Error && error.name === 'InvalidStateError') {
      return { code: ErrorCodes.conflict, message: `${method}: ${error.message}` };
    }
    this.#logger.error('signaling method failed', { method, error });
    return { code: ErrorCodes.unexpected, message: 'unexpected server error' };
  }
}

/**
 * The room as a login (or resume) answer lists it, within the gateway's frame limit whatever the
 * room size (LOGIN_BUDGET): the first page of participants (local ones and those on the room's
 * other nodes) and of streams, the rest by cursor. Small rooms fit whole: one round trip.
 */
function roomLists(room: Room, peer: Peer): LoginRoom {
  snapshot(room, peer);
  const participants = page(room, peer, 'participants', 0, LOGIN_BUDGET.participants);
  const streams = page(room, peer, 'streams', 0, LOGIN_BUDGET.streams);
  const cursors = {
    ...(participants.cursor ? { participants: participants.cursor } : {}),
    ...(streams.cursor ? { streams: streams.cursor } : {}),
  };
  return {
    // The room's own id, as the application named it (the node knows it by its key).
    id: parseRoomKey(room.id).roomId,
    participants: participants.items,
    streams: streams.items,
    ...(Object.keys(cursors).length ? { cursors } : {}),
  };
}
