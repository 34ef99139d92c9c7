import type { types } from 'mediasoup';
import { LimitError } from '../../shared/errors.ts';
import type { Permission } from '../../shared/protocol/http/liveState.ts';
import { nullSink, type ParticipantSink } from './ParticipantSink.ts';

/** The stream a consumer subscribes to: its producer's, unless another stands in for it (mix-minus). */
export const streamOfConsumer = (c: types.Consumer): string =>
  typeof c.appData?.streamId === 'string' ? c.appData.streamId : c.producerId;

/** What one participant may hold at once on this node (config.limits). */
export interface PeerLimits {
  producersPerParticipant: number;
  dataProducersPerParticipant: number;
  /** Media and data consumers together. */
  consumersPerParticipant: number;
}

type Counted = 'producers' | 'dataProducers' | 'consumers';

export interface PeerInfo {
  id: string;
  user: string;
  role: string;
  permission: Permission;
}

/** One participant's media state on this node: its transports, producers and consumers. */
export class Peer {
  readonly info: PeerInfo;
  /** The signaling connection that speaks for it (empty for a participant without one). */
  #connectionId: string;
  /** Where its events go (its WebSocket today). */
  #sink: ParticipantSink;
  rtpCapabilities: types.RtpCapabilities | undefined;
  readonly transports = new Map<string, types.WebRtcTransport>();
  readonly producers = new Map<string, { producer: types.Producer; source: string }>();
  readonly consumers = new Map<string, types.Consumer>();
  readonly dataProducers = new Map<string, types.DataProducer>();
  readonly dataConsumers = new Map<string, types.DataConsumer>();
  /** Producer ids with a subscription being created (requests may overlap the awaits). */
  readonly subscribing = new Set<string>();
  /** Objects being created, counted against the caps before they exist. */
  readonly #pending: Record<Counted, number> = { producers: 0, dataProducers: 0, consumers: 0 };
  #closed = false;

  constructor(info: PeerInfo, connectionId: string, sink: ParticipantSink = nullSink) {
    this.info = info;
    this.#connectionId = connectionId;
    this.#sink = sink;
  }

  get connectionId(): string {
    return this.#connectionId;
  }

  get sink(): ParticipantSink {
    return this.#sink;
  }

  /** A resumed session: a new connection takes the peer over. Returns the sink it replaces. */
  attach(connectionId: string, sink: ParticipantSink): ParticipantSink {
    const previous = this.#sink;
    this.#connectionId = connectionId;
    this.#sink = sink;
    return previous;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closing the transports closes every producer and consumer on them. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const transport of this.transports.values()) transport.close();
  }

  /**
   * Claims room for one more producer, data producer or consumer under its cap, or throws a
   * LimitError naming the limit. Call the returned release once the object exists (it is then
   * counted in its map) or failed.
   */
  reserve(what: Counted, limits: PeerLimits): () => void {
    const [held, cap, name] =
      what === 'producers'
        ? [this.producers.size, limits.producersPerParticipant, 'producersPerParticipant']
        : what === 'dataProducers'
          ? [this.dataProducers.size, limits.dataProducersPerParticipant, 'dataProducersPerParticipant']
          : [
              this.consumers.size + this.dataConsumers.size,
              limits.consumersPerParticipant,
              'consumersPerParticipant',
            ];
    if (held + this.#pending[what] >= cap) {
      throw new LimitError(`limit ${name} reached: at most ${cap} ${label[what]} per participant`, {
        limit: name,
        max: cap,
      });
    }
    this.#pending[what]++;
    let released = false;
    return () => {
      if (!released) this.#pending[what]--;
      released = true;
    };
  }

  /** A consumer of this producer, if the peer has one (one per producer and peer). */
  consumerOf(producerId: string): types.Consumer | types.DataConsumer | undefined {
    for (const c of this.consumers.values()) if (streamOfConsumer(c) === producerId) return c;
    for (const c of this.dataConsumers.values()) if (c.dataProducerId === producerId) return c;
    return undefined;
  }

  /** Audio or video: a participant who may publish either may also publish data channels. */
  mayPublishAny(): boolean {
    const p = this.info.permission.publish;
    return p !== false && (p.audio || p.video);
  }

  /** Whether the peer needs a receive transport at all. */
  maySubscribeAny(): boolean {
    const s = this.info.permission.subscribe;
    return s !== false && (s.audio || s.video);
  }

  mayPublish(kind: 'audio' | 'video'): boolean {
    return this.info.permission.publish !== false && this.info.permission.publish[kind];
  }

  maySubscribe(kind: 'audio' | 'video'): boolean {
    return this.info.permission.subscribe !== false && this.info.permission.subscribe[kind];
  }
}

const label: Record<Counted, string> = {
  producers: 'audio/video streams',
  dataProducers: 'data channels',
  consumers: 'subscriptions',
};
