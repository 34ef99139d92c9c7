import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { StorageError } from '../../errors.ts';
import type { EventSink } from '../../ports/events.ts';
import type { TesseraEvent } from '../../protocol/events.ts';
import { SignedSqs } from './SignedSqs.ts';

/** An event as a queue consumer receives it. */
export interface QueuedEvent {
  messageId: string;
  body: string;
  receipt: string;
  /** Deliveries so far, this one included (drives the retry backoff). */
  receiveCount: number;
}

/** SQS takes at most 10 messages per batch. */
const BATCH = 10;

/**
 * Events onto one queue per deployment, `<prefix>events`, which the webhook Lambda consumes
 * (infra creates it with its dead-letter queue; a node creates it only where nobody did, as in
 * the local cluster). One message per event, its body the event JSON.
 */
export class SqsEventSink implements EventSink {
  readonly #sqs: SQSClient;
  /** Publish, receive and acknowledge: signed without the SDK's stack (a join publishes events). */
  readonly #hot: SignedSqs;
  readonly #name: string;
  #url: Promise<string> | undefined;

  constructor(sqs: SQSClient, options: { prefix: string }) {
    this.#sqs = sqs;
    this.#hot = SignedSqs.of(sqs);
    this.#name = `${options.prefix}events`;
  }

  get queueName(): string {
    return this.#name;
  }

  async publish(events: TesseraEvent[]): Promise<void> {
    try {
      const QueueUrl = await this.queueUrl();
      for (let i = 0; i < events.length; i += BATCH) {
        const batch = events.slice(i, i + BATCH);
        const { Failed } = await this.#hot.send('SendMessageBatch', {
          QueueUrl,
          Entries: batch.map((e, n) => ({ Id: String(n), MessageBody: JSON.stringify(e) })),
        });
        if (Failed?.length) throw new Error(`${Failed.length} events refused: ${Failed[0]?.Message}`);
      }
    } catch (error) {
      this.#url = undefined;
      throw new StorageError('event queue unavailable', error);
    }
  }

  /** Events off the queue (the local cluster's webhook poller and tests); `ack` deletes them. */
  async receive(options: { waitMs: number; max: number }): Promise<QueuedEvent[]> {
    const { Messages } = await this.#hot.send('ReceiveMessage', {
      QueueUrl: await this.queueUrl(),
      WaitTimeSeconds: Math.min(20, Math.ceil(options.waitMs / 1000)),
      MaxNumberOfMessages: Math.min(BATCH, options.max),
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    });
    return (Messages ?? []).map((m) => ({
      messageId: m.MessageId ?? '',
      body: m.Body ?? '',
      receipt: m.ReceiptHandle!,
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
    }));
  }

  /** Hides a received event for `seconds` (the retry backoff of a failed delivery). */
  async delay(receipt: string, seconds: number): Promise<void> {
    await this.#sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: await this.queueUrl(),
        ReceiptHandle: receipt,
        VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(seconds))),
      }),
    );
  }

  async ack(receipts: string[]): Promise<void> {
    if (receipts.length === 0) return;
    await this.#hot.send('DeleteMessageBatch', {
      QueueUrl: await this.queueUrl(),
      Entries: receipts.map((ReceiptHandle, n) => ({ Id: String(n), ReceiptHandle })),
    });
  }

  queueUrl(): Promise<string> {
    this.#url ??= this.#resolve();
    return this.#url;
  }

  async #resolve(): Promise<string> {
    try {
      const { QueueUrl } = await this.#sqs.send(new GetQueueUrlCommand({ QueueName: this.#name }));
      return QueueUrl!;
    } catch (error) {
      if (!(error instanceof QueueDoesNotExist)) throw error;
      const { QueueUrl } = await this.#sqs.send(new CreateQueueCommand({ QueueName: this.#name }));
      return QueueUrl!;
    }
  }
}
