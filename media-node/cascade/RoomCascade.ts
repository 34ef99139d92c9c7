import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import type { Logger } from '../../shared/logger.ts';
import type { CommandBus } from '../../shared/ports/commands.ts';
import type { RoomNodes } from '../../shared/ports/live.ts';
import type { NodeCommand, NodeCommandInput } from '../../shared/protocol/commands.ts';
import type { Room } from '../sfu/Room.ts';
import type { RtcOptions } from '../sfu/RoomRegistry.ts';

type PipeCommand = Extract<NodeCommand, { type: `pipe.${string}` | 'room.relay' }>;
type Endpoint = Extract<NodeCommand, { type: 'pipe.open' }>['endpoint'];

interface OutLink {
  linkId: string;
  transport: types.PipeTransport;
  connected: Promise<void>;
  connect(endpoint: Endpoint): Promise<void>;
}

export interface RoomCascadeOptions {
  room: Room;
  nodeId: string;
  roomNodes: RoomNodes;
  bus: CommandBus;
  rtc: RtcOptions;
  logger: Logger;
}

/**
 * A room that spans media nodes (OWT's InternalIn/InternalOut): every node hosting the room
 * pipes its local streams to the others over PipeTransports (SRTP), one one-way link per pair
 * of nodes, negotiated with commands. A stream crosses to a node once, however many subscribers
 * it has there. Participant joins and leaves are relayed too.
 */
export class RoomCascade {
  readonly #o: RoomCascadeOptions;
  /** One-way links to other nodes, by node (a promise: concurrent first uses share one link). */
  readonly #out = new Map<string, Promise<OutLink>>();
  readonly #outById = new Map<string, OutLink>();
  readonly #in = new Map<string, types.PipeTransport>();
  /** Which nodes each local stream is piped to (claimed before the pipe exists, so it happens once). */
  readonly #piped = new Map<string, Map<string, Promise<types.Consumer | undefined>>>();
  #closed = false;

  constructor(options: RoomCascadeOptions) {
    this.#o = options;
    const { room } = options;
    room.on('streamadded', (s) => {
      if (s.kind !== 'data') void this.#toOthers(async (node) => void (await this.#pipe(s.id, node)));
    });
    room.on('streamremoved', (id) => this.#unpipe(id));
    room.on('peerjoined', (peer) => void this.#toOthers((node) => this.#relay(node, 'join', peer.info)));
    room.on('peerleft', (peer) => void this.#toOthers((node) => this.#relay(node, 'leave', peer.info)));
    room.once('close', () => this.close());
  }

  /** Links in use (shown in the node's capacity report). */
  get pipes(): number {
    return this.#outById.size + this.#in.size;
  }

  /** The room just opened here: ask the room's other nodes for their streams and participants. */
  async start(): Promise<void> {
    await this.#toOthers((node) =>
      this.#send(node, { type: 'pipe.request', roomId: this.#o.room.id, fromNode: this.#o.nodeId }),
    );
  }

  async handle(c: PipeCommand): Promise<void> {
    const { room } = this.#o;
    switch (c.type) {
      case 'pipe.request':
        // Not awaited: piping waits for pipe.opened, a later command of this same room.
        void this.#answerRequest(c.fromNode);
        break;
      case 'pipe.open': {
        const transport = await this.#transport();
        await transport.connect(c.endpoint);
        this.#in.set(c.linkId, transport);
        await this.#send(c.fromNode, {
          type: 'pipe.opened',
          roomId: room.id,
          fromNode: this.#o.nodeId,
          linkId: c.linkId,
          endpoint: endpoint(transport),
        });
        break;
      }
      case 'pipe.opened':
        await this.#outById.get(c.linkId)?.connect(c.endpoint);
        break;
      case 'pipe.produce': {
        const transport = this.#in.get(c.linkId);
        if (!transport) throw new Error(`pipe.produce on unknown link ${c.linkId}`);
        if (room.streams().some((s) => s.id === c.producerId)) return; // a redelivered or repeated pipe
        const producer = await transport.produce({
          id: c.producerId,
          kind: c.kind,
          rtpParameters: c.rtpParameters as unknown as types.RtpParameters,
          appData: { owner: c.owner, source: c.source, fromNode: c.fromNode },
        });
        await room.addRemoteStream(producer, {
          id: producer.id,
          owner: c.owner,
          kind: c.kind,
          source: c.source,
          paused: false,
        });
        break;
      }
      case 'pipe.close':
        room.removeRemoteStream(c.producerId);
        break;
      case 'room.relay':
        room.relayParticipant(c.action, c.participant);
        break;
    }
  }

