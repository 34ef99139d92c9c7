import type { Logger } from '../../shared/logger.ts';
import type { EventSink } from '../../shared/ports/events.ts';
import { type EventOf, type EventType, newEvent, type TesseraEvent } from '../../shared/protocol/events.ts';
import { parseRoomKey } from '../../shared/protocol/http/roomKey.ts';
import type { StreamAnnouncement } from '../../shared/protocol/signaling.ts';
import type { Pipelines } from '../pipelines/Pipelines.ts';
import type { RoomRegistry } from '../sfu/RoomRegistry.ts';

export interface RoomEventsOptions {
  nodeId: string;
  rooms: RoomRegistry;
  sink: EventSink;
  logger: Logger;
  /** Events held while the sink is slow or down; the oldest go first beyond it. */
  maxBuffered?: number;
  /** Wait before retrying a batch the sink refused. */
  retryMs?: number;
  /** Sees every event as it is made (metrics count them). */
  tap?: ((event: TesseraEvent) => void) | undefined;
}

const BATCH = 50;

/**
 * Turns what happens in this node's rooms into events (seam 5) and hands them to the sink.
 * Media never waits: listeners only append to a bounded buffer that one loop drains; a sink
 * that is down costs memory up to `maxBuffered` events, then the oldest events.
 */
export class RoomEvents {
  readonly #o: Required<Omit<RoomEventsOptions, 'tap'>> & Pick<RoomEventsOptions, 'tap'>;
  readonly #buffer: TesseraEvent[] = [];
  #flushing = false;
  #dropped = 0;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: RoomEventsOptions) {
    this.#o = { maxBuffered: 10_000, retryMs: 1000, ...options };
    this.#push(newEvent('node.started', { nodeId: options.nodeId, data: {} }));
    options.rooms.on('roomcreated', (room) => {
      const { serviceId, roomId } = parseRoomKey(room.id);
      const emit = <T extends EventType>(type: T, data: EventOf<T>['data']) =>
        this.#push(newEvent(type, { serviceId, roomId, nodeId: this.#o.nodeId, data } as never));
      // What this node announced, to describe removals and to close out on room close.
      const peers = new Map<string, { id: string; user: string; role: string }>();
      const streams = new Map<string, StreamAnnouncement>();
      emit('room.started', {});
      room.on('peerjoined', ({ info }) => {
        const participant = { id: info.id, user: info.user, role: info.role };
        peers.set(info.id, participant);
        emit('participant.joined', { participant });
      });
      room.on('peerleft', ({ info }) => {
        const participant = peers.get(info.id);
        if (!participant) return;
        peers.delete(info.id);
        emit('participant.left', { participant });
      });
      room.on('streamadded', (s) => {
        streams.set(s.id, s);
        emit('stream.added', { stream: { ...s } });
        // Pause and resume, from the producer's observer (mediasoup's hook for monitoring).
        const producer = room.peers?.get(s.owner)?.producers.get(s.id)?.producer;
        const update = (paused: boolean) => {
          const known = streams.get(s.id);
          if (!known || known.paused === paused) return;
          streams.set(s.id, { ...known, paused });
          emit('stream.updated', { stream: { ...known, paused } });
        };
        producer?.observer.on('pause', () => update(true));
        producer?.observer.on('resume', () => update(false));
      });
      room.on('streamremoved', (id) => {
        const stream = streams.get(id);
        if (!stream) return;
        streams.delete(id);
        emit('stream.removed', { stream: { ...stream } });
      });
      room.once('close', () => {
        // A closing room drops its peers without a word each: consumers still hear the ends.
        for (const stream of streams.values()) emit('stream.removed', { stream: { ...stream } });
        for (const participant of peers.values()) emit('participant.left', { participant });
        emit('room.finished', {});
      });
    });
  }

  /** Pipeline lifecycles in the event stream: started (its first run), failed, ended. */
  followPipelines(pipelines: Pipelines): void {
    pipelines.on('pipelinecreated', (pipeline) => {
      const { serviceId, roomId } = parseRoomKey(pipeline.roomId);
      const emit = (type: 'pipeline.started' | 'pipeline.failed' | 'pipeline.ended', reason?: string) =>
        this.#push(
          newEvent(type, {
            serviceId,
            roomId,
            nodeId: this.#o.nodeId,
            data: { pipeline: { id: pipeline.id, kind: pipeline.kind, ...(reason ? { reason } : {}) } },
          }),
        );
      // Its observer: a throwing listener here must not break the pipeline (mediasoup's idiom).
      pipeline.observer.on('started', ({ restarts }) => {
        if (restarts === 0) emit('pipeline.started');
      });
      pipeline.observer.on('failed', ({ reason }) => emit('pipeline.failed', reason));
      pipeline.observer.on('ended', ({ reason }) => emit('pipeline.ended', reason));
    });
  }

  /** Events lost to a full buffer so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The node these events are from. */
  get nodeId(): string {
    return this.#o.nodeId;
  }

  /** Adds an event from elsewhere on the node (pipelines, node lifecycle). */
  publish(event: TesseraEvent): void {
    this.#push(event);
  }

  /** Sends what is buffered (best effort, bounded by `timeoutMs`), then stops. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.#closed) return;
    this.#push(newEvent('node.stopped', { nodeId: this.#o.nodeId, data: {} }));
    const deadline = Date.now() + timeoutMs;
    while (this.#buffer.length > 0 && Date.now() < deadline) {
      await this.#flush();
      if (this.#buffer.length > 0) await new Promise((r) => setTimeout(r, 50));
    }
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #push(event: TesseraEvent): void {
    if (this.#closed) return;
    this.#o.tap?.(event);
    this.#buffer.push(event);
    if (this.#buffer.length > this.#o.maxBuffered) {
      this.#buffer.shift();
      if (this.#dropped++ % 1000 === 0)
        this.#o.logger.warn('events dropped: sink too slow', { dropped: this.#dropped });
    }
    if (!this.#timer) queueMicrotask(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    if (this.#flushing || this.#closed) return;
    this.#flushing = true;
    try {
      while (this.#buffer.length > 0) {
        const batch = this.#buffer.slice(0, BATCH);
        try {
          await this.#o.sink.publish(batch);
        } catch (error) {
          this.#o.logger.warn('event sink unavailable; retrying', { error, buffered: this.#buffer.length });
          this.#timer = setTimeout(() => {
            this.#timer = undefined;
            void this.#flush();
          }, this.#o.retryMs);
          return;
        }
        // The buffer may have shifted meanwhile (drops): remove exactly what was sent.
        for (const sent of batch) {
          const at = this.#buffer.indexOf(sent);
          if (at >= 0) this.#buffer.splice(at, 1);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}
