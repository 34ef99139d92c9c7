import type { types } from 'mediasoup-client';
import { Device } from 'mediasoup-client';
import type {
  IceServer,
  LoginRoom,
  Method,
  ParticipantsPage,
  ServerEvent,
  SignalingResponse,
  StreamAnnouncement,
  StreamsPage,
} from '../shared/protocol/signaling.ts';
import { Emitter } from './Emitter.ts';

export interface JoinOptions {
  /** The server's HTTP(S) base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  /** The signaling WebSocket URL; `<url>/ws` (ws/wss) by default, as the embedded server serves it. */
  signalingUrl?: string;
  /** A join token from your backend (POST /v1/rooms/{room}/tokens). */
  token: string;
  /** Subscribe to every stream as it appears (default true). */
  autoSubscribe?: boolean;
  requestTimeoutMs?: number;
  /** How often to check the path to the media node (ms; 0 turns it off and with it automatic rejoin). */
  healthCheckMs?: number;
  /** 'relay': media only through TURN (hides the client's addresses); 'all' by default. */
  iceTransportPolicy?: 'all' | 'relay';
  /** ICE servers to use instead of the TURN servers the login answer names. */
  iceServers?: IceServer[];
}

export interface Participant {
  id: string;
  user: string;
  role: string;
}

export interface RemoteTrack {
  streamId: string;
  owner: string;
  kind: 'audio' | 'video';
  track: MediaStreamTrack;
}

export interface PublishOptions {
  source?: 'mic' | 'camera' | 'screen-cast' | 'screen-audio';
  /** Three spatial layers (¼, ½, full resolution) so subscribers can pick one. Video only. */
  simulcast?: boolean;
  /** Preferred codec, e.g. 'video/VP9' or 'video/H264'; the browser's default otherwise. */
  codec?: string;
}

type ClientEvents = {
  participantjoined: [Participant];
  participantleft: [Participant];
  streamadded: [StreamAnnouncement];
  streamremoved: [StreamAnnouncement];
  track: [RemoteTrack];
  text: [{ from: string; to: 'me' | 'all'; message: string }];
  activespeaker: [{ participantId: string; producerId: string }];
  /** The server ended the session (dropped, room closed, node gone). */
  dropped: [{ reason: string }];
  /** The media node failed; the session is moving to another one. */
  rejoining: [];
  /** Back in the room on a live node, publishing again. */
  rejoined: [];
  closed: [];
};

export class TesseraClientError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'TesseraClientError';
  }
}

interface LoginResult {
  participant: Participant & { permission: unknown };
  room: LoginRoom;
  routerRtpCapabilities: types.RtpCapabilities;
  transports: { send?: types.TransportOptions; recv?: types.TransportOptions };
  consumers: ConsumerParams[];
  /** TURN servers with short-lived credentials, when the deployment runs TURN. */
  iceServers?: IceServer[];
}

interface ConsumerParams {
  id: string;
  producerId: string;
  kind: 'audio' | 'video';
  rtpParameters: types.RtpParameters;
}

/**
 * A participant's session in a Tessera room: join with a token, publish tracks, receive the
 * others'. Join milestones are recorded as performance marks (tessera:ws-open, login-sent,
 * login-done, recv-connect-sent, recv-connect-done, recv-connected). A 'track' listener gets
 * every remote track, including those that arrived before it was added. Joining takes one HTTP request (router capabilities, cacheable) and two signaling
 * round trips before media flows: `login` returns transports and paused consumers for what is
 * already published; connecting the receive transport resumes them. In a large room the answer
 * holds what fits the gateway's frame limit: `join` pages in the rest of the participant and
 * stream lists, and the streams that came without a consumer are subscribed to afterwards.
 */
