import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import {
  ErrorCodes,
  LimitError,
  PermissionError,
  TesseraError,
  ValidationError,
} from '../../shared/errors.ts';
import type { ConnectionGateway } from '../../shared/ports/gateway.ts';
import type { ServerEvent, StreamAnnouncement } from '../../shared/protocol/signaling.ts';
import { routerMediaCodecs } from '../codecs/routerCodecs.ts';
import { Peer, type PeerInfo, type PeerLimits } from './Peer.ts';
import { RoomRouters, type RoomRoutersOptions, type RouterSlot } from './RoomRouters.ts';

export interface RoomOptions {
  id: string;
  worker: types.Worker;
  webRtcServer: types.WebRtcServer;
  gateway: ConnectionGateway;
  /** Caps on what each participant holds (config.limits). */
  limits: PeerLimits;
  /** Participants per router before the room grows onto another worker of this node (0: no limit). */
  peersPerRouter?: number;
  growOnto?: RoomRoutersOptions['growOnto'];
}

type Events = {
  /** A local stream was published or removed (for the live-state store and other nodes). */
  streamadded: [StreamAnnouncement];
  streamremoved: [string];
  peerjoined: [Peer];
  /** A local participant's text for someone not on this node (everyone, or one on another node). */
  text: [{ from: string; to: string; message: string }];
  peerleft: [Peer];
  close: [];
};

/**
 * A room on this media node: its routers (one worker, or several as it grows), its peers, and
 * the fan-out of events to their connections. Protocol parsing lives in signaling/; this class
 * holds media state only.
 */
export class Room extends EventEmitter<Events> {
  readonly id: string;
  readonly #routers: RoomRouters;
  readonly #gateway: ConnectionGateway;
  readonly #speakers: types.ActiveSpeakerObserver;
  readonly #limits: PeerLimits;
  readonly #peers = new Map<string, Peer>();
  /** Every stream in the room: local ones with their peer, remote ones (piped in from another node) with their producer. */
  readonly #streams = new Map<
    string,
    { peer?: Peer; remote?: types.Producer; router: types.Router; announcement: StreamAnnouncement }
  >();
  /** Participants on the room's other nodes, as relayed by them. */
  readonly #remotePeers = new Map<string, { id: string; user: string; role: string }>();
  /**
   * Events for peers whose login answer is not out yet: sent after it, so that the client, which
   * applies the answer first, misses no stream added or removed after the answer's snapshot.
   */
  readonly #held = new WeakMap<Peer, ServerEvent[]>();
  /** Per peer, its latest consumers closed because their stream went (a late resume of one is answered 1004). */
  readonly #goneConsumers = new WeakMap<Peer, Set<string>>();
  #closed = false;

