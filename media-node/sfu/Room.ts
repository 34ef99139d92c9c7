import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import {
  ErrorCodes,
  LimitError,
  PermissionError,
  TesseraError,
  ValidationError,
} from '../../shared/errors.ts';
import type { Permission } from '../../shared/protocol/http/liveState.ts';
import type { ResolvedView } from '../../shared/protocol/mcu.ts';
import type { ServerEvent, StreamAnnouncement } from '../../shared/protocol/signaling.ts';
import { routerMediaCodecs } from '../codecs/routerCodecs.ts';
import type { ParticipantSink } from './ParticipantSink.ts';
import { Peer, type PeerInfo, type PeerLimits, streamOfConsumer } from './Peer.ts';
import { RoomRouters, type RoomRoutersOptions, type RouterSlot } from './RoomRouters.ts';
import { type MediaTrack, type RoomStream, RoomStreams, type StreamOrigin } from './RoomStreams.ts';

export interface RoomOptions {
  id: string;
  worker: types.Worker;
  webRtcServer: types.WebRtcServer;
  /** Caps on what each participant holds (config.limits). */
  limits: PeerLimits;
  /** Participants per router before the room grows onto another worker of this node (0: no limit). */
  peersPerRouter?: number;
  growOnto?: RoomRoutersOptions['growOnto'];
}

type Events = {
  /**
   * A stream of this node (a participant's or a pipeline's, not one piped in) was added, paused
   * or resumed, or removed (for the live-state store and other nodes); by track.
   */
  streamadded: [StreamAnnouncement, StreamOrigin];
  streamupdated: [StreamAnnouncement];
  streamremoved: [string];
  /** A track piped in from another node of the room was added or removed (the MCU mixes those too). */
  pipedadded: [StreamAnnouncement];
  pipedremoved: [string];
  peerjoined: [Peer];
  /** A local participant's text for someone not on this node (everyone, or one on another node). */
  text: [{ from: string; to: string; message: string }];
  peerleft: [Peer];
  /** The room's views changed (`setViews`). */
  viewschanged: [readonly ResolvedView[]];
  /** The last hold was released: an empty room may close again. */
  released: [];
  close: [];
};

/** A participant's WebRtcTransports (on the worker's WebRtcServer); benchmarks use them too. */
export const PEER_TRANSPORT_OPTIONS = {
  enableUdp: true,
  enableTcp: true,
  preferUdp: true,
  enableSctp: true,
  initialAvailableOutgoingBitrate: 1_000_000,
} as const;

/**
 * A room on this media node: its routers (one worker, or several as it grows), its peers, and
 * the fan-out of events to their sinks. Protocol parsing lives in signaling/ and each peer's
 * transport of events in its sink; this class holds media state and the room's rules (who may
 * publish what, drops, pauses).
 */
export class Room extends EventEmitter<Events> {
  readonly id: string;
  readonly #routers: RoomRouters;
  readonly #speakers: types.ActiveSpeakerObserver;
  readonly #limits: PeerLimits;
  #holds = 0;
  readonly #peers = new Map<string, Peer>();
  /** Every track in the room, with its origin: a local peer, a pipe from another node, a pipeline. */
  readonly #streams = new RoomStreams();
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
  #views: readonly ResolvedView[] = [];
  /**
   * Set by the MCU (ViewMixers): the producer a peer's subscription to `producerId` consumes
   * instead, on the primary router (its own mix-minus of a view's mixed audio); undefined: as asked.
   */
  consumeResolver: ((peerId: string, producerId: string) => Promise<string | undefined>) | undefined;

  private constructor(options: RoomOptions, router: types.Router, speakers: types.ActiveSpeakerObserver) {
    super();
    this.id = options.id;
    this.#routers = new RoomRouters(
      { router, webRtcServer: options.webRtcServer, worker: options.worker },
      { peersPerRouter: options.peersPerRouter ?? 0, growOnto: options.growOnto },
    );
    this.#watch(this.#routers.all[0]!);
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

  /** The room's views as this node learned them (`views.configure`, on the host); none elsewhere. */
  views(): readonly ResolvedView[] {
    return this.#views;
  }