export class TesseraClient extends Emitter<ClientEvents> {
  readonly participant: Participant;
  readonly participants = new Map<string, Participant>();
  readonly streams = new Map<string, StreamAnnouncement>();
  readonly #ws: WebSocket;
  readonly #device: Device;
  readonly #timeoutMs: number;
  readonly #autoSubscribe: boolean;
  readonly #pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void; timer: ReturnType<typeof setTimeout> }
  >();
  readonly #consumers = new Map<string, types.Consumer>();
  /** Live remote tracks by consumer id, replayed to every new 'track' listener. */
  readonly #remoteTracks = new Map<string, RemoteTrack>();
  readonly #producers = new Map<string, types.Producer>();
  /** What we publish, so a rejoin can publish it again. */
  readonly #published: { track: MediaStreamTrack; options: PublishOptions; streamId: string }[] = [];
  readonly #healthCheckMs: number;
  readonly #ice: Pick<JoinOptions, 'iceServers' | 'iceTransportPolicy'>;
  #health: ReturnType<typeof setInterval> | undefined;
  #rejoining: Promise<void> | undefined;
  #sendTransport: types.Transport | undefined;
  #recvTransport: types.Transport | undefined;
  #nextId = 1;
  #closed = false;
  /** Counts logins: work for an earlier session (a rejoin happened) stops. */
  #session = 0;
  /** While the lists are paged in: ids removed meanwhile, which a page must not bring back. */
  #removedWhilePaging: Set<string> | undefined;

  private constructor(ws: WebSocket, device: Device, participant: Participant, options: JoinOptions) {
    super();
    this.#ws = ws;
    this.#device = device;
    this.participant = participant;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#autoSubscribe = options.autoSubscribe ?? true;
    this.#healthCheckMs = options.healthCheckMs ?? 2000;
    this.#ice = { iceServers: options.iceServers, iceTransportPolicy: options.iceTransportPolicy };
  }