  private constructor(options: RoomOptions, router: types.Router, speakers: types.ActiveSpeakerObserver) {
    super();
    this.id = options.id;
    this.#routers = new RoomRouters(
      { router, webRtcServer: options.webRtcServer, worker: options.worker },
      { peersPerRouter: options.peersPerRouter ?? 0, growOnto: options.growOnto },
    );
    this.#watch(this.#routers.all[0]!);
    this.#gateway = options.gateway;
    this.#limits = options.limits;
    this.#speakers = speakers;
    speakers.on('dominantspeaker', ({ producer }) => {
      const owner = this.#streams.get(producer.id)?.announcement.owner;
      if (owner)
        this.broadcast({ event: 'activeSpeaker', data: { participantId: owner, producerId: producer.id } });
    });
  }

  static async create(options: RoomOptions): Promise<Room> {
    const router = await options.worker.createRouter({
      mediaCodecs: routerMediaCodecs,
      appData: { roomId: options.id },
    });
    const speakers = await router.createActiveSpeakerObserver({ interval: 300 });
    return new Room(options, router, speakers);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The primary router (the cascade to other nodes and the active-speaker observer live on it). */
  get router(): types.Router {
    return this.#routers.primary;
  }

  /** The workers the room spans on this node. */
  get workers(): types.Worker[] {
    return this.#routers.all.map((s) => s.worker);
  }

  #watch(slot: RouterSlot): void {
    // mediasoup closes a dead worker's routers before the worker reports its death.
    slot.router.observer.once('close', () =>
      slot.worker.died ? this.close('media worker failed; rejoin', { rejoin: true }) : this.close(),
    );
  }

  /** Makes a stream of this room available on `target` (it may live on another of the room's routers). */
  async ensureOn(id: string, target: types.Router): Promise<void> {
    const stream = this.#streams.get(id);
    if (stream) await this.#routers.pipe(id, stream.router, target, stream.announcement.kind === 'data');
  }

  get peers(): ReadonlyMap<string, Peer> {
    return this.#peers;
  }

  peer(id: string): Peer | undefined {
    return this.#peers.get(id);
  }

  streams(): StreamAnnouncement[] {
    return [...this.#streams.values()].map((s) => s.announcement);
  }

  /** Local participants, and those on the room's other nodes. */
  participants(): { id: string; user: string; role: string }[] {
    return [...[...this.#peers.values()].map((p) => publicInfo(p.info)), ...this.#remotePeers.values()];
  }

  /** A local producer (what other nodes get piped). */
  localProducer(id: string): { producer: types.Producer; owner: string; source: string } | undefined {
    const s = this.#streams.get(id);
    const local = s?.peer?.producers.get(id);
    return local && { producer: local.producer, owner: s!.announcement.owner, source: local.source };
  }

  /** A stream published on another node, arriving over a pipe: local peers see it like any other. */
  async addRemoteStream(producer: types.Producer, announcement: StreamAnnouncement): Promise<void> {
    this.#streams.set(producer.id, { remote: producer, router: this.router, announcement });
    if (announcement.kind === 'audio')
      await this.#speakers.addProducer({ producerId: producer.id }).catch(() => {});
    this.broadcast({ event: 'stream', data: { status: 'add', stream: announcement } });
  }

  removeRemoteStream(id: string): void {
    if (this.#streams.get(id)?.remote) this.#removeStream(id);
  }

  /** A participant joined or left on another node of the room. */
  relayParticipant(action: 'join' | 'leave', participant: { id: string; user: string; role: string }): void {
    // Relays may repeat or come late (a node restarted, a participant moved here): peers hear
    // of each change once, and never that someone here is elsewhere.
    if (action === 'join') {
      if (this.#peers.has(participant.id)) return;
      const known = this.#remotePeers.get(participant.id);
      this.#remotePeers.set(participant.id, participant);
      if (known && JSON.stringify(known) === JSON.stringify(participant)) return;
    } else if (!this.#remotePeers.delete(participant.id)) return;
    this.broadcast({ event: 'participant', data: { action, participant } });
  }

  /**
   * A text from a local peer: to everyone (here, and through the cascade on the room's other
   * nodes) or to one participant wherever it is in the room.
   */
  async text(from: Peer, to: string, message: string): Promise<void> {
    if (to === 'all') {
      this.broadcast({ event: 'text', data: { from: from.info.id, to: 'all', message } }, from);
      this.emit('text', { from: from.info.id, to, message });
      return;
    }
    const target = this.#peers.get(to);
    if (target) await this.send(target, { event: 'text', data: { from: from.info.id, to: 'me', message } });
    else if (this.#remotePeers.has(to)) this.emit('text', { from: from.info.id, to, message });
    else throw new TesseraError(ErrorCodes.participantNotFound, `no participant ${to}`);
  }

  /** A text relayed from another node of the room, for the peers here it is meant for. */
  deliverText(from: string, to: string, message: string): void {
    if (to === 'all') this.broadcast({ event: 'text', data: { from, to: 'all', message } });
    else {
      const target = this.#peers.get(to);
      if (target) void this.send(target, { event: 'text', data: { from, to: 'me', message } });
    }
  }

  /** Adds a peer, replacing a previous session of the same participant (a reconnect). */
  async join(info: PeerInfo, connectionId: string): Promise<Peer> {
    const previous = this.#peers.get(info.id);
    if (previous) this.leave(info.id, false);
    // A participant moving here from a failed node: its streams piped from there are dead.
    if (this.#remotePeers.delete(info.id)) {
      for (const [id, s] of this.#streams)
        if (s.remote && s.announcement.owner === info.id) this.#removeStream(id);
    }
    const peer = new Peer(info, connectionId);
    this.#held.set(peer, []);
    const grown = await this.#routers.assign(info.id);
    if (grown) this.#watch(grown);
    this.#peers.set(info.id, peer);
    this.broadcast({ event: 'participant', data: { action: 'join', participant: publicInfo(info) } }, peer);
    this.emit('peerjoined', peer);
    return peer;
  }

  leave(peerId: string, announce = true): void {
    const peer = this.#peers.get(peerId);
    if (!peer) return;
    this.#peers.delete(peerId);
    this.#routers.release(peerId);
    for (const producerId of peer.producers.keys()) this.#removeStream(producerId);
    for (const dataProducerId of peer.dataProducers.keys()) this.#removeStream(dataProducerId);
    peer.close();
    if (announce)
      this.broadcast({ event: 'participant', data: { action: 'leave', participant: publicInfo(peer.info) } });
    this.emit('peerleft', peer);
  }

  async createTransport(peer: Peer, direction: 'send' | 'recv'): Promise<types.WebRtcTransport> {
    const slot = this.#routers.of(peer.info.id);
    const transport = await slot.router.createWebRtcTransport({
      webRtcServer: slot.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      enableSctp: true,
      initialAvailableOutgoingBitrate: 1_000_000,
      appData: { peerId: peer.info.id, direction },
    });
    peer.transports.set(transport.id, transport);
    return transport;
  }

  async publish(
    peer: Peer,
    transportId: string,
    kind: 'audio' | 'video',
    rtpParameters: types.RtpParameters,
    source: string,
  ) {
    if (!peer.mayPublish(kind)) throw new PermissionError(`role ${peer.info.role} may not publish ${kind}`);
    const transport = transportOf(peer, transportId);
    const release = peer.reserve('producers', this.#limits);
    let producer: types.Producer;
    try {
      producer = await transport.produce({ kind, rtpParameters, appData: { source } });
      peer.producers.set(producer.id, { producer, source });
    } finally {
      release();
    }
    producer.observer.once('close', () => peer.producers.delete(producer.id));
    const announcement: StreamAnnouncement = {
      id: producer.id,
      owner: peer.info.id,
      kind,
      source,
      paused: false,
    };
    this.#streams.set(producer.id, { peer, router: this.#routers.of(peer.info.id).router, announcement });
    if (kind === 'audio') {
      // The active-speaker observer sees every audio stream, on the primary router.
      await this.ensureOn(producer.id, this.router).catch(() => {});
      await this.#speakers.addProducer({ producerId: producer.id }).catch(() => {});
    }
    this.broadcast({ event: 'stream', data: { status: 'add', stream: announcement } }, peer);
    this.emit('streamadded', announcement);
    return producer;
  }

  unpublish(peer: Peer, producerId: string): void {
    const owned = peer.producers.get(producerId) ?? (peer.dataProducers.has(producerId) ? true : undefined);
    if (!owned) throw new TesseraError(ErrorCodes.streamNotFound, `no stream ${producerId} of yours`);
    this.#removeStream(producerId);
  }

  /** A paused consumer of a producer (resumed when the client is ready). */
  async subscribe(peer: Peer, producerId: string): Promise<types.Consumer> {
    const stream = this.#streams.get(producerId);
    if (!stream || stream.announcement.kind === 'data')
      throw new TesseraError(ErrorCodes.streamNotFound, `no stream ${producerId}`);
    if (!peer.maySubscribe(stream.announcement.kind)) {
      throw new PermissionError(`role ${peer.info.role} may not subscribe to ${stream.announcement.kind}`);
    }
    if (!peer.rtpCapabilities)
      throw new ValidationError('log in with rtpCapabilities before subscribing', []);
    const transport = [...peer.transports.values()].find((t) => t.appData.direction === 'recv');
    if (!transport) throw new PermissionError('no receive transport');
    const release = this.#reserveSubscription(peer, producerId);
    // The stream may be removed (unpublished, replaced, its node gone) during any await below:
    // mediasoup then fails or hands out a consumer of a closed producer; either way it is gone.
    const gone = () => this.#streams.get(producerId) !== stream;
    let consumer: types.Consumer;
    try {
      const target = this.#routers.of(peer.info.id).router;
      await this.ensureOn(producerId, target).catch((error) => {
        if (!gone()) throw error;
      });
      if (gone()) throw new TesseraError(ErrorCodes.streamNotFound, `stream ${producerId} is gone`);
      if (!target.canConsume({ producerId, rtpCapabilities: peer.rtpCapabilities })) {
        if (gone()) throw new TesseraError(ErrorCodes.streamNotFound, `stream ${producerId} is gone`);
        throw new ValidationError('your device cannot receive this stream', [
          { path: 'producerId', message: 'no common codec' },
        ]);
      }
      consumer = await transport
        .consume({ producerId, rtpCapabilities: peer.rtpCapabilities, paused: true })
        .catch((error) => {
          throw gone() ? new TesseraError(ErrorCodes.streamNotFound, `stream ${producerId} is gone`) : error;
        });
      if (gone()) {
        consumer.close();
        throw new TesseraError(ErrorCodes.streamNotFound, `stream ${producerId} is gone`);
      }
      peer.consumers.set(consumer.id, consumer);
    } finally {
      release();
    }
    consumer.observer.once('close', () => peer.consumers.delete(consumer.id));
    consumer.on('producerclose', () => {
      this.#markGone(peer, consumer.id);
      consumer.close();
      void this.#post(peer, { event: 'progress', data: { status: 'consumerClosed', id: consumer.id } });
    });
    return consumer;
  }

  /**
   * A peer's consumer: 1004 for one closed because its stream went (the client may not have
   * heard yet), 1001 for an id that never was one of its consumers.
   */
  consumer(peer: Peer, consumerId: string): types.Consumer {
    const consumer = peer.consumers.get(consumerId);
    if (consumer && !consumer.closed) return consumer;
    if (this.#goneConsumers.get(peer)?.has(consumerId))
      throw new TesseraError(ErrorCodes.streamNotFound, `subscription ${consumerId}: its stream is gone`);
    throw new TesseraError(ErrorCodes.notFound, `no subscription ${consumerId}`);
  }

  /** Whether the peer's consumer was closed because its stream went. */
  consumerGone(peer: Peer, consumerId: string): boolean {
    return !peer.consumers.has(consumerId) && (this.#goneConsumers.get(peer)?.has(consumerId) ?? false);
  }

  #markGone(peer: Peer, consumerId: string): void {
    const gone = this.#goneConsumers.get(peer) ?? new Set<string>();
    this.#goneConsumers.set(peer, gone);
    gone.add(consumerId);
    // Only the latest matter: a client learns of the close within a round trip.
    if (gone.size > 256) gone.delete(gone.values().next().value!);
  }

  /** Data channels need a publish permission, audio or video: a viewer publishes nothing. */
  async publishData(
    peer: Peer,
    transportId: string,
    sctpStreamParameters: types.SctpStreamParameters,
    label: string,
    protocol: string,
  ) {
    if (!peer.mayPublishAny()) throw new PermissionError(`role ${peer.info.role} may not publish data`);
    const transport = transportOf(peer, transportId);
    const release = peer.reserve('dataProducers', this.#limits);
    let dataProducer: types.DataProducer;
    try {
      dataProducer = await transport.produceData({ sctpStreamParameters, label, protocol });
      peer.dataProducers.set(dataProducer.id, dataProducer);
      // A closed one no longer counts against the cap (nor lingers in the peer).
      const closed = dataProducer;
      closed.observer.once('close', () => peer.dataProducers.delete(closed.id));
    } finally {
      release();
    }
    const announcement: StreamAnnouncement = {
      id: dataProducer.id,
      owner: peer.info.id,
      kind: 'data',
      source: 'data',
      paused: false,
      label,
    };
    this.#streams.set(dataProducer.id, { peer, router: this.#routers.of(peer.info.id).router, announcement });
    this.broadcast({ event: 'stream', data: { status: 'add', stream: announcement } }, peer);
    return dataProducer;
  }

  async subscribeData(peer: Peer, dataProducerId: string): Promise<types.DataConsumer> {
    const stream = this.#streams.get(dataProducerId);
    if (stream?.announcement.kind !== 'data')
      throw new TesseraError(ErrorCodes.streamNotFound, `no data stream ${dataProducerId}`);
    const transport = [...peer.transports.values()].find((t) => t.appData.direction === 'recv');
    if (!transport) throw new PermissionError('no receive transport');
    const release = this.#reserveSubscription(peer, dataProducerId);
    let dataConsumer: types.DataConsumer;
    try {
      await this.ensureOn(dataProducerId, this.#routers.of(peer.info.id).router);
      dataConsumer = await transport.consumeData({ dataProducerId });
      peer.dataConsumers.set(dataConsumer.id, dataConsumer);
    } finally {
      release();
    }
    dataConsumer.observer.once('close', () => peer.dataConsumers.delete(dataConsumer.id));
    return dataConsumer;
  }

  /**
   * One subscription per stream and participant: a second `subscribe` to the same stream is
   * refused (1303, naming the existing subscription) rather than answered with it, since the
   * SDK would then set up the same consumer twice. Plus the participant's consumer cap.
   */
  #reserveSubscription(peer: Peer, producerId: string): () => void {
    const existing = peer.consumerOf(producerId);
    if (existing || peer.subscribing.has(producerId)) {
      throw new LimitError(
        `already subscribed to ${producerId}${existing ? ` (subscription ${existing.id})` : ''}: one subscription per stream`,
        { limit: 'subscriptionsPerStream', max: 1, ...(existing ? { subscription: existing.id } : {}) },
      );
    }
    const release = peer.reserve('consumers', this.#limits);
    peer.subscribing.add(producerId);
    return () => {
      peer.subscribing.delete(producerId);
      release();
    };
  }

  /**
   * Every local subscriber of the peer's stream asks it for a key frame: after its sender's media
   * path came back, decoders would otherwise wait seconds for one of their own requests.
   */
  async requestKeyFrames(peer: Peer, producerId: string): Promise<void> {
    const owned = peer.producers.get(producerId);
    if (!owned) throw new TesseraError(ErrorCodes.streamNotFound, `no stream ${producerId} of yours`);
    if (owned.producer.kind !== 'video') return;
    const consumers = [...this.#peers.values()].flatMap((p) =>
      [...p.consumers.values()].filter((c) => c.producerId === producerId && !c.closed),
    );
    await Promise.all(consumers.map((c) => c.requestKeyFrame().catch(() => {})));
  }

  async setProducerPaused(peer: Peer, producerId: string, paused: boolean): Promise<void> {
    const owned = peer.producers.get(producerId);
    if (!owned) throw new TesseraError(ErrorCodes.streamNotFound, `no stream ${producerId} of yours`);
    if (paused) await owned.producer.pause();
    else await owned.producer.resume();
    const stream = this.#streams.get(producerId)!;
    stream.announcement = { ...stream.announcement, paused };
    this.broadcast({ event: 'stream', data: { status: 'update', stream: stream.announcement } }, peer);
  }

  /** Sends an event to every peer but `except`. Gone connections are the gateway's to report. */
  broadcast(message: ServerEvent, except?: Peer): void {
    for (const peer of this.#peers.values()) if (peer !== except) void this.#post(peer, message);
  }

  send(peer: Peer, message: ServerEvent): Promise<boolean> {
    return this.#post(peer, message);
  }

  /** The peer's login was answered: the events held meanwhile go out now, in order. */
  loginAnswered(peerId: string): void {
    const peer = this.#peers.get(peerId);
    const held = peer && this.#held.get(peer);
    if (!peer || !held) return;
    this.#held.delete(peer);
    for (const message of held) void this.#post(peer, message);
  }

  #post(peer: Peer, message: ServerEvent): Promise<boolean> {
    const held = this.#held.get(peer);
    if (held) {
      held.push(message);
      return Promise.resolve(true);
    }
    return this.#gateway.post(peer.connectionId, message).catch(() => false);
  }

  #removeStream(id: string): void {
    const stream = this.#streams.get(id);
    if (!stream) return;
    this.#streams.delete(id);
    stream.peer?.producers.get(id)?.producer.close();
    stream.peer?.dataProducers.get(id)?.close();
    stream.remote?.close();
    this.broadcast({ event: 'stream', data: { status: 'remove', stream: stream.announcement } });
    if (stream.peer) this.emit('streamremoved', id);
  }

  /** Closes the router and with it every transport; tells peers the room is gone. Idempotent. */
  close(reason = 'room closed', options: { rejoin?: boolean } = {}): void {
    if (this.#closed) return;
    this.#closed = true;
    // Held events no longer matter; the drop must not wait for a login answer.
    for (const peer of this.#peers.values()) this.#held.delete(peer);
    this.broadcast({ event: 'drop', data: { reason, ...(options.rejoin ? { rejoin: true } : {}) } });
    for (const peer of this.#peers.values()) peer.close();
    this.#peers.clear();
    this.#routers.close();
    this.emit('close');
  }
}

function transportOf(peer: Peer, transportId: string): types.WebRtcTransport {
  const transport = peer.transports.get(transportId);
  if (!transport) throw new TesseraError(ErrorCodes.notFound, `no transport ${transportId} of yours`);
  return transport;
}

const publicInfo = (info: PeerInfo) => ({ id: info.id, user: info.user, role: info.role });
