import type { TesseraEvent } from '../protocol/events.ts';

/**
 * Where events go (seam 5; LiveKit's TelemetryService). `publish` resolves once the sink holds
 * the events (memory: handed to subscribers; SQS: accepted by the queue). Producers on the media
 * path never await it (media-node/events/RoomEvents.ts buffers and drops instead).
 */
export interface EventSink {
  publish(events: TesseraEvent[]): Promise<void>;
}

/** A sink whose events are consumed in this process (the embedded mode's memory sink). */
export interface EventSource {
  /** Calls `listener` for every event published from now on; returns the unsubscribe. */
  subscribe(listener: (event: TesseraEvent) => void): () => void;
}
