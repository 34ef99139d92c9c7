import type { Device, types } from 'mediasoup-client';
import type {
  AudioTranscodeRequest,
  IceServer,
  LoginRoom,
  Method,
  Params,
  ParticipantsPage,
  ServerEvent,
  SessionInfo,
  StreamAnnouncement,
  StreamsPage,
  VideoTranscodeParameters,
  VideoTranscodeRequest,
} from '../shared/protocol/signaling.ts';
import { publicationOf } from '../shared/protocol/signaling.ts';
import { createDtlsIdentity, type DtlsIdentity, usesIdentity } from './dtlsIdentity.ts';
import { Emitter } from './Emitter.ts';
import { MediaWatch } from './MediaWatch.ts';
import { nextDelay } from './reconnectPolicy.ts';
import { CloseCodes, openSocket, SignalingChannel, TesseraClientError } from './SignalingChannel.ts';
import { warmDevice } from './warmDevice.ts';

export { TesseraClientError } from './SignalingChannel.ts';

/** What a client receives on its own: see `TesseraClientOptions.autoSubscribe`. */
export type AutoSubscribe = boolean | 'all' | 'mixed';

export interface JoinOptions {
  /** The server's HTTP(S) base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  /** The signaling WebSocket URL; `<url>/ws` (ws/wss) by default, as the embedded server serves it. */
  signalingUrl?: string;
  /** A join token from your backend (POST /v1/rooms/{room}/tokens). */
  token: string;
  /**
   * Subscribe to participants' streams as they appear (default true). A view's mixed stream
   * (`type: 'mixed'`, the MCU's) carries the same people again: it is subscribed to only with
   * `'all'`, or when you call `subscribe(id)`. `'mixed'` takes the mixed streams only: an MCU
   * client, one downstream however many publish.
   */
  autoSubscribe?: AutoSubscribe;
  requestTimeoutMs?: number;
  /** How often to check the path to the media node (ms; 0 turns it off and with it automatic rejoin). */
  healthCheckMs?: number;
  /** 'relay': media only through TURN (hides the client's addresses); 'all' by default. */
  iceTransportPolicy?: 'all' | 'relay';
  /** ICE servers to use instead of the TURN servers the login answer names. */
  iceServers?: IceServer[];
  /**
   * mediasoup-client's handler, where it cannot detect one: outside a browser (Node with a
   * WebRTC implementation installed as globals, as `tessera load-test` does) give 'Chrome111'.
   */
  handlerName?: types.BuiltinHandlerName;
}

/**
 * Where the session is. `resumed`: back on a new WebSocket with everything kept (media never
 * stopped); `rejoined`: back in the room on a new media path (after a node failure, or once the
 * grace period passed); `disconnected`: over, with a reason.
 */
export type ConnectionState =
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'resumed'
  | 'rejoined'
  | 'disconnected';

export interface Participant {
  id: string;
  user: string;
  role: string;
}

export interface RemoteTrack {
  streamId: string;
  /** The publication (OWT stream) the track belongs to: a camera's and its microphone's are the same. */
  publicationId: string;
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

/** Publishing a MediaStream: its tracks' sources (mic and camera by default), the video's options. */
export interface PublishStreamOptions extends Omit<PublishOptions, 'source'> {
  source?: { audio?: 'mic' | 'screen-audio'; video?: 'camera' | 'screen-cast' };
}

/** A publication (OWT stream): one participant's tracks published together, at most one per kind. */
export interface Publication {
  id: string;
  owner: string;
  tracks: StreamAnnouncement[];
}

/** One of our publications: its id and its tracks' stream ids (they change when a rejoin publishes again). */
export interface LocalPublication {
  id: string;
  tracks: { kind: 'audio' | 'video'; streamId: string }[];
}

interface Published {
  id: string;
  tracks: { track: MediaStreamTrack; options: PublishOptions; streamId: string; muted?: boolean }[];
}

export type ClientEvents = {
  participantjoined: [Participant];
  participantleft: [Participant];
  streamadded: [StreamAnnouncement];
  /** A stream changed: paused or resumed by its publisher (`paused`, a remote mute), or its info. */
  streamupdated: [StreamAnnouncement];
  streamremoved: [StreamAnnouncement];
  track: [RemoteTrack];
  text: [{ from: string; to: 'me' | 'all'; message: string }];
  activespeaker: [{ participantId: string; producerId: string }];
  /** The server ended the session (dropped, room closed, node gone). */
  dropped: [{ reason: string }];
  /** Every change of `connectionState`. */
  connectionstatechange: [{ state: ConnectionState; reason?: string }];
  /** Signaling was lost; the session is reconnecting and keeps its media meanwhile. */
  reconnecting: [];
  /** Reconnected: same participant, same media, what was missed caught up. */
  resumed: [];
  /** The media node failed; the session is moving to another one. */
  rejoining: [];
  /** Back in the room on a live node, publishing again. */
  rejoined: [];
  closed: [];
};

interface LoginResult {
  /** Present on a resumed session: nothing new was made, `held` says what the server still has. */
  resumed?: boolean;
  held?: { consumers: string[]; producers: string[] };
  iceServers?: IceServer[];
  participant: Participant & { permission: unknown };
  room: LoginRoom;
  routerRtpCapabilities: types.RtpCapabilities;
  transports: { send?: types.TransportOptions; recv?: types.TransportOptions };
  consumers: ConsumerParams[];
  /** The server connected the transports with the login's `dtlsParameters`. */
  dtlsConnected?: boolean;
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
 * every remote track, including those that arrived before it was added. Joining takes one HTTP
 * request (router capabilities, cacheable; made while the socket opens) and two signaling round
 * trips before media flows:
 * `login` returns transports and paused consumers for what is already published; connecting the
 * receive transport resumes them. In a large room the answer holds what fits the gateway's frame
 * limit: `join` pages in the rest of the participant and stream lists, and the streams that came
 * without a consumer are subscribed to afterwards.
 *
 * The session survives its network: a lost WebSocket is resumed with the server's resume ticket
 * (media keeps flowing meanwhile, and what was missed is caught up); a media path that breaks
 * while signaling is up gets an ICE restart; a media node that stops answering is left for
 * another one (a rejoin). Retries back off exponentially with jitter. `connectionState` and its
 * events tell where the session is.
 */
export class TesseraClient extends Emitter<ClientEvents> {
  readonly participant: Participant;
  readonly participants = new Map<string, Participant>();
  readonly streams = new Map<string, StreamAnnouncement>();
  readonly #channel: SignalingChannel;
  readonly #signalingUrl: string;
  readonly #device: Device;
  readonly #timeoutMs: number;
  readonly #autoSubscribe: AutoSubscribe;
  readonly #consumers = new Map<string, types.Consumer>();
  /** What was asked of streams received transcoded, so that a resubscribe (after a rejoin) asks again. */
  readonly #videoRequests = new Map<string, VideoTranscodeRequest>();
  readonly #audioRequests = new Map<string, AudioTranscodeRequest>();
  /** Streams the caller subscribed to itself (`subscribe`): received again after a rejoin, like autoSubscribe's. */
  readonly #chosen = new Set<string>();
  /** Live remote tracks by consumer id, replayed to every new 'track' listener. */
  readonly #remoteTracks = new Map<string, RemoteTrack>();
  readonly #producers = new Map<string, types.Producer>();
  /** What we publish, by publication, so a rejoin can publish it again. */
  readonly #published: Published[] = [];
  readonly #healthCheckMs: number;
  readonly #ice: Pick<JoinOptions, 'iceServers' | 'iceTransportPolicy'>;
  #health: ReturnType<typeof setInterval> | undefined;
  /** The recovery under way (resume or rejoin): one at a time. */
  #recovering: Promise<void> | undefined;
  #sendTransport: types.Transport | undefined;
  #recvTransport: types.Transport | undefined;
  /** The certificate of all our peer connections, its fingerprint sent with each login. */
  #dtls: DtlsIdentity | undefined;
  /** Transports with an ICE restart under way. */
  readonly #restartingIce = new WeakSet<types.Transport>();
  #state: ConnectionState = 'connecting';
  #sessionInfo: SessionInfo | undefined;
  #sessionTimers: ReturnType<typeof setTimeout>[] = [];
  /** When the current socket opened (the gateway's maximum connection age counts from it). */
  #socketOpenedAt = Date.now();
  readonly #media = new MediaWatch();
  #mediaWatch: ReturnType<typeof setInterval> | undefined;
  /** How long media has not arrived on a transport that carries it (the last sample). */
  #stalledMs = 0;
  #lastPingAt = 0;
  /** Health-check pings unanswered in a row; one check at a time. */
  #unanswered = 0;
  #checking = false;
  /** Consumers the server closed before their `subscribe` answer got here. */
  readonly #closedEarly = new Set<string>();
  /** Stream ids an autoSubscribe run has queued or is subscribing to. */
  readonly #subscribing = new Set<string>();
  #closed = false;
  /** Counts logins that made a new media path: work for an earlier one (a rejoin happened) stops. */
  #generation = 0;
  /** While the lists are paged in: ids removed meanwhile, which a page must not bring back. */
  #removedWhilePaging: Set<string> | undefined;
  readonly #onPageHide = () => this.#goodbye();

