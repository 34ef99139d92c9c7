import type { types as ms } from 'mediasoup';
import type { Limits } from '../../shared/config/schema.ts';
import { ErrorCodes, LimitError, TesseraError, ValidationError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ConnectionGateway } from '../../shared/ports/gateway.ts';
import type { NodeCommand } from '../../shared/protocol/commands.ts';
import {
  type Method,
  methodParams,
  type Params,
  type SignalingResponse,
} from '../../shared/protocol/signaling.ts';
import { type Clock, KeyedRateLimiter } from '../../shared/rateLimit/TokenBucket.ts';
import type { RoomRegistry } from '../sfu/RoomRegistry.ts';
import { consumerParams, methods, transportParams } from './methods.ts';

type SignalCommand = Extract<NodeCommand, { type: 'signal' }>;

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

  constructor(
    rooms: RoomRegistry,
    gateway: ConnectionGateway,
    logger: Logger,
    limits: SignalingLimits,
    now?: Clock,
  ) {
    this.#rooms = rooms;
    this.#gateway = gateway;
    this.#logger = logger;
    this.#limits = limits;
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
    let response: SignalingResponse;
    try {
      this.#checkRates(command);
      const parsed = methodParams[request.method].safeParse(request.params ?? {});
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({
          path: i.path.map(String).join('.'),
          message: i.message,
        }));
        throw new ValidationError(
          `invalid ${request.method} params: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
          issues,
        );
      }
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
    await this.#gateway.post(command.connectionId, response).catch(() => false);
  }

  async #login(command: SignalCommand, params: Params<'login'>) {
    const room = await this.#rooms.open(command.roomId);
    const peer = await room.join(command.participant, command.connectionId);
    if (params.rtpCapabilities)
      peer.rtpCapabilities = params.rtpCapabilities as unknown as ms.RtpCapabilities;
    // `{audio: false, video: false}` (a viewer) is no permission at all: no transport for it.
    const mayPublish = peer.mayPublishAny();
    const maySubscribe = peer.maySubscribeAny();
    const [send, recv] = await Promise.all([
      mayPublish ? room.createTransport(peer, 'send') : undefined,
      maySubscribe ? room.createTransport(peer, 'recv') : undefined,
    ]);
    // Paused consumers for what is already published: the client can receive after one more
    // round trip (transport.connect with `resume`).
    const consumers = [];
    if (peer.rtpCapabilities && recv) {
      for (const stream of room.streams()) {
        if (stream.owner === peer.info.id || stream.kind === 'data' || !peer.maySubscribe(stream.kind))
          continue;
        // A stream this device cannot receive (no common codec) is left out, not an error.
        const consumer = await room.subscribe(peer, stream.id).catch((e) => {
          if (e instanceof ValidationError) return undefined;
          throw e;
        });
        if (consumer) consumers.push(consumerParams(consumer));
      }
    }
    return {
      participant: { ...command.participant },
      room: {
        id: room.id,
        // Local participants and those on the room's other nodes.
        participants: room.participants(),
        streams: room.streams(),
      },
      routerRtpCapabilities: room.router.rtpCapabilities,
      transports: {
        ...(send ? { send: transportParams(send) } : {}),
        ...(recv ? { recv: transportParams(recv) } : {}),
      },
      consumers,
    };
  }

  async #run(command: SignalCommand, method: Exclude<Method, 'login'>, params: unknown) {
    const room = this.#rooms.get(command.roomId);
    const peer = room?.peer(command.participant.id);
    // Only the connection that logged in speaks for a peer.
    if (!room || !peer || peer.connectionId !== command.connectionId) {
      throw new TesseraError(ErrorCodes.authenticationFailed, 'log in first');
    }
    const handler = methods[method] as (ctx: unknown, p: unknown) => Promise<unknown>;
    return handler({ room, peer, leave: () => room.leave(peer.info.id) }, params);
  }

  #toError(error: unknown, method: Method): { code: number; message: string } {
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
