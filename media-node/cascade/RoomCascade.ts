import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import type { Logger } from '../../shared/logger.ts';
import type { CommandBus } from '../../shared/ports/commands.ts';
import type { RoomNodes } from '../../shared/ports/live.ts';
import { type NodeCommand, type NodeCommandInput, newCommand } from '../../shared/protocol/commands.ts';
import type { StreamAnnouncement } from '../../shared/protocol/signaling.ts';
import type { Room } from '../sfu/Room.ts';
import type { RtcOptions } from '../sfu/RoomRegistry.ts';

type PipeCommand = Extract<NodeCommand, { type: `pipe.${string}` | 'room.relay' | 'room.text' }>;
type Endpoint = Extract<NodeCommand, { type: 'pipe.open' }>['endpoint'];
type ParticipantInfo = { id: string; user: string; role: string };
/** A node-to-node command as we describe it; #send says who sends it. */
type PeerInput =
  Extract<NodeCommandInput, { type: PipeCommand['type'] }> extends infer C
    ? C extends unknown
      ? Omit<C, 'fromNode' | 'fromInstance'>
      : never
    : never;

/** How long a link may wait for the other node's pipe.opened before it is given up (and retried on demand). */
const LINK_TIMEOUT_MS = 10_000;

interface OutLink {
  linkId: string;
  transport: types.PipeTransport;
  connected: Promise<void>;
  connect(endpoint: Endpoint): Promise<void>;
}

/** What this part of the room holds of one other node's part. */
interface PeerNode {
  /** The life of that node's part, learnt from its first command; a new one means it restarted. */
  instance?: string;
  /** The one-way link to it (a promise: concurrent first uses share one link). */
  out?: Promise<OutLink>;
  /** Its links to us, by link id. */
  in: Map<string, types.PipeTransport>;
  /** Our streams piped to it (claimed before the pipe exists, so it happens once). */
  piped: Map<string, Promise<types.Consumer | undefined>>;
  /** Its streams and participants, as it announced them here. */
  streams: Set<string>;
  participants: Map<string, ParticipantInfo>;
}

export interface RoomCascadeOptions {
  room: Room;
  nodeId: string;
  roomNodes: RoomNodes;
  bus: CommandBus;
  rtc: RtcOptions;
  logger: Logger;
  /** The media nodes alive now (undefined: unknown, every node counts as alive). */
  liveNodes?: () => Promise<Set<string> | undefined>;
}

/**
 * A room that spans media nodes (OWT's InternalIn/InternalOut): every node hosting the room
 * pipes its local streams to the others over PipeTransports (SRTP), one one-way link per pair
 * of nodes, negotiated with commands. A stream crosses to a node once, however many subscribers
 * it has there. Participant joins and leaves are relayed too.
 *
 * Nodes come and go: each part of the room has an instance id that its commands carry. A node
 * whose instance changes (it restarted), that says it left (pipe.leave) or that stops reporting
 * is forgotten (its links closed, its streams and participants removed here) and, when it talks
 * again, given everything afresh. Every command may be repeated.
 */