  private constructor(
    channel: SignalingChannel,
    signalingUrl: string,
    device: Device,
    participant: Participant,
    options: JoinOptions,
  ) {
    super();
    this.#channel = channel;
    this.#signalingUrl = signalingUrl;
    this.#device = device;
    this.participant = participant;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#autoSubscribe = options.autoSubscribe ?? true;
    this.#healthCheckMs = options.healthCheckMs ?? 2000;
    this.#ice = { iceServers: options.iceServers, iceTransportPolicy: options.iceTransportPolicy };
    channel.on('event', (message) => this.#onEvent(message));
    channel.on('lost', () => void this.#recover('resume', 'signaling connection lost'));
  }

  static async join(options: JoinOptions): Promise<TesseraClient> {
    const base = options.url.replace(/\/$/, '');
    const device = warmDevice(options.handlerName);
    const signaling = options.signalingUrl ?? `${base.replace(/^http/, 'ws')}/ws`;
    // The device loads (an HTTP fetch, and throw-away peer connections the browser builds)
    // and the DTLS certificate is made while the socket opens: none waits for another.
    const identity = createDtlsIdentity();
    const [loaded, opened] = await Promise.allSettled([
      fetch(`${base}/v1/rtp-capabilities`)
        .then((r) => r.json())
        .then((caps) => device.load({ routerRtpCapabilities: caps }))
        .then(() => mark('device-loaded')),
      openSocket(`${signaling}?token=${encodeURIComponent(options.token)}`).then((socket) => {
        mark('ws-open');
        return socket;
      }),
    ]);
    if (loaded.status === 'rejected') {
      if (opened.status === 'fulfilled') opened.value.close();
      throw loaded.reason;
    }
    if (opened.status === 'rejected') throw opened.reason;
    const ws = opened.value;
    const channel = new SignalingChannel(ws);
    const client = new TesseraClient(channel, signaling, device, { id: '', user: '', role: '' }, options);
    client.#dtls = await identity;
    mark('login-sent');
    const login = await client.#request<LoginResult>('login', {
      rtpCapabilities: device.rtpCapabilities,
      // Without autoSubscribe the caller picks what to receive, and how (transcoded…).
      ...client.#loginSubscribe,
      ...client.#loginDtls,
    });
    mark('login-done');
    await client.#applyLogin(login);
    client.#startHealthChecks();
    globalThis.addEventListener?.('pagehide', client.#onPageHide);
    client.#setState('connected');
    return client;
  }

  /** Where the session is (see ConnectionState). */
  get connectionState(): ConnectionState {
    return this.#state;
  }

  #setState(state: ConnectionState, reason?: string): void {
    if (this.#state === state && state !== 'resumed' && state !== 'rejoined') return;
    this.#state = state;
    this.emit('connectionstatechange', { state, ...(reason ? { reason } : {}) });
  }

  /**
   * Takes a login answer: who we are, who is here, fresh transports, and what to receive. A
   * large room's lists come in part (the answer fits the gateway's frame limit): the rest is
   * paged in before this resolves, and with autoSubscribe the streams that came without a
   * consumer are subscribed to afterwards, a few at a time.
   */
  async #applyLogin(login: LoginResult): Promise<void> {
    const generation = ++this.#generation;
    Object.assign(this.participant, {
      id: login.participant.id,
      user: login.participant.user,
      role: login.participant.role,
    });
    const listed: string[] = [];
    this.#addParticipants(login.room.participants);
    listed.push(...this.#addStreams(login.room.streams));
    const connected = login.dtlsConnected === true;
    if (login.transports.send)
      this.#sendTransport = this.#setUpSend(this.#transportOptions(login.transports.send, login), connected);
    if (login.transports.recv) {
      this.#recvTransport = this.#setUpRecv(
        this.#transportOptions(login.transports.recv, login),
        login.consumers.map((c) => c.id),
        connected,
      );
      // Streams published before we joined arrive as 'track' events too, once the caller has
      // had the chance to add listeners right after `await join()` (this runs a task later).
      setTimeout(() => {
        for (const c of login.consumers)
          void this.#consume(c, false).catch((e) => {
            // A stream that ended meanwhile is no failure: its removal has been told.
            if (!(e instanceof TesseraClientError && e.code === 1004))
              console.warn('tessera: consume failed', e);
          });
      }, 0);
    }
    const lists = await this.#pageIn(login.room);
    this.#addParticipants(lists.participants);
    listed.push(...this.#addStreams(lists.streams));
    if (this.#recvTransport) {
      const received = new Set(login.consumers.map((c) => c.producerId));
      const rest = listed.filter((id) => !received.has(id) && this.#receives(this.streams.get(id)));
      if (rest.length) void this.#subscribeEach(rest, generation);
    }
  }

  /** The rest of the room's lists when the answer held them in part (events meanwhile win). */
  async #pageIn(room: LoginRoom): Promise<{ participants: Participant[]; streams: StreamAnnouncement[] }> {
    const out = { participants: [] as Participant[], streams: [] as StreamAnnouncement[] };
    const cursors = room.cursors;
    if (!cursors) return out;
    this.#removedWhilePaging = new Set();
    try {
      for (let cursor = cursors.participants; cursor; ) {
        const next: ParticipantsPage = await this.#request('room.participants', { cursor });
        out.participants.push(...next.participants);
        cursor = next.cursor;
      }
      for (let cursor = cursors.streams; cursor; ) {
        const next: StreamsPage = await this.#request('room.streams', { cursor });
        out.streams.push(...next.streams);
        cursor = next.cursor;
      }
    } finally {
      this.#removedWhilePaging = undefined;
    }
    return out;
  }

