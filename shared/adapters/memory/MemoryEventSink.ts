import type { EventSink, EventSource } from '../../ports/events.ts';
import type { TesseraEvent } from '../../protocol/events.ts';

/** Events handed to in-process subscribers (embedded mode); a throwing subscriber harms no one. */
export class MemoryEventSink implements EventSink, EventSource {
  readonly #listeners = new Set<(event: TesseraEvent) => void>();

  async publish(events: TesseraEvent[]): Promise<void> {
    for (const event of events)
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch {
          // A consumer's bug must not cost the others their events.
        }
      }
  }

  subscribe(listener: (event: TesseraEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** Events go nowhere (no consumer configured). */
export class NullEventSink implements EventSink {
  async publish(): Promise<void> {}
}