export class RoomCascade {
  readonly #o: RoomCascadeOptions;
  readonly instance = randomUUID();
  readonly #nodes = new Map<string, PeerNode>();
  /** Our links by id, for pipe.opened. */
  readonly #links = new Map<string, OutLink>();
  /** Lives of nodes forgotten for not reporting (`node/instance`). */
  readonly #pruned = new Set<string>();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: RoomCascadeOptions) {
    this.#o = options;
    const { room } = options;
    room.on('streamadded', (s) => {
      if (s.kind !== 'data') void this.#toOthers(async (node) => void (await this.#pipe(s.id, node)));
    });
    room.on('streamremoved', (id) => this.#unpipe(id));
    room.on('peerjoined', (peer) => void this.#toOthers((node) => this.#relay(node, 'join', peer.info)));
    room.on('peerleft', (peer) => void this.#toOthers((node) => this.#relay(node, 'leave', peer.info)));
    room.on(
      'text',
      (t) => void this.#toOthers((node) => this.#send(node, { type: 'room.text', roomId: room.id, ...t })),
    );
    room.once('close', () => void this.close());
  }

  /** Links in use (shown in the node's capacity report). */
  get pipes(): number {
    let n = 0;
    for (const peer of this.#nodes.values()) n += peer.in.size + (peer.out ? 1 : 0);
    return n;
  }

  /** Nodes this part of the room links with. */
  get peerNodes(): string[] {
    return [...this.#nodes.keys()];
  }

  /** The room just opened here: ask the room's other nodes for their streams and participants. */
  async start(): Promise<void> {
    await this.#toOthers((node) => this.#send(node, { type: 'pipe.request', roomId: this.#o.room.id }));
  }

  async handle(c: PipeCommand): Promise<void> {
    if (this.#closed) return;
    const { room } = this.#o;
    if (c.type === 'pipe.leave') {
      const known = this.#nodes.get(c.fromNode)?.instance;
      if (known === undefined || known === c.fromInstance) this.forget(c.fromNode);
      return;
    }
    // The same life of a node asking again: it forgot us (we looked dead to it); start over.
    if (c.type === 'pipe.request' && this.#nodes.get(c.fromNode)?.instance === c.fromInstance)
      this.#resetOut(c.fromNode);
    const first = this.#observe(c.fromNode, c.fromInstance);
    const peer = this.#peer(c.fromNode);
    // A node we gave up for dead talks again: it must send us its side afresh.
    if (first && this.#pruned.delete(`${c.fromNode}/${c.fromInstance}`) && c.type !== 'pipe.request')
      void this.#send(c.fromNode, { type: 'pipe.request', roomId: room.id }).catch(() => {});
    // A node heard from for the first time (or again after a restart) gets our side: links
    // are one-way, and it may not know we host the room.
    if (first || c.type === 'pipe.request') void this.#answer(c.fromNode);
    switch (c.type) {
      case 'pipe.open': {
        let transport = peer.in.get(c.linkId);
        if (!transport) {
          transport = await this.#transport();
          await transport.connect(c.endpoint);
          peer.in.set(c.linkId, transport);
        }
        await this.#send(c.fromNode, {
          type: 'pipe.opened',
          roomId: room.id,
          linkId: c.linkId,
          endpoint: endpoint(transport),
        });
        break;
      }
      case 'pipe.opened': {
        const link = this.#links.get(c.linkId);
        // A link given up or of an earlier life of ours: nothing waits for it.
        if (link && !link.transport.closed) await link.connect(c.endpoint).catch(() => {});
        break;
      }
      case 'pipe.produce': {
        const transport = peer.in.get(c.linkId);
        if (!transport || transport.closed) {
          this.#o.logger.warn('pipe.produce on an unknown link', { node: c.fromNode, linkId: c.linkId });
          return;
        }
        if (room.streams().some((s) => s.id === c.producerId)) return; // a repeated pipe
        const producer = await transport.produce({
          id: c.producerId,
          kind: c.kind,
          rtpParameters: c.rtpParameters as unknown as types.RtpParameters,
          appData: { owner: c.owner, source: c.source, fromNode: c.fromNode },
        });
        peer.streams.add(producer.id);
        producer.observer.once('close', () => peer.streams.delete(producer.id));
        await room.addStream(
          producer,
          {
            id: producer.id,
            owner: c.owner,
            kind: c.kind,
            source: c.source,
            paused: false,
            publication: c.publication ?? producer.id,
            ...(c.streamType === 'mixed' ? { type: 'mixed' as const } : {}),
          },
          { kind: 'pipe', fromNode: c.fromNode },
        );
        break;
      }
      case 'pipe.close':
        peer.streams.delete(c.producerId);
        room.withdrawStream(c.producerId);
        break;
      case 'room.text':
        room.deliverText(c.from, c.to, c.message);
        break;
      case 'room.relay':
        if (c.action === 'join') {
          // A participant is on one node: the latest to announce it.
          for (const other of this.#nodes.values()) other.participants.delete(c.participant.id);
          peer.participants.set(c.participant.id, c.participant);
        } else peer.participants.delete(c.participant.id);
        room.relayParticipant(c.action, c.participant);
        break;
    }
  }

  /** Records the node's instance; true when it is new to us (first contact, or it restarted). */
  #observe(node: string, instance: string): boolean {
    const known = this.#nodes.get(node)?.instance;
    if (known === instance) return false;
    if (known !== undefined) {
      this.#o.logger.info('room part on another node restarted', { roomId: this.#o.room.id, node });
      this.forget(node);
    }
    this.#peer(node).instance = instance;
    return true;
  }

  #peer(node: string): PeerNode {
    let peer = this.#nodes.get(node);
    if (!peer) {
      peer = { in: new Map(), piped: new Map(), streams: new Set(), participants: new Map() };
      this.#nodes.set(node, peer);
    }
    return peer;
  }

  /**
   * Drops everything held of a node's part of the room (it left, restarted or died): links
   * closed, its streams and participants removed for our participants. Idempotent.
   */
  forget(node: string): void {
    const peer = this.#nodes.get(node);
    if (!peer) return;
    this.#nodes.delete(node);
    const { room } = this.#o;
    for (const piping of peer.piped.values()) void piping.then((c) => c?.close()).catch(() => {});
    void peer.out
      ?.then((link) => {
        this.#links.delete(link.linkId);
        link.transport.close();
      })
      .catch(() => {});
    // Closing its links closes its producers, whose close empties peer.streams: read them first.
    const streams = [...peer.streams];
    for (const transport of peer.in.values()) transport.close();
    for (const id of streams) room.withdrawStream(id);
    for (const p of peer.participants.values()) room.relayParticipant('leave', p);
  }

  /** Forgets the nodes that are no longer alive (remembering which life, should it speak again). */
  prune(live: Set<string>): void {
    for (const [node, peer] of [...this.#nodes]) {
      if (live.has(node)) continue;
      if (peer.instance) this.#pruned.add(`${node}/${peer.instance}`);
      this.forget(node);
    }
  }

  /** Drops our links and pipes to a node (keeping what it sent us): the next answer starts over. */
  #resetOut(node: string): void {
    const peer = this.#nodes.get(node);
    if (!peer) return;
    for (const piping of peer.piped.values()) void piping.then((c) => c?.close()).catch(() => {});
    peer.piped.clear();
    const out = peer.out;
    peer.out = undefined;
    void out
      ?.then((link) => {
        this.#links.delete(link.linkId);
        link.transport.close();
      })
      .catch(() => {});
  }

  /** Gives a node our side of the room: our participants, and our streams over a link. */
  async #answer(node: string): Promise<void> {
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
      this.#o.logger.warn('giving a node our side of the room failed', { node, error });
    }
  }

  #pipe(producerId: string, node: string): Promise<types.Consumer | undefined> {
    const { room } = this.#o;
    const peer = this.#peer(node);
    const existing = peer.piped.get(producerId);
    if (existing) return existing;
    const piping = (async () => {
      const local = room.localProducer(producerId);
      if (!local) return undefined;
      const link = await this.#link(node, peer);
      await link.connected;
      // Links live on the room's primary router; the stream may be on another of its routers.
      // A stream unpublished meanwhile needs no pipe.
      const consumer = await room
        .ensureOn(producerId, room.router)
        .then(() => link.transport.consume({ producerId }))
        .catch((error) => {
          if (room.localProducer(producerId)) throw error;
          return undefined;
        });
      if (!consumer) return undefined;
      // Forgotten or unpublished meanwhile: nobody will close this consumer but us.
      if (this.#nodes.get(node) !== peer || !room.localProducer(producerId)) {
        consumer.close();
        return undefined;
      }
      await this.#send(node, {
        type: 'pipe.produce',
        roomId: room.id,
        linkId: link.linkId,
        producerId,
        kind: consumer.kind,
        rtpParameters: consumer.rtpParameters as unknown as Record<string, unknown>,
        owner: local.owner,
        source: local.source,
        ...publicationFields(room.stream(producerId)?.announcement),
      });
      return consumer;
    })();
    peer.piped.set(producerId, piping);
    // A failed pipe may be tried again (the node's next request, or a rebuilt link).
    piping.catch(() => {
      if (peer.piped.get(producerId) === piping) peer.piped.delete(producerId);
    });
    return piping;
  }

  #unpipe(producerId: string): void {
    for (const [node, peer] of this.#nodes) {
      const piping = peer.piped.get(producerId);
      if (!piping) continue;
      peer.piped.delete(producerId);
      void piping.then((consumer) => consumer?.close()).catch(() => {});
      void this.#send(node, { type: 'pipe.close', roomId: this.#o.room.id, producerId }).catch(() => {});
    }
  }

  /** The one-way link to `node`, opened on first use; given up if the node does not answer. */
  #link(node: string, peer: PeerNode): Promise<OutLink> {
    if (peer.out) return peer.out;
    const opening = (async () => {
      const transport = await this.#transport();
      let connected!: () => void;
      let failed!: (e: Error) => void;
      const link: OutLink = {
        linkId: randomUUID(),
        transport,
        connected: new Promise<void>((resolve, reject) => {
          connected = resolve;
          failed = reject;
        }),
        connect: async (e) => {
          await transport.connect(e);
          connected();
        },
      };
      link.connected.catch(() => {});
      const timer = setTimeout(() => failed(new Error(`no pipe.opened from ${node}`)), LINK_TIMEOUT_MS);
      timer.unref();
      void link.connected.then(
        () => clearTimeout(timer),
        () => {
          // Given up: the next use opens a new link.
          if (peer.out === opening) peer.out = undefined;
          this.#links.delete(link.linkId);
          transport.close();
        },
      );
      transport.observer.once('close', () => {
        clearTimeout(timer);
        failed(new Error('link closed'));
      });
      this.#links.set(link.linkId, link);
      await this.#send(node, {
        type: 'pipe.open',
        roomId: this.#o.room.id,
        linkId: link.linkId,
        endpoint: endpoint(transport),
      });
      return link;
    })();
    peer.out = opening;
    opening.catch(() => {
      if (peer.out === opening) peer.out = undefined;
    });
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

  #relay(node: string, action: 'join' | 'leave', p: ParticipantInfo): Promise<void> {
    return this.#send(node, {
      type: 'room.relay',
      roomId: this.#o.room.id,
      action,
      participant: { id: p.id, user: p.user, role: p.role },
    });
  }

  /**
   * Runs `each` for every other live node of the room: those placement counts in it, and those
   * that talked to us (counts lag behind failovers).
   */
  async #toOthers(each: (node: string) => Promise<void>): Promise<void> {
    if (this.#closed) return;
    const [counts, live] = await Promise.all([
      this.#o.roomNodes.counts(this.#o.room.id),
      this.#o.liveNodes?.() ?? undefined,
    ]);
    const nodes = new Set([...Object.keys(counts), ...this.#nodes.keys()]);
    nodes.delete(this.#o.nodeId);
    await Promise.all(
      [...nodes]
        .filter((n) => !live || live.has(n))
        .map((n) =>
          each(n).catch((error) => this.#o.logger.warn('cascade to node failed', { node: n, error })),
        ),
    );
  }

  async #send(node: string, input: PeerInput): Promise<void> {
    await this.#o.bus.send(
      node,
      newCommand({ ...input, fromNode: this.#o.nodeId, fromInstance: this.instance } as NodeCommandInput),
    );
  }

  /** Closes every link and tells the other nodes this part of the room is gone. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    const nodes = [...this.#nodes.keys()];
    for (const peer of this.#nodes.values()) {
      void peer.out?.then((link) => link.transport.close()).catch(() => {});
      for (const transport of peer.in.values()) transport.close();
    }
    this.#nodes.clear();
    this.#links.clear();
    await Promise.all(
      nodes.map((node) =>
        this.#send(node, { type: 'pipe.leave', roomId: this.#o.room.id }).catch((error) =>
          this.#o.logger.warn('pipe.leave not sent', { node, error }),
        ),
      ),
    );
  }
}

function endpoint(transport: types.PipeTransport): Endpoint {
  return {
    ip: transport.tuple.localAddress, // the announced address when one is configured
    port: transport.tuple.localPort,
    ...(transport.srtpParameters ? { srtpParameters: transport.srtpParameters } : {}),
  };
}

/** What keeps a piped track in its publication (OWT stream) on the other side. */
function publicationFields(a: StreamAnnouncement | undefined): {
  publication?: string;
  streamType?: 'mixed';
} {
  return {
    ...(a?.publication ? { publication: a.publication } : {}),
    ...(a?.type === 'mixed' ? { streamType: 'mixed' as const } : {}),
  };
}
