import type { RecordingStore } from '../../shared/ports/durable.ts';
import type { TesseraEvent } from '../../shared/protocol/events.ts';
import type { Recording } from '../../shared/protocol/http/recording.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { settleRecording } from '../services/RecordingService.ts';

/**
 * The node's `recording.*` events into the durable recording records: `started` makes a
 * starting one `recording`; `ended` and `failed` write what it wrote (files, bytes, duration)
 * and how it ended. Idempotent (an event delivered twice changes nothing more) and tolerant of
 * order (an end is final; a late start does not undo it). A recording without a record (started
 * by a command, not over REST) is left alone.
 */
export class RecordingProjection {
  readonly #store: RecordingStore;

  constructor(store: RecordingStore) {
    this.#store = store;
  }

  /** Throws when the store fails (a queued event is then retried). */
  async apply(event: TesseraEvent): Promise<void> {
    if (
      event.type !== 'recording.started' &&
      event.type !== 'recording.ended' &&
      event.type !== 'recording.failed'
    )
      return;
    if (!event.serviceId || !event.roomId) return;
    const report = event.data.recording;
    const key = roomKey(event.serviceId, event.roomId);
    // A record failed because its node went silent is final too, except to that node's own
    // later report (its recovery at restart): the sweep's own event (as old as its endedAt) is not.
    const final = (r: Recording) =>
      (r.status === 'stopped' || r.status === 'failed') && !(r.lost && event.at > (r.endedAt ?? ''));
    await settleRecording(this.#store, key, report.id, (r) => {
      if (final(r)) return undefined;
      if (event.type === 'recording.started')
        return r.status === 'starting' ? { ...r, status: 'recording' } : undefined;
      const { lost: _, ...settled } = r;
      return {
        ...settled,
        status: event.type === 'recording.failed' ? 'failed' : 'stopped',
        endedAt: event.at,
        bytes: report.bytes,
        durationMs: report.durationMs,
        files: report.files,
        ...(report.reason ? { reason: report.reason } : {}),
        ...(report.files[0] ? { storage: { host: r.storage.host, file: report.files[0].key } } : {}),
      };
    });
  }
}
