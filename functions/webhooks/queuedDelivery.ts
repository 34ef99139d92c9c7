import type { QueuedEvent } from '../../shared/adapters/sqs/SqsEventSink.ts';
import type { Logger } from '../../shared/logger.ts';
import { EventSchema, type TesseraEvent } from '../../shared/protocol/events.ts';
import { backoffMs } from './signing.ts';
import type { WebhookDispatcher } from './WebhookDispatcher.ts';

/** SQS-side retry backoff: from 2 s, doubling, at most 15 min, fully jittered. */
export const QUEUE_BACKOFF = { baseMs: 2000, capMs: 15 * 60_000 } as const;

/**
 * One delivery attempt for each queued event (AWS and local cluster). Returns the message ids
 * that failed: they stay on the queue, hidden for a jittered backoff (`delay`), and come again
 * with the same event id until the queue's redrive policy moves them to its dead-letter queue.
 * A body that is no event is logged and dropped: retrying cannot fix it.
 */
export async function deliverQueued(
  dispatcher: Pick<WebhookDispatcher, 'deliverOnce'>,
  messages: QueuedEvent[],
  options: {
    logger: Logger;
    delay?: (receipt: string, seconds: number) => Promise<void>;
    /** Applied to each event before its delivery (the recordings' records); a throw retries the event. */
    project?: (event: TesseraEvent) => Promise<void>;
  },
): Promise<string[]> {
  const failed: string[] = [];
  await Promise.all(
    messages.map(async (m) => {
      let event: ReturnType<typeof EventSchema.parse>;
      try {
        event = EventSchema.parse(JSON.parse(m.body));
      } catch {
        options.logger.warn('queued event dropped: not a v1 event', { messageId: m.messageId });
        return;
      }
      const projected = await (options.project?.(event) ?? Promise.resolve()).then(
        () => true,
        (error: unknown) => {
          options.logger.warn('event not projected; retried', { eventId: event.id, error });
          return false;
        },
      );
      const result = projected
        ? await dispatcher.deliverOnce(event).catch(() => 'failed' as const)
        : 'failed';
      if (result !== 'failed') return;
      failed.push(m.messageId);
      const seconds = Math.max(1, backoffMs(m.receiveCount - 1, QUEUE_BACKOFF) / 1000);
      await options
        .delay?.(m.receipt, seconds)
        .catch((error) => options.logger.warn('webhook retry delay not set', { error }));
    }),
  );
  return failed;
}