  async #answerRequest(node: string): Promise<void> {
    const { room } = this.#o;
    try {
      for (const p of room.participants()) if (room.peer(p.id)) await this.#relay(node, 'join', p);
      await Promise.all(
        room
          .streams()
          .filter((s) => s.kind !== 'data' && room.localProducer(s.id))
          .map((s) => this.#pipe(s.id, node)),
      );
    } catch (error) {
      this.#o.logger.warn('answering a pipe request failed', { node, error });
    }
  }

  #pipe(producerId: string, node: string): Promise<types.Consumer | undefined> {
    const targets = this.#piped.get(producerId) ?? new Map<string, Promise<types.Consumer | undefined>>();
    this.#piped.set(producerId, targets);
    const existing = targets.get(node);
    if (existing) return existing;
    const piping = (async () => {
      const local = this.#o.room.localProducer(producerId);
      if (!local) return undefined;
      const link = await this.#link(node);
      await link.connected;
      // Links live on the room's primary router; the stream may be on another of its routers.
      await this.#o.room.ensureOn(producerId, this.#o.room.router);
      const consumer = await link.transport.consume({ producerId });
      await this.#send(node, {
        type: 'pipe.produce',
        roomId: this.#o.room.id,
        fromNode: this.#o.nodeId,
        linkId: link.linkId,
        producerId,
        kind: consumer.kind,
        rtpParameters: consumer.rtpParameters as unknown as Record<string, unknown>,
        owner: local.owner,
        source: local.source,
      });
      return consumer;
    })();
    targets.set(node, piping);
    return piping;
  }

  #unpipe(producerId: string): void {
    const targets = this.#piped.get(producerId);
    if (!targets) return;
    this.#piped.delete(producerId);
    for (const [node, piping] of targets) {
      void piping.then((consumer) => consumer?.close()).catch(() => {});
      void this.#send(node, {
        type: 'pipe.close',
        roomId: this.#o.room.id,
        fromNode: this.#o.nodeId,
        producerId,
      });
    }
  }

  /** The one-way link to `node`, opened on first use. */
  #link(node: string): Promise<OutLink> {
    const existing = this.#out.get(node);
    if (existing) return existing;
    const opening = (async () => {
      const transport = await this.#transport();
      let connected!: () => void;
      const link: OutLink = {
        linkId: randomUUID(),
        transport,
        connected: new Promise<void>((r) => {
          connected = r;
        }),
        connect: async (e) => {
          await transport.connect(e);
          connected();
        },
      };
      this.#outById.set(link.linkId, link);
      await this.#send(node, {
        type: 'pipe.open',
        roomId: this.#o.room.id,
        fromNode: this.#o.nodeId,
        linkId: link.linkId,
        endpoint: endpoint(transport),
      });
      return link;
    })();
    this.#out.set(node, opening);
    return opening;
  }

  #transport(): Promise<types.PipeTransport> {
    const { listenIp } = this.#o.rtc;
    const announcedAddress = this.#o.rtc.pipeAnnouncedAddress ?? this.#o.rtc.announcedAddress;
    return this.#o.room.router.createPipeTransport({
      listenInfo: { protocol: 'udp', ip: listenIp, ...(announcedAddress ? { announcedAddress } : {}) },
      enableSrtp: true,
      enableRtx: true,
    });
  }

  #relay(
    node: string,
    action: 'join' | 'leave',
    p: { id: string; user: string; role: string },
  ): Promise<void> {
    return this.#send(node, {
      type: 'room.relay',
      roomId: this.#o.room.id,
      fromNode: this.#o.nodeId,
      action,
      participant: { id: p.id, user: p.user, role: p.role },
    });
  }

  async #toOthers(each: (node: string) => Promise<void>): Promise<void> {
    if (this.#closed) return;
    const nodes = Object.keys(await this.#o.roomNodes.counts(this.#o.room.id)).filter(
      (n) => n !== this.#o.nodeId,
    );
    await Promise.all(
      nodes.map((n) =>
        each(n).catch((error) => this.#o.logger.warn('cascade to node failed', { node: n, error })),
      ),
    );
  }

  async #send(node: string, input: Extract<NodeCommandInput, { type: PipeCommand['type'] }>): Promise<void> {
    await this.#o.bus.send(node, {
      ...input,
      id: randomUUID(),
      issuedAt: new Date().toISOString(),
    } as NodeCommand);
  }

  close(): void {
    this.#closed = true;
    for (const link of this.#outById.values()) link.transport.close();
    for (const transport of this.#in.values()) transport.close();
    this.#out.clear();
    this.#outById.clear();
    this.#in.clear();
  }
}

function endpoint(transport: types.PipeTransport): Endpoint {
  return {
    ip: transport.tuple.localAddress, // the announced address when one is configured
    port: transport.tuple.localPort,
    ...(transport.srtpParameters ? { srtpParameters: transport.srtpParameters } : {}),
  };
}
