import type { Adapters } from '../shared/adapters/select.ts';
import type { Logger } from '../shared/logger.ts';
import type { TesseraEvent } from '../shared/protocol/events.ts';
import { RecordingProjection } from './recordings/RecordingProjection.ts';
import { StreamingOutProjection } from './streaming/StreamingOutProjection.ts';

/**
 * What the nodes' events keep up to date besides webhooks: the recordings' records and the
 * streaming-outs' status. `apply` throws when a store fails (a queued event is retried);
 * `listener` is for an in-process event source (failures logged).
 */
export function eventProjections(adapters: Pick<Adapters, 'recordings' | 'streamingOuts'>, logger: Logger) {
  const recordings = new RecordingProjection(adapters.recordings);
  const streamingOuts = new StreamingOutProjection(adapters.streamingOuts);
  const apply = async (event: TesseraEvent) => {
    await recordings.apply(event);
    await streamingOuts.apply(event);
  };
  return {
    apply,
    listener: () => (event: TesseraEvent) =>
      void apply(event).catch((error) =>
        logger.warn('event not projected', { eventId: event.id, type: event.type, error }),
      ),
  };
}