  static async join(options: JoinOptions): Promise<TesseraClient> {
    const base = options.url.replace(/\/$/, '');
    const device = new Device();
    const caps = await fetch(`${base}/v1/rtp-capabilities`).then((r) => r.json());
    await device.load({ routerRtpCapabilities: caps });
    const signaling = options.signalingUrl ?? `${base.replace(/^http/, 'ws')}/ws`;
    const ws = await openSocket(`${signaling}?token=${encodeURIComponent(options.token)}`);
    mark('ws-open');
    const client = new TesseraClient(ws, device, { id: '', user: '', role: '' }, options);
    ws.addEventListener('message', (e) => client.#onMessage(String(e.data)));
    ws.addEventListener('close', () => client.#onClose());
    mark('login-sent');
    const login = await client.#request<LoginResult>('login', { rtpCapabilities: device.rtpCapabilities });
    mark('login-done');
    await client.#applyLogin(login);
    client.#startHealthChecks();
    return client;
  }

  /**
   * Takes a login answer: who we are, who is here, fresh transports, and what to receive. A
   * large room's lists come in part (the answer fits the gateway's frame limit): the rest is
   * paged in before this resolves, and with autoSubscribe the streams that came without a
   * consumer are subscribed to afterwards, a few at a time.
   */
  async #applyLogin(login: LoginResult): Promise<void> {
    const session = ++this.#session;
    Object.assign(this.participant, {
      id: login.participant.id,
      user: login.participant.user,
      role: login.participant.role,
    });
    const listed: string[] = [];
    this.#addParticipants(login.room.participants);
    listed.push(...this.#addStreams(login.room.streams));
    if (login.transports.send)
      this.#sendTransport = this.#setUpSend(withIce(login.transports.send, login, this.#ice));
    if (login.transports.recv) {
      this.#recvTransport = this.#setUpRecv(
        withIce(login.transports.recv, login, this.#ice),
        login.consumers.map((c) => c.id),
      );
      // Streams published before we joined arrive as 'track' events too, once the caller has
      // had the chance to add listeners right after `await join()` (this runs a task later).
      setTimeout(() => {
        for (const c of login.consumers)
          void this.#consume(c, false).catch((e) => console.warn('tessera: consume failed', e));
      }, 0);
    }
    const cursors = login.room.cursors;
    if (cursors) {
      this.#removedWhilePaging = new Set();
      try {
        for (let cursor = cursors.participants; cursor; ) {
          const next: ParticipantsPage = await this.#request('room.participants', { cursor });
          this.#addParticipants(next.participants);
          cursor = next.cursor;
        }
        for (let cursor = cursors.streams; cursor; ) {
          const next: StreamsPage = await this.#request('room.streams', { cursor });
          listed.push(...this.#addStreams(next.streams));
          cursor = next.cursor;
        }
      } finally {
        this.#removedWhilePaging = undefined;
      }
    }
    if (this.#autoSubscribe && this.#recvTransport) {
      const received = new Set(login.consumers.map((c) => c.producerId));
      const rest = listed.filter((id) => !received.has(id) && this.streams.get(id)?.kind !== 'data');
      if (rest.length) void this.#subscribeEach(rest, session);
    }
  }

  /** Listed participants (from login or a page); an event may have told us of them already. */
  #addParticipants(list: Participant[]): void {
    for (const p of list)
      if (
        p.id !== this.participant.id &&
        !this.participants.has(p.id) &&
        !this.#removedWhilePaging?.has(p.id)
      )
        this.participants.set(p.id, p);
  }

  /** Listed streams (from login or a page); returns the ids new to us (not announced by an event meanwhile). */
  #addStreams(list: StreamAnnouncement[]): string[] {
    const added = [];
    for (const s of list) {
      if (this.streams.has(s.id) || this.#removedWhilePaging?.has(s.id)) continue;
      this.streams.set(s.id, s);
      if (s.owner !== this.participant.id) added.push(s.id);
    }
    return added;
  }

  /**
   * Subscribes to listed streams that came without a consumer, SUBSCRIBE_CONCURRENCY at a time.
   * A refusal for a stream this role or device cannot receive, or one gone since, is expected;
   * a limit (1303: request rate, consumers per participant) is retried after growing pauses and,
   * still refused, ends the whole run. Stops when the session rejoins or closes.
   */
  async #subscribeEach(ids: string[], session: number): Promise<void> {
    const queue = [...ids];
    const current = () => !this.#closed && this.#session === session;
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined && current(); id = queue.shift()) {
        for (let attempt = 1; current() && this.streams.has(id); attempt++) {
          try {
            await this.subscribe(id);
            break;
          } catch (e) {
            const code = e instanceof TesseraClientError ? e.code : 0;
            if (code === 1303 && attempt < 10) {
              await new Promise((r) => setTimeout(r, Math.min(500 * attempt, 3000)));
              continue;
            }
            if (code === 1303) queue.length = 0;
            if (![1004, 1102, 1301].includes(code)) console.warn('tessera: subscribe failed', e);
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: SUBSCRIBE_CONCURRENCY }, worker));
  }