  /** Set by the `views.configure` handler (media-node/mcu): the latest wins. */
  setViews(views: readonly ResolvedView[]): void {
    this.#views = views;
    this.emit('viewschanged', views);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The primary router (the cascade to other nodes and the active-speaker observer live on it). */
  get router(): types.Router {
    return this.#routers.primary;
  }

  /** The primary router with its worker and WebRTC server (a WHEP session's router goes beside it). */
  get primarySlot(): RouterSlot {
    return this.#routers.all[0]!;
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

  /** Whether work asked of the room (a streaming-in, a recording…) keeps it open with nobody in it. */
  get held(): boolean {
    return this.#holds > 0;
  }

  /** Keeps the room open while empty until the returned release is called (idempotent). */
  hold(): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#holds === 0) this.emit('released');
    };
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

  /** A track and its origin (undefined for an unknown id). */
  stream(id: string): Readonly<RoomStream> | undefined {
    return this.#streams.get(id);
  }

  /** The tracks a stream id stands for: a publication's, or one track by its id (see RoomStreams). */
  producersOf(streamId: string): MediaTrack[] {
    return this.#streams.producersOf(streamId);
  }

  /** A media track of this node, a participant's or a pipeline's (what other nodes get piped). */
  localProducer(id: string): { producer: types.Producer; owner: string; source: string } | undefined {
    const s = this.#streams.get(id);
    if (!s || s.origin.kind === 'pipe' || s.announcement.kind === 'data' || s.producer.closed)
      return undefined;
    return {
      producer: s.producer as types.Producer,
      owner: s.announcement.owner,
      source: s.announcement.source,
    };
  }

  /**
   * A stream that no participant here publishes: piped in from another node (origin `pipe`), or
   * a pipeline's output (origin `pipeline`), produced on the room's primary router. Local peers
   * see it like any other; a pipeline's is this node's, so it is recorded and piped onwards too
   * (its `announcement.owner` names something, the pipeline's id say: the cascade needs one).
   */
  async addStream(
    producer: types.Producer,
    announcement: StreamAnnouncement,
    origin: StreamOrigin,
  ): Promise<void> {
    this.#streams.add({ producer, router: this.router, origin, announcement });
    if (announcement.kind === 'audio')
      await this.#speakers.addProducer({ producerId: producer.id }).catch(() => {});
    this.broadcast({ event: 'stream', data: { status: 'add', stream: announcement } });
    if (origin.kind !== 'pipe') this.emit('streamadded', announcement, origin);
    else this.emit('pipedadded', announcement);
  }

  /**
   * A pipeline's track (added with `addStream`) announces a change: a mixer's layout or active
   * input. Peers get a stream update; the stream record follows (`streamupdated`).
   */
  updateStream(id: string, change: Pick<StreamAnnouncement, 'layout' | 'activeInput'>): void {
    const stream = this.#streams.get(id);
    if (stream?.origin.kind !== 'pipeline') return;
    stream.announcement = { ...stream.announcement, ...change };
    this.broadcast({ event: 'stream', data: { status: 'update', stream: stream.announcement } });
    this.emit('streamupdated', stream.announcement);
  }

  /** Removes a track added with `addStream`, by its id (its producer closes). */
  withdrawStream(id: string): void {
    if (this.#streams.get(id)?.origin.kind !== 'participant') this.#removeStream(id);
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
  async join(info: PeerInfo, connectionId: string, sink?: ParticipantSink): Promise<Peer> {
    const previous = this.#peers.get(info.id);
    if (previous) this.leave(info.id, false);
    // A participant moving here from a failed node: its streams piped from there are dead.
    if (this.#remotePeers.delete(info.id)) {
      for (const s of this.#streams.pipedFrom(info.id)) this.#removeStream(s.announcement.id);
    }
    const peer = new Peer(info, connectionId, sink);
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
      ...PEER_TRANSPORT_OPTIONS,
      appData: { peerId: peer.info.id, direction },
    });
    peer.transports.set(transport.id, transport);
    return transport;
  }

  /**
   * A track of `peer`: the first of a publication (OWT stream) named by its id, or, with
   * `publication`, the next track of that one of the peer's publications (one per kind).
   */
  async publish(
    peer: Peer,
    transportId: string,
    kind: 'audio' | 'video',
    rtpParameters: types.RtpParameters,
    source: string,
    publication?: string,
  ) {
    if (!peer.mayPublish(kind)) throw new PermissionError(`role ${peer.info.role} may not publish ${kind}`);
    const transport = transportOf(peer, transportId);
    if (publication) this.#streams.checkJoin(peer.info.id, publication, kind);
    const release = peer.reserve('producers', this.#limits);
    let producer: types.Producer;
    try {
      producer = await transport.produce({ kind, rtpParameters, appData: { source } });
      // Checked again: the publication may have lost its tracks, or got this kind, meanwhile.
      if (publication) {
        try {
          this.#streams.checkJoin(peer.info.id, publication, kind);
        } catch (error) {
          producer.close();
          throw error;
        }
      }
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
      publication: publication ?? producer.id,
    };
    const origin: StreamOrigin = { kind: 'participant', participantId: peer.info.id };
    const router = this.#routers.of(peer.info.id).router;
    this.#streams.add({ producer, router, origin, peer, announcement });
    if (kind === 'audio') {
      // The active-speaker observer sees every audio stream, on the primary router.
      await this.ensureOn(producer.id, this.router).catch(() => {});
      await this.#speakers.addProducer({ producerId: producer.id }).catch(() => {});
    }
    this.broadcast({ event: 'stream', data: { status: 'add', stream: announcement } }, peer);
    this.emit('streamadded', announcement, origin);
    return producer;
  }

  unpublish(peer: Peer, producerId: string): void {
    const owned = peer.producers.get(producerId) ?? (peer.dataProducers.has(producerId) ? true : undefined);
    if (!owned) throw new TesseraError(ErrorCodes.streamNotFound, `no stream ${producerId} of yours`);
    this.#removeStream(producerId);
  }

  /**
   * A paused consumer of a producer (resumed when the client is ready). `standIn`: another
   * producer is consumed in its place, made on the subscriber's router (a transcoded track); it
   * is the caller's to close if the subscription fails.
   */
  async subscribe(
    peer: Peer,
    producerId: string,
    options: { standIn?: (router: types.Router) => Promise<string> } = {},
  ): Promise<types.Consumer> {
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
      if (!options.standIn)
        await this.ensureOn(producerId, target).catch((error) => {
          if (!gone()) throw error;
        });
      if (gone()) throw new TesseraError(ErrorCodes.streamNotFound, `stream ${producerId} is gone`);
      const consumed = options.standIn
        ? await options.standIn(target)
        : (target === this.router &&
            (await this.consumeResolver?.(peer.info.id, producerId).catch(() => undefined))) ||
          producerId;
      if (!target.canConsume({ producerId: consumed, rtpCapabilities: peer.rtpCapabilities })) {
        if (gone()) throw new TesseraError(ErrorCodes.streamNotFound, `stream ${producerId} is gone`);
        throw new ValidationError('your device cannot receive this stream', [
          { path: 'producerId', message: 'no common codec' },
        ]);
      }
      consumer = await transport
        // appData.streamId: the stream subscribed to, when another producer stands in for it
        // (mix-minus, a transcoded track).
        .consume({
          producerId: consumed,
          rtpCapabilities: peer.rtpCapabilities,
          paused: true,
          appData: { streamId: producerId },
        })
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
    this.#streams.add({
      producer: dataProducer,
      router: this.#routers.of(peer.info.id).router,
      origin: { kind: 'participant', participantId: peer.info.id },
      peer,
      announcement,
    });
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
      [...p.consumers.values()].filter((c) => streamOfConsumer(c) === producerId && !c.closed),
    );
    await Promise.all(consumers.map((c) => c.requestKeyFrame().catch(() => {})));
  }

