import { ConflictError } from '../../shared/errors.ts';
import type { StreamingOutStore } from '../../shared/ports/live.ts';
import type { TesseraEvent } from '../../shared/protocol/events.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';

/**
 * The node's pipeline events of `stream-out` pipelines into the streaming-outs' live records:
 * started → `streaming`, failed → `failed` with its reason (listed until deleted), ended (stopped,
 * its input went, the room closed) → gone, as OWT lists running streaming-outs only. Idempotent.
 */
export class StreamingOutProjection {
  readonly #store: StreamingOutStore;

  constructor(store: StreamingOutStore) {
    this.#store = store;
  }

  /** Throws when the store fails (a queued event is then retried). */
  async apply(event: TesseraEvent): Promise<void> {
    if (
      event.type !== 'pipeline.started' &&
      event.type !== 'pipeline.failed' &&
      event.type !== 'pipeline.ended'
    )
      return;
    const { pipeline } = event.data;
    if (pipeline.kind !== 'stream-out' || !event.serviceId || !event.roomId) return;
    const key = roomKey(event.serviceId, event.roomId);
    if (event.type === 'pipeline.ended') {
      await this.#store.delete(key, pipeline.id);
      return;
    }
    for (let attempt = 1; ; attempt++) {
      const out = await this.#store.get(key, pipeline.id);
      if (!out || out.status === 'failed') return;
      if (event.type === 'pipeline.started' && out.status !== 'starting') return;
      const next =
        event.type === 'pipeline.started'
          ? { ...out, status: 'streaming' as const }
          : { ...out, status: 'failed' as const, ...(pipeline.reason ? { reason: pipeline.reason } : {}) };
      try {
        await this.#store.update({ ...next, version: out.version + 1 });
        return;
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt === 5) throw error;
      }
    }
  }
}
