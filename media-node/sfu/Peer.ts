import type { types } from 'mediasoup';
import type { Permission } from '../../shared/protocol/http/liveState.ts';

export interface PeerInfo {
  id: string;
  user: string;
  role: string;
  permission: Permission;
}

/** One participant's media state on this node: its transports, producers and consumers. */
export class Peer {
  readonly info: PeerInfo;
  connectionId: string;
  rtpCapabilities: types.RtpCapabilities | undefined;
  readonly transports = new Map<string, types.WebRtcTransport>();
  readonly producers = new Map<string, { producer: types.Producer; source: string }>();
  readonly consumers = new Map<string, types.Consumer>();
  readonly dataProducers = new Map<string, types.DataProducer>();
  readonly dataConsumers = new Map<string, types.DataConsumer>();
  #closed = false;

  constructor(info: PeerInfo, connectionId: string) {
    this.info = info;
    this.connectionId = connectionId;
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

  mayPublish(kind: 'audio' | 'video'): boolean {
    return this.info.permission.publish !== false && this.info.permission.publish[kind];
  }

  maySubscribe(kind: 'audio' | 'video'): boolean {
    return this.info.permission.subscribe !== false && this.info.permission.subscribe[kind];
  }
}