  /** The owner pauses or resumes its own stream (signaling). */
  async setProducerPaused(peer: Peer, producerId: string, paused: boolean): Promise<void> {
    if (!peer.producers.has(producerId))
      throw new TesseraError(ErrorCodes.streamNotFound, `no stream ${producerId} of yours`);
    await this.#setPaused(producerId, undefined, paused);
  }

  // Intents of the room's owner (REST commands): each is a no-op (false) for a participant or
  // stream this node does not hold, since a command may reach every node of the room.

  /** Drops a participant: told why, removed from the room (the others see it leave), cut off. */
  async drop(participantId: string, reason = 'dropped by the room owner'): Promise<boolean> {
    const peer = this.#peers.get(participantId);
    if (!peer) return false;
    // The drop must not wait behind a login answer that may never go out.
    this.#held.delete(peer);
    await this.#post(peer, { event: 'drop', data: { reason } });
    this.leave(participantId);
    await peer.sink.close(reason).catch(() => {});
    return true;
  }

  /** A new permission: what it no longer allows (publications, data channels, subscriptions) stops now. */
  setPermission(participantId: string, permission: Permission): boolean {
    const peer = this.#peers.get(participantId);
    if (!peer) return false;
    peer.info.permission = permission;
    for (const [id, { producer }] of peer.producers)
      if (!peer.mayPublish(producer.kind)) this.#removeStream(id);
    // Data channels need some publish permission (see publishData).
    if (!peer.mayPublishAny()) for (const id of [...peer.dataProducers.keys()]) this.#removeStream(id);
    for (const consumer of peer.consumers.values()) if (!peer.maySubscribe(consumer.kind)) consumer.close();
    return true;
  }