  /**
   * A ping through signaling to the media node; unanswered, the session moves to a live node.
   * A ping refused for the request rate (1303, e.g. while subscribing to a large room) was
   * answered: the path is alive.
   */
  #startHealthChecks(): void {
    if (!this.#healthCheckMs) return;
    this.#health = setInterval(() => {
      if (this.#rejoining || this.#closed) return;
      this.#request('ping', {}, Math.min(1500, this.#healthCheckMs)).catch((e) => {
        if (!(e instanceof TesseraClientError && e.code === 1303)) void this.#rejoin();
      });
    }, this.#healthCheckMs);
  }

  /**
   * Rejoins after the media node failed: logs in again on the same signaling connection (the
   * signaling function places us on a live node), rebuilds the transports, republishes our
   * tracks and receives everyone again ('track' events with new tracks). Emits 'rejoining' and
   * 'rejoined'.
   */
  #rejoin(): Promise<void> {
    if (this.#rejoining || this.#closed) return this.#rejoining ?? Promise.resolve();
    this.#rejoining = (async () => {
      this.emit('rejoining');
      this.#sendTransport?.close();
      this.#recvTransport?.close();
      this.#sendTransport = undefined;
      this.#recvTransport = undefined;
      this.#consumers.clear();
      this.#remoteTracks.clear();
      this.#producers.clear();
      this.streams.clear();
      this.participants.clear();
      while (!this.#closed) {
        try {
          const login = await this.#request<LoginResult>(
            'login',
            { rtpCapabilities: this.#device.rtpCapabilities },
            2000,
          );
          await this.#applyLogin(login);
          for (const published of this.#published) {
            published.streamId = await this.#produce(published.track, published.options);
          }
          this.emit('rejoined');
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    })().finally(() => {
      this.#rejoining = undefined;
    });
    return this.#rejoining;
  }

  /** Adds a listener; a 'track' listener first receives every remote track already live. */
  override on<E extends keyof ClientEvents>(
    event: E,
    listener: (...args: ClientEvents[E]) => void,
  ): () => void {
    const off = super.on(event, listener);
    if (event === 'track')
      for (const remote of this.#remoteTracks.values()) (listener as (r: RemoteTrack) => void)(remote);
    return off;
  }

  /** The remote tracks being received now. */
  get remoteTracks(): RemoteTrack[] {
    return [...this.#remoteTracks.values()];
  }

  /** Publishes a local track; returns its stream id. The track stays the caller's (it is not stopped on close). */
  async publish(track: MediaStreamTrack, options: PublishOptions = {}): Promise<string> {
    const streamId = await this.#produce(track, options);
    this.#published.push({ track, options, streamId });
    return streamId;
  }

  async #produce(track: MediaStreamTrack, options: PublishOptions): Promise<string> {
    if (!this.#sendTransport) throw new TesseraClientError(1102, 'this role may not publish');
    const codec = options.codec
      ? this.#device.rtpCapabilities.codecs?.find(
          (c) => c.mimeType.toLowerCase() === options.codec!.toLowerCase(),
        )
      : undefined;
    const producer = await this.#sendTransport.produce({
      track,
      stopTracks: false,
      appData: { source: options.source ?? (track.kind === 'audio' ? 'mic' : 'camera') },
      ...(codec ? { codec } : {}),
      ...(options.simulcast && track.kind === 'video'
        ? {
            encodings: [
              { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
              { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
              { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
            ],
          }
        : {}),
    });
    this.#producers.set(producer.id, producer);
    return producer.id;
  }

  async unpublish(streamId: string): Promise<void> {
    this.#producers.get(streamId)?.close();
    this.#producers.delete(streamId);
    const at = this.#published.findIndex((p) => p.streamId === streamId);
    if (at >= 0) this.#published.splice(at, 1);
    await this.#request('unpublish', { producerId: streamId });
  }

  /** Receives a stream (done automatically unless autoSubscribe is false). */
  async subscribe(streamId: string): Promise<MediaStreamTrack> {
    const params = await this.#request<ConsumerParams>('subscribe', { producerId: streamId });
    return this.#consume(params, true);
  }

  /** Chooses which simulcast/SVC layer of a received stream arrives (0 = lowest). */
  async setPreferredLayers(streamId: string, spatialLayer: number, temporalLayer?: number): Promise<void> {
    const consumer = [...this.#consumers.values()].find((c) => c.producerId === streamId);
    if (!consumer) throw new TesseraClientError(1004, `not receiving ${streamId}`);
    await this.#request('subscription.control', {
      consumerId: consumer.id,
      operation: 'preferredLayers',
      spatialLayer,
      ...(temporalLayer !== undefined ? { temporalLayer } : {}),
    });
  }

  /** WebRTC statistics of a received stream (inbound-rtp, codec, candidate pair…). */
  async stats(streamId: string): Promise<RTCStatsReport | undefined> {
    return [...this.#consumers.values()].find((c) => c.producerId === streamId && !c.closed)?.getStats();
  }

  async sendText(message: string, to: string | 'all' = 'all'): Promise<void> {
    await this.#request('text', { to, message });
  }

  /** Opens a data channel to the room (an SCTP data producer); resolves once it is open. */
  async publishData(label: string): Promise<types.DataProducer> {
    if (!this.#sendTransport) throw new TesseraClientError(1102, 'this role may not publish');
    const producer = await this.#sendTransport.produceData({ label, ordered: true });
    await opened(producer);
    return producer;
  }

  async subscribeData(streamId: string): Promise<types.DataConsumer> {
    if (!this.#recvTransport) throw new TesseraClientError(1102, 'this role may not subscribe');
    const params = await this.#request<{
      id: string;
      dataProducerId: string;
      sctpStreamParameters: types.SctpStreamParameters;
      label: string;
      protocol: string;
    }>('data.subscribe', { dataProducerId: streamId });
    const consumer = await this.#recvTransport.consumeData(params);
    await opened(consumer);
    return consumer;
  }

  async leave(): Promise<void> {
    if (this.#closed) return;
    await this.#request('logout', {}).catch(() => {});
    this.#ws.close(1000);
    this.#onClose();
  }

  #setUpSend(options: types.TransportOptions): types.Transport {
    const transport = this.#device.createSendTransport(options);
    transport.on('connect', ({ dtlsParameters }, done, fail) => {
      this.#request('transport.connect', { transportId: transport.id, dtlsParameters }).then(
        () => done(),
        fail,
      );
    });
    transport.on('produce', ({ kind, rtpParameters, appData }, done, fail) => {
      this.#request<{ id: string }>('publish', {
        transportId: transport.id,
        kind,
        rtpParameters,
        source: appData.source,
      }).then(done, fail);
    });
    transport.on('producedata', ({ sctpStreamParameters, label, protocol }, done, fail) => {
      this.#request<{ id: string }>('data.publish', {
        transportId: transport.id,
        sctpStreamParameters,
        label,
        protocol,
      }).then(done, fail);
    });
    return transport;
  }

  /** `resumeOnConnect`: consumers from login, resumed by the server in the connect round trip. */
  #setUpRecv(options: types.TransportOptions, resumeOnConnect: string[]): types.Transport {
    const transport = this.#device.createRecvTransport(options);
    transport.on('connect', ({ dtlsParameters }, done, fail) => {
      mark('recv-connect-sent');
      this.#request('transport.connect', {
        transportId: transport.id,
        dtlsParameters,
        resume: resumeOnConnect,
      }).then(() => {
        mark('recv-connect-done');
        done();
      }, fail);
    });
    transport.on('connectionstatechange', (state) => {
      if (state === 'connected') mark('recv-connected');
    });
    return transport;
  }

  async #consume(params: ConsumerParams, resume: boolean): Promise<MediaStreamTrack> {
    const consumer = await this.#recvTransport!.consume(params);
    this.#consumers.set(consumer.id, consumer);
    if (resume) await this.#request('subscription.control', { consumerId: consumer.id, operation: 'resume' });
    const owner = this.streams.get(params.producerId)?.owner ?? '';
    const remote: RemoteTrack = {
      streamId: params.producerId,
      owner,
      kind: params.kind,
      track: consumer.track,
    };
    this.#remoteTracks.set(consumer.id, remote);
    consumer.observer.once('close', () => this.#remoteTracks.delete(consumer.id));
    this.emit('track', remote);
    return consumer.track;
  }

  #onMessage(raw: string): void {
    let message: SignalingResponse | ServerEvent;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if ('event' in message) {
      this.#onEvent(message);
      return;
    }
    const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
    if (!pending) return;
    this.#pending.delete(message.id as number);
    clearTimeout(pending.timer);
    if (message.ok) pending.resolve(message.data);
    else
      pending.reject(
        new TesseraClientError(message.error?.code ?? 2001, message.error?.message ?? 'request failed'),
      );
  }

  #onEvent(message: ServerEvent): void {
    switch (message.event) {
      case 'participant': {
        const p = message.data.participant;
        if (message.data.action === 'join') {
          this.participants.set(p.id, p);
          this.emit('participantjoined', p);
        } else {
          this.#removedWhilePaging?.add(p.id);
          this.participants.delete(p.id);
          this.emit('participantleft', p);
        }
        break;
      }
      case 'stream': {
        const s = message.data.stream;
        if (message.data.status === 'remove') {
          this.#removedWhilePaging?.add(s.id);
          this.streams.delete(s.id);
          for (const consumer of this.#consumers.values()) if (consumer.producerId === s.id) consumer.close();
          this.emit('streamremoved', s);
        } else {
          const isNew = !this.streams.has(s.id);
          this.streams.set(s.id, s);
          if (isNew) {
            this.emit('streamadded', s);
            // Through the same path as listed streams: a rate limit (1303) is waited out, not lost.
            if (this.#autoSubscribe && s.kind !== 'data' && this.#recvTransport) {
              void this.#subscribeEach([s.id], this.#session);
            }
          }
        }
        break;
      }
      case 'text':
        this.emit('text', message.data);
        break;
      case 'activeSpeaker':
        this.emit('activespeaker', message.data);
        break;
      case 'progress':
        if (message.data.status === 'consumerClosed') this.#consumers.get(message.data.id)?.close();
        break;
      case 'drop':
        this.emit('dropped', message.data);
        if (message.data.rejoin) void this.#rejoin();
        else this.#ws.close(1000);
        break;
    }
  }

  #request<T = unknown>(method: Method, params: unknown, timeoutMs = this.#timeoutMs): Promise<T> {
    if (this.#closed) return Promise.reject(new TesseraClientError(1201, 'session closed'));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new TesseraClientError(1201, `${method} timed out`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#health);
    for (const [, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new TesseraClientError(1201, 'session closed'));
    }
    this.#pending.clear();
    this.#sendTransport?.close();
    this.#recvTransport?.close();
    this.emit('closed');
  }
}

