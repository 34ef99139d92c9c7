import type { types as ms } from 'mediasoup';
import { ErrorCodes, TesseraError, ValidationError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ConnectionGateway } from '../../shared/ports/gateway.ts';
import type { NodeCommand } from '../../shared/protocol/commands.ts';
import {
  type Method,
  methodParams,
  type Params,
  type SignalingResponse,
} from '../../shared/protocol/signaling.ts';
import type { RoomRegistry } from '../sfu/RoomRegistry.ts';
import { consumerParams, methods, transportParams } from './methods.ts';

type SignalCommand = Extract<NodeCommand, { type: 'signal' }>;

/**
 * The node's signaling edge: validates each forwarded request against the protocol, runs the
 * method, and answers the connection exactly once. Errors are mapped to `{code, message}` here
 * and nowhere else.
 */
export class NodeSignaling {
  readonly #rooms: RoomRegistry;
  readonly #gateway: ConnectionGateway;
  readonly #logger: Logger;

  constructor(rooms: RoomRegistry, gateway: ConnectionGateway, logger: Logger) {
    this.#rooms = rooms;
    this.#gateway = gateway;
    this.#logger = logger;
  }

  async handle(command: SignalCommand): Promise<void> {
    const { request } = command;
    let response: SignalingResponse;
    try {
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
      const data =
        request.method === 'login'
          ? await this.#login(command, parsed.data as Params<'login'>)
          : await this.#run(command, request.method, parsed.data);
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
    const mayPublish = command.participant.permission.publish !== false;
    const maySubscribe = command.participant.permission.subscribe !== false;
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