  /**
   * Pauses or resumes a stream made here, a participant's or a pipeline's (a view's mixed
   * stream): its `kind` track, or all of it when undefined.
   */
  async pauseStream(
    streamId: string,
    kind: 'audio' | 'video' | undefined,
    paused: boolean,
  ): Promise<boolean> {
    if (this.#madeHere(streamId).length === 0) return false;
    await this.#setPaused(streamId, kind, paused);
    return true;
  }

  /** Removes a stream published here, every track of it (its subscribers see them go). */
  removeStream(streamId: string): boolean {
    const tracks = this.#producersOf(streamId);
    for (const track of tracks) this.#removeStream(track.announcement.id);
    return tracks.length > 0;
  }

  /** The room is deleted: everyone is told and cut off, and the room closes. */
  async end(reason = 'room deleted'): Promise<void> {
    const sinks = [...this.#peers.values()].map((p) => p.sink);
    // Told and then cut off (not before: a cut socket would lose the drop event), so that a
    // client that ignores the drop event keeps no socket into the room.
    await this.#close(reason, {});
    await Promise.all(sinks.map((sink) => sink.close(reason).catch(() => {})));
  }

  async #setPaused(streamId: string, kind: 'audio' | 'video' | undefined, paused: boolean): Promise<void> {
    const tracks = this.#madeHere(streamId).filter((t) => kind === undefined || t.announcement.kind === kind);
    for (const track of tracks) {
      await (paused ? track.producer.pause() : track.producer.resume());
      const announcement = this.#streams.setPaused(track.announcement.id, paused);
      if (!announcement) continue;
      this.broadcast({ event: 'stream', data: { status: 'update', stream: announcement } }, track.peer);
      this.emit('streamupdated', announcement);
    }
  }

  /**
   * The tracks of a stream published on this node by a participant (none for a remote, pipeline
   * or unknown one): a publication's tracks, or one track by its own id (#madeHere also takes a
   * pipeline's).
   */
  #producersOf(streamId: string): MediaTrack[] {
    return this.#streams.producersOf(streamId).filter((t) => t.peer !== undefined);
  }

  /** The tracks of a stream made on this node: a participant's or a pipeline's (not piped in). */
  #madeHere(streamId: string): MediaTrack[] {
    return this.#streams.producersOf(streamId).filter((t) => t.origin.kind !== 'pipe');
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
    return peer.sink.post(message).catch(() => false);
  }

  #removeStream(id: string): void {
    const stream = this.#streams.remove(id);
    if (!stream) return;
    stream.producer.close();
    this.broadcast({ event: 'stream', data: { status: 'remove', stream: stream.announcement } });
    if (stream.origin.kind !== 'pipe') this.emit('streamremoved', id);
    else this.emit('pipedremoved', id);
  }

  /** Closes the router and with it every transport; tells peers the room is gone. Idempotent. */
  close(reason = 'room closed', options: { rejoin?: boolean } = {}): void {
    void this.#close(reason, options);
  }

  /** Closes the room at once; the promise settles when the drop events are out. */
  #close(reason: string, options: { rejoin?: boolean }): Promise<unknown> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    const peers = [...this.#peers.values()];
    // Held events no longer matter; the drop must not wait for a login answer.
    for (const peer of peers) this.#held.delete(peer);
    const drop: ServerEvent = {
      event: 'drop',
      data: { reason, ...(options.rejoin ? { rejoin: true } : {}) },
    };
    const told = Promise.all(peers.map((peer) => this.#post(peer, drop)));
    for (const peer of peers) peer.close();
    this.#peers.clear();
    this.#routers.close();
    this.emit('close');
    return told;
  }
}

function transportOf(peer: Peer, transportId: string): types.WebRtcTransport {
  const transport = peer.transports.get(transportId);
  if (!transport) throw new TesseraError(ErrorCodes.notFound, `no transport ${transportId} of yours`);
  return transport;
}

const publicInfo = (info: PeerInfo) => ({ id: info.id, user: info.user, role: info.role });