  /**
   * Takes a resumed session's answer: the media path is the same, so only what changed while
   * signaling was away is applied, and told as the usual events: who came and went, which
   * streams appeared or ended, and the subscriptions or streams the server closed meanwhile.
   */
  async #applyResume(login: LoginResult): Promise<void> {
    const rest = await this.#pageIn(login.room);
    const participants = new Map(
      [...login.room.participants, ...rest.participants].map((p) => [p.id, p] as const),
    );
    participants.delete(this.participant.id);
    for (const [id, p] of this.participants)
      if (!participants.has(id)) {
        this.participants.delete(id);
        this.emit('participantleft', p);
      }
    for (const [id, p] of participants)
      if (!this.participants.has(id)) {
        this.participants.set(id, p);
        this.emit('participantjoined', p);
      }
    const streams = new Map([...login.room.streams, ...rest.streams].map((s) => [s.id, s] as const));
    for (const [id, s] of this.streams) if (!streams.has(id)) this.#streamRemoved(s);
    for (const s of streams.values()) this.#streamAnnounced(s);
    const held = login.held ?? { consumers: [], producers: [] };
    const consumers = new Set(held.consumers);
    for (const consumer of [...this.#consumers.values()]) if (!consumers.has(consumer.id)) consumer.close();
    // A subscription whose answer was lost with the old socket: the server holds a consumer we
    // never got, and refuses a second one (1303). It goes, so that the retried subscribe works.
    await Promise.allSettled(
      held.consumers
        .filter((id) => !this.#consumers.has(id))
        .map((consumerId) => this.#request('unsubscribe', { consumerId })),
    );
    const producers = new Set(held.producers);
    for (const [id, producer] of [...this.#producers]) {
      if (producers.has(id)) continue;
      // The server ended it while we were away (a permission revoked): it is not ours to resend.
      producer.close();
      this.#producers.delete(id);
      this.#forgetTrack(id);
    }
    // Wanted streams left without a subscription (the server closed it while we were away, or
    // its answer was lost): asked for again, as on a join.
    if (this.#recvTransport) {
      const subscribed = new Set([...this.#consumers.values()].map((c) => c.producerId));
      const missing = [...this.streams.values()].filter(
        (s) => s.owner !== this.participant.id && this.#receives(s) && !subscribed.has(s.id),
      );
      if (missing.length)
        void this.#subscribeEach(
          missing.map((s) => s.id),
          this.#generation,
        );
    }
    // A media path that broke while signaling was away is restarted now.
    for (const transport of [this.#sendTransport, this.#recvTransport])
      if (transport && !transport.closed && transport.connectionState !== 'connected')
        void this.#restartIce(transport);
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
  async #subscribeEach(ids: string[], generation: number): Promise<void> {
    const queue = ids.filter((id) => !this.#subscribing.has(id));
    for (const id of queue) this.#subscribing.add(id);
    const current = () => !this.#closed && this.#generation === generation;
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          // Still refused for a limit: the rest of the run would be too.
          if (current() && (await this.#subscribeWithRetries(id, current)) === 'limited')
            for (const rest of queue.splice(0)) this.#subscribing.delete(rest);
        } finally {
          this.#subscribing.delete(id);
        }
      }
    };
    await Promise.all(Array.from({ length: SUBSCRIBE_CONCURRENCY }, worker));
  }

  /** One stream of an autoSubscribe run, asked for again while the reason it failed can pass. */
  async #subscribeWithRetries(id: string, current: () => boolean): Promise<'done' | 'limited'> {
    for (let attempt = 1; current() && this.streams.has(id); attempt++) {
      try {
        await this.#subscribe(id, {});
        return 'done';
      } catch (e) {
        const code = e instanceof TesseraClientError ? e.code : 0;
        // Cut off by a resume (the old socket abandoned: 1201; or sent on the new socket
        // before its login got through: 1101): once it is over, ask again.
        if ((code === 1201 || code === 1101) && this.#recovering && attempt < 10) {
          await this.#recovering;
          continue;
        }
        // Refused as a second subscription, held by one whose answer never reached us (lost
        // with a socket, or reordered after a resume): that one goes, and we ask again.
        const holder = e instanceof TesseraClientError ? e.details?.subscription : undefined;
        if (typeof holder === 'string' && !this.#consumers.has(holder) && attempt < 10) {
          await this.#request('unsubscribe', { consumerId: holder }).catch(() => {});
          continue;
        }
        // Rate-limited, or unanswered in time (a busy node; a late answer's consumer is the
        // holder the next attempt is told about).
        if ((code === 1303 || code === 1201) && attempt < 10) {
          await sleep(Math.min(500 * attempt, 3000));
          continue;
        }
        if (![1004, 1102, 1301].includes(code)) console.warn('tessera: subscribe failed', e);
        return code === 1303 ? 'limited' : 'done';
      }
    }
    return 'done';
  }

  /**
   * Every `healthCheckMs`, a ping through signaling to the media node. Unanswered twice in a row
   * while media still flows, the signaling path is what broke: the socket is replaced and the
   * session resumed. Unanswered with media stalled too, the node is gone: the session rejoins on another.
   * A ping refused for the request rate (1303, e.g. while subscribing to a large room) was answered.
   */
  #startHealthChecks(): void {
    if (!this.#healthCheckMs) return;
    this.#health = setInterval(() => void this.#checkHealth(), this.#healthCheckMs);
    this.#mediaWatch = setInterval(() => void this.#watchMedia(), MEDIA_WATCH_MS);
  }

  /**
   * Between health checks: media that stops arriving on a transport that carries it is asked
   * about at once (a ping), so a dead node is noticed within about a second and a half by every
   * participant, publishers included. A ping that is answered (paused streams, a path ICE will
   * restore) changes nothing.
   */
  async #watchMedia(): Promise<void> {
    if (this.#recovering || this.#closed) return;
    const carrying = [
      this.#producers.size > 0 ? this.#sendTransport : undefined,
      this.#consumers.size > 0 ? this.#recvTransport : undefined,
    ].filter((t): t is types.Transport => t !== undefined && !t.closed);
    this.#stalledMs = await this.#media.sample(carrying);
    if (this.#stalledMs >= MEDIA_STALL_MS && Date.now() - this.#lastPingAt >= MEDIA_STALL_MS)
      void this.#checkHealth();
  }

  async #checkHealth(): Promise<void> {
    if (this.#recovering || this.#closed || !this.#channel.open || this.#checking) return;
    this.#checking = true;
    this.#lastPingAt = Date.now();
    try {
      const media = this.#mediaState();
      try {
        await this.#request('ping', {}, Math.min(PING_TIMEOUT_MS, this.#healthCheckMs));
        this.#unanswered = 0;
      } catch (e) {
        if (this.#recovering || this.#closed) return;
        if (e instanceof TesseraClientError && e.code === 1303) return;
        this.#unanswered++;
        if (media === 'flowing') {
          // The node still sends us media: signaling is slow or broke. One late answer is a busy
          // path (a resume would only add to its load); twice in a row, a new socket resumes
          // (flagged: if the node did die after all, the control plane moves us).
          if (this.#unanswered < 2) return;
          this.#channel.abandon(CloseCodes.unresponsive, 'signaling unresponsive');
          void this.#recover('resume', 'signaling unresponsive', { suspectNode: true });
        } else if (media === 'broken' || this.#unanswered >= 2) {
          // Media stalled too (or twice no answer while it was still starting): the node is gone.
          void this.#recover('failover', 'media node unresponsive');
        }
      }
    } finally {
      this.#checking = false;
    }
  }

  /**
   * What the media path says about the node: `broken` (a transport lost its connection, or
   * nothing arrived on one that carries media for MEDIA_STALL_MS), `flowing` (bytes keep
   * arriving, or every transport is connected), or `unknown` (still connecting).
   */
  #mediaState(): 'flowing' | 'broken' | 'unknown' {
    const transports = [this.#sendTransport, this.#recvTransport].filter(
      (t): t is types.Transport => t !== undefined && !t.closed,
    );
    const states = transports.map((t) => t.connectionState);
    if (states.some((state) => state === 'disconnected' || state === 'failed')) return 'broken';
    if (this.#stalledMs >= MEDIA_STALL_MS) return 'broken';
    return states.length > 0 && states.every((state) => state === 'connected') ? 'flowing' : 'unknown';
  }

  /**
   * Brings the session back. `resume`: signaling was lost; a new socket with the resume ticket
   * takes over the same participant and media (or, past the grace period or after a node
   * failure, the server answers with a fresh login and the session rejoins). `failover`: the
   * node stopped answering; logging in again (on this socket while it works) moves the session.
   * Attempts back off exponentially with full jitter, so a node's many sessions do not retry in
   * lock-step. Ends the session when the ticket can no longer work.
   */
  #recover(
    mode: 'resume' | 'failover' | 'refresh',
    reason: string,
    options: { suspectNode?: boolean } = {},
  ): Promise<void> {
    if (this.#recovering || this.#closed) return this.#recovering ?? Promise.resolve();
    const failover = mode === 'failover' || options.suspectNode === true;
    const planned = mode === 'refresh';
    this.#recovering = (async () => {
      const lostAt = Date.now();
      if (!planned) {
        this.#setState('reconnecting', reason);
        this.emit(mode === 'failover' ? 'rejoining' : 'reconnecting');
      }
      let newSocket = mode !== 'failover';
      for (let attempt = 0; !this.#closed; attempt++) {
        if (attempt > 0 || !planned) await sleep(nextDelay(attempt));
        if (this.#closed) return;
        const session = this.#sessionInfo;
        if (newSocket || !this.#channel.open) {
          if (!session || Date.now() - lostAt > session.graceMs) {
            if (planned) return; // the gateway's own close will start a resume
            this.#end('could not reconnect within the grace period');
            return;
          }
          try {
            const url = `${this.#signalingUrl}?resume=${encodeURIComponent(session.ticket)}`;
            this.#channel.replace(await openSocket(url, SOCKET_TIMEOUT_MS));
            this.#socketOpenedAt = Date.now();
            newSocket = false;
          } catch {
            continue;
          }
        }
        let login: LoginResult;
        try {
          login = await this.#request<LoginResult>(
            'login',
            {
              rtpCapabilities: this.#device.rtpCapabilities,
              resume: true,
              ...(failover ? { failover: true } : {}),
              ...this.#loginSubscribe,
              ...this.#loginDtls,
            },
            LOGIN_TIMEOUT_MS,
          );
        } catch (e) {
          // 1003: the room, the place in it, or the ticket is gone: nothing left to resume.
          if (e instanceof TesseraClientError && e.code === 1003) {
            this.#end(e.message);
            return;
          }
          // Twice unanswered on this socket: it may be the broken part; a new one resumes.
          if (attempt % 2 === 1) newSocket = true;
          continue;
        }
        try {
          if (login.resumed) {
            await this.#applyResume(login);
            this.#setState('resumed', reason);
            this.emit('resumed');
          } else {
            if (mode !== 'failover') this.emit('rejoining');
            await this.#rebuild(login);
            this.#setState('rejoined', reason);
            this.emit('rejoined');
          }
          return;
        } catch (e) {
          console.warn('tessera: recovering the session failed; retrying', e);
        }
      }
    })().finally(() => {
      this.#recovering = undefined;
    });
    return this.#recovering;
  }

  /**
   * A login that made a new media path (after a node failure, or a session past its grace
   * period): the old transports go, the new ones receive everyone again ('track' events with
   * new tracks) and what we published is published again.
   */
  async #rebuild(login: LoginResult): Promise<void> {
    this.#sendTransport?.close();
    this.#recvTransport?.close();
    this.#sendTransport = undefined;
    this.#recvTransport = undefined;
    this.#consumers.clear();
    this.#remoteTracks.clear();
    this.#producers.clear();
    this.streams.clear();
    this.participants.clear();
    this.#stalledMs = 0;
    await this.#applyLogin(login);
    for (const published of this.#published) await this.#producePublication(published);
  }

  /** The server's session info: keeps the ticket fresh, and plans a reconnect before the gateway's age limit. */
  #onSession(info: SessionInfo): void {
    this.#sessionInfo = info;
    for (const timer of this.#sessionTimers) clearTimeout(timer);
    const refresh = setTimeout(() => {
      this.#request<SessionInfo>('session.refresh', {})
        .then((next) => this.#onSession(next))
        .catch(() => {}); // a lost socket resumes with the ticket it has
    }, info.refreshMs);
    this.#sessionTimers = [refresh];
    if (info.maxConnectionMs) {
      // Well before the gateway closes the socket: a margin of a tenth, at most a minute.
      const margin = Math.min(60_000, info.maxConnectionMs / 10);
      const at = this.#socketOpenedAt + info.maxConnectionMs - margin - Date.now();
      this.#sessionTimers.push(
        setTimeout(() => void this.#recover('refresh', 'connection age limit'), Math.max(0, at)),
      );
    }
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
  /**
   * Publishes a local track, or a MediaStream's tracks (at most one audio and one video) as one
   * publication (OWT stream): subscribers see them grouped, the REST API lists one stream.
   * Returns the publication's id (for a lone track, its stream id). Tracks stay the caller's
   * (they are not stopped on close).
   */
  async publish(track: MediaStreamTrack, options?: PublishOptions): Promise<string>;
  async publish(stream: MediaStream, options?: PublishStreamOptions): Promise<string>;
  async publish(
    what: MediaStreamTrack | MediaStream,
    options: PublishOptions | PublishStreamOptions = {},
  ): Promise<string> {
    const published: Published = { id: '', tracks: [] };
    if ('getTracks' in what) {
      const { source, ...rest } = options as PublishStreamOptions;
      const audio = what.getAudioTracks();
      const video = what.getVideoTracks();
      if (audio.length > 1 || video.length > 1 || audio.length + video.length === 0)
        throw new TesseraClientError(1301, 'a published stream has one audio track, one video track or both');
      // Audio first: the microphone starts as soon as it can, video options apply to video only.
      if (audio[0])
        published.tracks.push({ track: audio[0], options: { source: source?.audio ?? 'mic' }, streamId: '' });
      if (video[0])
        published.tracks.push({
          track: video[0],
          options: { ...rest, source: source?.video ?? 'camera' },
          streamId: '',
        });
    } else published.tracks.push({ track: what, options: options as PublishOptions, streamId: '' });
    try {
      await this.#producePublication(published);
    } catch (e) {
      // A rejoin replaced the transport under us: publish on the new one.
      if (!this.#recovering) throw e;
      for (const t of published.tracks) this.#producers.get(t.streamId)?.close();
      await this.#recovering;
      await this.#producePublication(published);
    }
    this.#published.push(published);
    return published.id;
  }

  /** Our publications as they are now (ids change when a rejoin publishes them again). */
  get localPublications(): LocalPublication[] {
    return this.#published.map((p) => ({
      id: p.id,
      tracks: p.tracks.map((t) => ({ kind: t.track.kind as 'audio' | 'video', streamId: t.streamId })),
    }));
  }

  /** The others' publications (OWT streams): their tracks grouped as they were published. */
  get publications(): Map<string, Publication> {
    const out = new Map<string, Publication>();
    for (const s of this.streams.values()) {
      if (s.kind === 'data' || s.owner === this.participant.id) continue;
      const id = publicationOf(s);
      const p = out.get(id) ?? { id, owner: s.owner, tracks: [] };
      p.tracks.push(s);
      out.set(id, p);
    }
    return out;
  }

  /** Produces a publication's tracks: the first names it, the next ones join it. */
  async #producePublication(published: Published): Promise<void> {
    let id: string | undefined;
    for (const t of published.tracks) {
      t.streamId = await this.#produce(t.track, t.options, id);
      id ??= t.streamId;
      // Published again after a rejoin: a muted track stays muted.
      if (t.muted) await this.#pauseProducer(t.streamId, true);
    }
    published.id = id!;
  }

  /** A track of ours that ended: out of its publication (and the publication, once empty). */
  #forgetTrack(streamId: string): void {
    const at = this.#published.findIndex((p) => p.tracks.some((t) => t.streamId === streamId));
    if (at < 0) return;
    const published = this.#published[at]!;
    published.tracks = published.tracks.filter((t) => t.streamId !== streamId);
    if (published.tracks.length === 0) this.#published.splice(at, 1);
  }

  async #produce(track: MediaStreamTrack, options: PublishOptions, publication?: string): Promise<string> {
    if (!this.#sendTransport) throw new TesseraClientError(1102, 'this role may not publish');
    const codec = options.codec
      ? this.#device.rtpCapabilities.codecs?.find(
          (c) => c.mimeType.toLowerCase() === options.codec!.toLowerCase(),
        )
      : undefined;
    const producer = await this.#sendTransport.produce({
      track,
      stopTracks: false,
      appData: {
        source: options.source ?? (track.kind === 'audio' ? 'mic' : 'camera'),
        ...(publication ? { publication } : {}),
      },
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

  /**
   * Mutes (or unmutes) one of our published tracks by its stream id: nothing more is sent, and
   * the others see the stream `paused` (`streamupdated`) and receive silence or a still picture.
   * The track itself keeps running (a camera stays on: stop it, or `unpublishTrack`, to turn it off).
   */
  async setMuted(streamId: string, muted: boolean): Promise<void> {
    const entry = this.#published.flatMap((p) => p.tracks).find((t) => t.streamId === streamId);
    if (!entry) throw new TesseraClientError(1004, `no published track ${streamId}`);
    entry.muted = muted;
    await this.#pauseProducer(streamId, muted);
  }

  /** Whether one of our published tracks is muted. */
  isMuted(streamId: string): boolean {
    return this.#published.some((p) => p.tracks.some((t) => t.streamId === streamId && t.muted === true));
  }

  /**
   * Sends another track in place of a published one (a camera or microphone switched): same
   * stream id, no renegotiation, the subscribers' tracks carry on. The old track stays the caller's.
   */
  async replaceTrack(streamId: string, track: MediaStreamTrack): Promise<void> {
    const entry = this.#published.flatMap((p) => p.tracks).find((t) => t.streamId === streamId);
    const producer = this.#producers.get(streamId);
    if (!entry || !producer) throw new TesseraClientError(1004, `no published track ${streamId}`);
    if (track.kind !== entry.track.kind)
      throw new TesseraClientError(
        1301,
        `a ${entry.track.kind} track is replaced by another ${entry.track.kind} track`,
      );
    await producer.replaceTrack({ track });
    entry.track = track;
  }

  async #pauseProducer(streamId: string, paused: boolean): Promise<void> {
    const producer = this.#producers.get(streamId);
    if (!producer) return;
    if (paused) producer.pause();
    else producer.resume();
    await this.#request('stream.control', { producerId: streamId, operation: paused ? 'pause' : 'play' });
  }

  /**
   * Ends a publication (all its tracks), or a track by its stream id. A publication is named by
   * its first track: to end that track alone, use `unpublishTrack`.
   */
  async unpublish(id: string): Promise<void> {
    const publication = this.#published.find((p) => p.id === id);
    await this.#unpublish(publication ? publication.tracks.map((t) => t.streamId) : [id]);
  }

  /** Ends one track, leaving the rest of its publication live (e.g. a microphone turned off). */
  async unpublishTrack(streamId: string): Promise<void> {
    await this.#unpublish([streamId]);
  }

  async #unpublish(ids: string[]): Promise<void> {
    for (const streamId of ids) {
      this.#producers.get(streamId)?.close();
      this.#producers.delete(streamId);
      this.#forgetTrack(streamId);
    }
    await Promise.all(ids.map((producerId) => this.#request('unpublish', { producerId })));
  }

  /**
   * Receives a stream (done automatically unless autoSubscribe is false). `video`: receive it
   * transcoded (OWT's subscribe options): another `format` (`{codec: 'h264'}`), `parameters`
   * `resolution` `{width, height}`, `framerate`, `bitrate` (`'x0.5'`), `keyFrameInterval` (s),
   * as the room's `transcoding` and `mediaOut` allow. `audio`: receive an audio stream in
   * another codec (`{format: {codec: 'pcmu'}}`: opus, pcmu, pcma, g722), likewise.
   */
  async subscribe(
    streamId: string,
    options: { video?: VideoTranscodeRequest; audio?: AudioTranscodeRequest } = {},
  ): Promise<MediaStreamTrack> {
    const track = await this.#subscribe(streamId, options);
    if (!this.#wanted(this.streams.get(streamId))) this.#chosen.add(streamId);
    return track;
  }

  /** One subscription (the caller's or autoSubscribe's), with the transcoding asked for it before. */
  async #subscribe(
    streamId: string,
    options: { video?: VideoTranscodeRequest; audio?: AudioTranscodeRequest },
  ): Promise<MediaStreamTrack> {
    const generation = this.#generation;
    if (options.video) this.#videoRequests.set(streamId, options.video);
    if (options.audio) this.#audioRequests.set(streamId, options.audio);
    const video = options.video ?? this.#videoRequests.get(streamId);
    const audio = options.audio ?? this.#audioRequests.get(streamId);
    const params = await this.#request<ConsumerParams>('subscribe', {
      producerId: streamId,
      ...(video ? { video } : {}),
      ...(audio ? { audio } : {}),
    });
    // A rejoin meanwhile made a new media path: this subscription belonged to the old one.
    if (generation !== this.#generation || !this.#recvTransport)
      throw new TesseraClientError(1201, 'the session moved to another media path; subscribe again');
    return this.#consume(params, true);
  }

  /**
   * Stops receiving a stream: its track ends and the server lets its consumer go. A stream that
   * autoSubscribe takes is taken again only after a rejoin; a `subscribe`d one is not.
   */
  async unsubscribe(streamId: string): Promise<void> {
    this.#chosen.delete(streamId);
    this.#videoRequests.delete(streamId);
    this.#audioRequests.delete(streamId);
    const held = [...this.#consumers.values()].filter((c) => c.producerId === streamId);
    for (const consumer of held) consumer.close();
    await Promise.all(held.map((c) => this.#request('unsubscribe', { consumerId: c.id })));
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

  /**
   * Changes what a stream received transcoded is made with (OWT's subscription `update`): the
   * same track shows the new size, rate or bit rate from the transcoder's next key frame.
   */
  async updateSubscription(streamId: string, parameters: VideoTranscodeParameters): Promise<void> {
    const consumer = [...this.#consumers.values()].find((c) => c.producerId === streamId);
    if (!consumer) throw new TesseraClientError(1004, `not receiving ${streamId}`);
    await this.#request('subscription.control', {
      consumerId: consumer.id,
      operation: 'update',
      video: { parameters },
    });
    const asked = this.#videoRequests.get(streamId);
    this.#videoRequests.set(streamId, { ...asked, parameters: { ...asked?.parameters, ...parameters } });
  }

  /** WebRTC statistics of the whole media path: the sending and the receiving transport. */
  async transportStats(): Promise<{ send?: RTCStatsReport; recv?: RTCStatsReport }> {
    const [send, recv] = await Promise.all(
      [this.#sendTransport, this.#recvTransport].map((t) =>
        t && !t.closed ? t.getStats().catch(() => undefined) : undefined,
      ),
    );
    return { ...(send ? { send } : {}), ...(recv ? { recv } : {}) };
  }

  /** WebRTC statistics of a received stream (inbound-rtp, codec, candidate pair…). */
  async stats(streamId: string): Promise<RTCStatsReport | undefined> {
    return [...this.#consumers.values()].find((c) => c.producerId === streamId && !c.closed)?.getStats();
  }

  /**
   * OWT's mix: your own published stream (the id `publish` answered) into one of the room's
   * views (by label), so its mixed stream shows and plays it. Publications are mixed into every
   * view on publish; `unmix` takes one out.
   */
  async mix(streamId: string, view: string): Promise<void> {
    await this.#request('stream.mix', { streamId, view, op: 'add' });
  }

  /** Takes your published stream out of a view's mixed stream (see `mix`). */
  async unmix(streamId: string, view: string): Promise<void> {
    await this.#request('stream.mix', { streamId, view, op: 'remove' });
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

  /** Leaves the room: the others see it go at once (a lost connection would be waited for). */
  async leave(): Promise<void> {
    if (this.#closed) return;
    await this.#request('logout', {}, 2000).catch(() => {});
    this.#end();
  }

  /** The page is going away: say so (a normal close), so the server does not wait for a resume. */
  #goodbye(): void {
    if (this.#closed) return;
    void this.#request('logout', {}, 1000).catch(() => {});
    this.#end();
  }

  /** `connected`: the server connected it at login, with our certificate's fingerprint. */
  #setUpSend(options: types.TransportOptions, connected: boolean): types.Transport {
    const transport = this.#device.createSendTransport(options);
    transport.on('connect', ({ dtlsParameters }, done) => {
      if (connected) this.#expectIdentity(dtlsParameters);
      else this.#connectAlongside(transport, { transportId: transport.id, dtlsParameters });
      done();
    });
    transport.on('produce', ({ kind, rtpParameters, appData }, done, fail) => {
      this.#request<{ id: string }>('publish', {
        transportId: transport.id,
        kind,
        rtpParameters,
        source: appData.source,
        ...(appData.publication ? { stream: appData.publication } : {}),
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
    this.#watchIce(transport);
    return transport;
  }

  /** Login params: our certificate's fingerprint, when we have one (see dtlsIdentity.ts). */
  get #loginDtls(): { dtlsParameters?: types.DtlsParameters } {
    return this.#dtls ? { dtlsParameters: this.#dtls.parameters } : {};
  }

  /** A transport's options from a login answer: ICE servers, and our certificate. */
  #transportOptions(transport: types.TransportOptions, login: LoginResult): types.TransportOptions {
    const options = withIce(transport, login, this.#ice);
    return this.#dtls
      ? {
          ...options,
          additionalSettings: { ...options.additionalSettings, certificates: [this.#dtls.certificate] },
        }
      : options;
  }

  /**
   * A transport the server connected at login: the browser must be using our certificate, or
   * DTLS cannot succeed. Every browser with `generateCertificate` honours `certificates`; should
   * one not, this says why its media never flows, and later logins go the classic way.
   */
  #expectIdentity(dtlsParameters: types.DtlsParameters): void {
    if (!this.#dtls || usesIdentity(this.#dtls, dtlsParameters)) return;
    console.error(
      'tessera: the browser did not use the DTLS certificate given; this transport cannot connect',
    );
    this.#dtls = undefined;
  }

  /**
   * Tells the server our DTLS parameters without waiting for its answer: the browser starts ICE
   * and DTLS at once, beside the request (one round trip less before media; a queue's round
   * trip in cluster mode). The node answers ICE checks from the transport's creation and, as
   * DTLS server, holds the handshake until the fingerprint arrives. A refusal means the
   * transport is gone on the server (the session is ending) or a bug: told, as consume() did.
   */
  #connectAlongside(
    transport: types.Transport,
    params: Params<'transport.connect'>,
    onConnected: () => void = () => {},
  ): void {
    this.#request('transport.connect', params).then(onConnected, (e) => {
      if (!transport.closed && !this.#closed) console.warn('tessera: transport.connect failed', e);
    });
  }

  /**
   * `resumeOnConnect`: consumers from login, resumed by the server in the connect round trip
   * (or at login already when it `connected` the transport).
   */
  #setUpRecv(
    options: types.TransportOptions,
    resumeOnConnect: string[],
    connected: boolean,
  ): types.Transport {
    const transport = this.#device.createRecvTransport(options);
    transport.on('connect', ({ dtlsParameters }, done) => {
      mark('recv-connect-sent');
      if (connected) this.#expectIdentity(dtlsParameters);
      else
        this.#connectAlongside(
          transport,
          { transportId: transport.id, dtlsParameters, resume: resumeOnConnect },
          () => mark('recv-connect-done'),
        );
      done();
    });
    transport.on('connectionstatechange', (state) => {
      if (state === 'connected') mark('recv-connected');
    });
    this.#watchIce(transport);
    return transport;
  }

  /**
   * A media path that breaks while signaling works gets an ICE restart. 'disconnected' may heal
   * by itself (a short loss), so it first gets a moment, and a ping tells whether the node is
   * still there (if not, the health check moves the session); 'failed' is restarted at once.
   */
  #watchIce(transport: types.Transport): void {
    let broken = false;
    transport.on('connectionstatechange', (state) => {
      if (state === 'connected' && broken) void this.#askForKeyFrames(transport);
      broken = state === 'disconnected' || state === 'failed' || (broken && state !== 'connected');
      if (state === 'failed') void this.#restartIce(transport);
      else if (state === 'disconnected') {
        setTimeout(() => {
          if (transport.connectionState === 'disconnected') void this.#checkHealth();
        }, 0);
        setTimeout(() => {
          if (transport.connectionState === 'disconnected') void this.#restartIce(transport);
        }, ICE_DISCONNECTED_GRACE_MS);
      }
    });
  }

  /**
   * A media path that came back: video decoders on either side would otherwise wait for a key
   * frame of their own asking (seconds), so we ask for them now: for what we receive, and from
   * our subscribers for what we send.
   */
  async #askForKeyFrames(transport: types.Transport): Promise<void> {
    const requests =
      transport === this.#recvTransport
        ? [...this.#consumers.values()]
            .filter((c) => c.kind === 'video' && !c.closed)
            .map((c) => this.#request('subscription.control', { consumerId: c.id, operation: 'resume' }))
        : [...this.#producers.values()]
            .filter((p) => p.kind === 'video' && !p.closed)
            .map((p) => this.#request('stream.control', { producerId: p.id, operation: 'keyframe' }));
    await Promise.allSettled(requests);
  }

  /**
   * Restarts ICE (new credentials from the server, then an ICE-restart offer) until the
   * transport connects again, backing off between tries while the network stays down. Waits
   * out a resume or rejoin in progress; a rejoin replaces the transport, which ends this.
   */
  async #restartIce(transport: types.Transport): Promise<void> {
    if (this.#restartingIce.has(transport)) return;
    this.#restartingIce.add(transport);
    const current = () =>
      !this.#closed &&
      !transport.closed &&
      (transport === this.#sendTransport || transport === this.#recvTransport);
    try {
      for (let attempt = 0; current() && transport.connectionState !== 'connected'; attempt++) {
        if (this.#recovering || !this.#channel.open) {
          await (this.#recovering ?? sleep(500));
          continue;
        }
        try {
          const { iceParameters, iceServers } = await this.#request<{
            iceParameters: types.IceParameters;
            iceServers?: IceServer[];
          }>('transport.restartIce', { transportId: transport.id });
          if (!current()) return;
          // Fresh TURN credentials (the login's may have expired in a long session).
          if (iceServers && !this.#ice.iceServers)
            await transport.updateIceServers({ iceServers: iceServers as RTCIceServer[] });
          await transport.restartIce({ iceParameters });
        } catch (e) {
          if (e instanceof TesseraClientError && e.code === 1001) return; // the transport is gone server-side
        }
        await connectedWithin(transport, ICE_RESTART_WAIT_MS);
        // (re-read: the await above may have changed it)
        if ((transport.connectionState as string) !== 'connected') await sleep(nextDelay(attempt));
      }
    } finally {
      this.#restartingIce.delete(transport);
    }
  }

  async #consume(params: ConsumerParams, resume: boolean): Promise<MediaStreamTrack> {
    if (this.#closedEarly.delete(params.id) || !this.streams.has(params.producerId))
      throw new TesseraClientError(1004, `stream ${params.producerId} is gone`);
    const consumer = await this.#recvTransport!.consume(params);
    this.#consumers.set(consumer.id, consumer);
    if (resume) {
      try {
        await this.#request('subscription.control', { consumerId: consumer.id, operation: 'resume' });
      } catch (e) {
        // The stream ended (or was replaced) between the subscription and its start: gone, not an error.
        if (e instanceof TesseraClientError && (e.code === 1001 || e.code === 1004))
          this.#dropConsumer(consumer);
        // Not started (the socket went meanwhile: a resume): forgotten here, so that the retried
        // subscribe, told of the server's paused consumer, lets that one go instead of giving up.
        consumer.close();
        this.#consumers.delete(consumer.id);
        throw e;
      }
    }
    const announced = this.streams.get(params.producerId);
    // Its removal arrived while the consumer was being set up (it was not in #consumers yet for
    // #streamRemoved to close): a track that would never receive anything.
    if (!announced) this.#dropConsumer(consumer);
    const owner = announced.owner;
    const remote: RemoteTrack = {
      streamId: params.producerId,
      publicationId: publicationOf(announced),
      owner,
      kind: params.kind,
      track: consumer.track,
    };
    this.#remoteTracks.set(consumer.id, remote);
    consumer.observer.once('close', () => {
      this.#remoteTracks.delete(consumer.id);
      this.#consumers.delete(consumer.id);
    });
    this.emit('track', remote);
    return consumer.track;
  }

  /** A consumer whose stream is gone: closed, and its `subscribe` answers 1004. */
  #dropConsumer(consumer: types.Consumer): never {
    consumer.close();
    this.#consumers.delete(consumer.id);
    throw new TesseraClientError(1004, `stream ${consumer.producerId} is gone`);
  }

  #onEvent(message: ServerEvent): void {
    switch (message.event) {
      case 'participant': {
        const p = message.data.participant;
        if (message.data.action === 'join') {
          // (a join may be told twice: once listed in the login answer, once as an event after it)
          const known = this.participants.has(p.id) || p.id === this.participant.id;
          this.participants.set(p.id, p);
          if (!known) this.emit('participantjoined', p);
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
          this.#streamRemoved(s);
        } else this.#streamAnnounced(s);
        break;
      }
      case 'text':
        this.emit('text', message.data);
        break;
      case 'activeSpeaker':
        this.emit('activespeaker', message.data);
        break;
      case 'progress':
        if (message.data.status === 'consumerClosed') {
          const consumer = this.#consumers.get(message.data.id);
          if (consumer) consumer.close();
          // Its `subscribe` answer is still on the way: it must not start when it arrives.
          else if (this.#closedEarly.size < 1000) this.#closedEarly.add(message.data.id);
        }
        break;
      case 'session':
        this.#onSession(message.data);
        break;
      case 'drop':
        this.emit('dropped', message.data);
        if (message.data.rejoin) void this.#recover('failover', message.data.reason);
        else this.#end(message.data.reason);
        break;
    }
  }

  #streamRemoved(s: StreamAnnouncement): void {
    this.streams.delete(s.id);
    this.#videoRequests.delete(s.id);
    this.#audioRequests.delete(s.id);
    this.#chosen.delete(s.id);
    for (const consumer of this.#consumers.values()) if (consumer.producerId === s.id) consumer.close();
    this.emit('streamremoved', s);
  }

  /** A stream added or updated; a new one is subscribed to (autoSubscribe). */
  #streamAnnounced(s: StreamAnnouncement): void {
    const before = this.streams.get(s.id);
    this.streams.set(s.id, s);
    if (before) {
      if (JSON.stringify(before) !== JSON.stringify(s)) this.emit('streamupdated', s);
      return;
    }
    this.emit('streamadded', s);
    // Through the same path as listed streams: a rate limit (1303) is waited out, not lost.
    if (this.#wanted(s) && s.owner !== this.participant.id && this.#recvTransport)
      void this.#subscribeEach([s.id], this.#generation);
  }

  /** Whether autoSubscribe takes this stream: media; mixed streams with `'all'`, only those with `'mixed'`. */
  #wanted(s: StreamAnnouncement | undefined): boolean {
    if (!s || s.kind === 'data' || !this.#autoSubscribe) return false;
    if (this.#autoSubscribe === 'mixed') return s.type === 'mixed';
    return s.type !== 'mixed' || this.#autoSubscribe === 'all';
  }

  /** Whether we receive this stream without being asked again: autoSubscribe's, or one the caller chose. */
  #receives(s: StreamAnnouncement | undefined): boolean {
    return this.#wanted(s) || (s !== undefined && this.#chosen.has(s.id));
  }

  /**
   * What login asks the server to subscribe us to: participants' streams by default, the mixed
   * ones as well with `'all'`, nothing when the caller chooses (false, or `'mixed'`: the SDK
   * subscribes to those itself).
   */
  get #loginSubscribe(): { subscribe?: false | 'all' } {
    if (this.#autoSubscribe === 'all') return { subscribe: 'all' };
    return this.#autoSubscribe === true ? {} : { subscribe: false };
  }

  #request<T = unknown>(method: Method, params: unknown, timeoutMs = this.#timeoutMs): Promise<T> {
    return this.#channel.request<T>(method, params, timeoutMs);
  }

  /** Ends the session: with a reason, the server ended it (or it could not come back); without, we left. */
  #end(reason?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#health);
    clearInterval(this.#mediaWatch);
    for (const timer of this.#sessionTimers) clearTimeout(timer);
    globalThis.removeEventListener?.('pagehide', this.#onPageHide);
    this.#channel.close(CloseCodes.leaving);
    this.#sendTransport?.close();
    this.#recvTransport?.close();
    this.#setState('disconnected', reason ?? 'left');
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
/** How often the transports carrying media are sampled, and how long without a byte is a stall. */
const MEDIA_WATCH_MS = 500;
const MEDIA_STALL_MS = 1000;
/** A health-check ping unanswered this long counts as lost. */
const PING_TIMEOUT_MS = 1500;
const SOCKET_TIMEOUT_MS = 5000;
const LOGIN_TIMEOUT_MS = 4000;
/** How long a 'disconnected' transport gets to heal by itself before its ICE is restarted. */
const ICE_DISCONNECTED_GRACE_MS = 1500;
/** How long one ICE restart gets to connect before the next. */
const ICE_RESTART_WAIT_MS = 4000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once the transport connects, or after `ms`. */
function connectedWithin(transport: types.Transport, ms: number): Promise<void> {
  if (transport.connectionState === 'connected') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      transport.off('connectionstatechange', onChange);
      resolve();
    }
    function onChange(state: string) {
      if (state === 'connected' || transport.closed) done();
    }
    transport.on('connectionstatechange', onChange);
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