/** Transport options with the ICE servers (the app's own, else the login answer's TURN) and policy. */
function withIce(
  transport: types.TransportOptions,
  login: LoginResult,
  ice: Pick<JoinOptions, 'iceServers' | 'iceTransportPolicy'>,
): types.TransportOptions {
  const iceServers = ice.iceServers ?? login.iceServers;
  return {
    ...transport,
    ...(iceServers ? { iceServers } : {}),
    ...(ice.iceTransportPolicy ? { iceTransportPolicy: ice.iceTransportPolicy } : {}),
  };
}

/** Subscriptions in flight at once when joining a large room (the rest of its streams, after login). */
const SUBSCRIBE_CONCURRENCY = 4;

function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.addEventListener('open', () => resolve(ws), { once: true });
    ws.addEventListener(
      'error',
      () => reject(new TesseraClientError(1101, 'could not connect (token refused or server unreachable)')),
      {
        once: true,
      },
    );
  });
}

/** Resolves when a data channel can carry messages (SCTP association and stream open). */
function opened(channel: types.DataProducer | types.DataConsumer): Promise<void> {
  if (channel.readyState === 'open') return Promise.resolve();
  return new Promise((resolve, reject) => {
    (channel as types.DataConsumer).observer.once('close', () =>
      reject(new TesseraClientError(1201, 'data channel closed')),
    );
    (channel as types.DataConsumer).on('open', () => resolve());
  });
}

/** Join milestones as standard performance marks (`tessera:<name>`), for apps and benchmarks. */
function mark(name: string): void {
  globalThis.performance?.mark?.(`tessera:${name}`);
}
