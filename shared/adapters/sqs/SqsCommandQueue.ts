import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ErrorCodes, StorageError, TesseraError } from '../../errors.ts';
import type {
  CommandBus,
  CommandQueue,
  DeadLetter,
  DeadLetterInbox,
  ReceivedCommand,
} from '../../ports/commands.ts';
import type { NodeCommand } from '../../protocol/commands.ts';
import { SignedSqs } from './SignedSqs.ts';

/**
 * An acknowledgement waits this long for company: one DeleteMessageBatch deletes up to ten (each
 * SQS call costs ~1 ms of CPU through the SDK). Nothing waits on it but the queue's bookkeeping:
 * the visibility timeout is 30 s, and a command redelivered meanwhile is skipped by the ledger.
 */
const ACK_BATCH_MS = 20;
const SQS_BATCH = 10;

interface PendingAck {
  receipt: string;
  resolve(): void;
  reject(error: unknown): void;
}

export interface SqsCommandQueueOptions {
  /** Queue names are `<prefix>node-<nodeId>`; a deployment's functions and nodes share the prefix. */
  prefix: string;
  visibilityTimeoutSeconds?: number;
  /** Deliveries before SQS moves a command to the dead-letter queue. */
  maxReceiveCount?: number;
}

/**
 * One SQS queue per media node, created by the node itself when it starts (nodes come and go
 * with their Auto Scaling group), and one dead-letter queue for the whole deployment,
 * `<prefix>dead-letter`, which the infrastructure creates and alarms on (a node creates it only
 *  where nobody did, as in the local cluster).
 */
export class SqsCommandQueue implements CommandBus, CommandQueue, DeadLetterInbox {
  readonly #sqs: SQSClient;
  /** Send, receive and acknowledge: the hot calls, signed without the SDK's stack. */
  readonly #hot: SignedSqs;
  readonly #options: Required<SqsCommandQueueOptions>;
  readonly #urls = new Map<string, string>();
  /** Acknowledgements waiting to be sent, by queue URL. */
  readonly #acks = new Map<string, { entries: PendingAck[]; timer: NodeJS.Timeout }>();

  constructor(sqs: SQSClient, options: SqsCommandQueueOptions) {
    this.#sqs = sqs;
    this.#hot = SignedSqs.of(sqs);
    this.#options = { visibilityTimeoutSeconds: 30, maxReceiveCount: 5, ...options };
  }

  queueName(nodeId: string): string {
    return `${this.#options.prefix}node-${nodeId}`;
  }

  get deadLetterQueueName(): string {
    return `${this.#options.prefix}dead-letter`;
  }

  async open(nodeId: string): Promise<void> {
    const dlq = await this.#deadLetterQueueUrl({ create: true });
    const { Attributes } = await this.#sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }),
    );
    const { QueueUrl } = await this.#sqs.send(
      new CreateQueueCommand({
        QueueName: this.queueName(nodeId),
        Attributes: {
          VisibilityTimeout: String(this.#options.visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: Attributes?.QueueArn,
            maxReceiveCount: this.#options.maxReceiveCount,
          }),
        },
      }),
    );
    this.#urls.set(this.queueName(nodeId), QueueUrl!);
  }

  async send(nodeId: string, command: NodeCommand): Promise<void> {
    const QueueUrl = await this.#nodeQueueUrl(nodeId);
    try {
      await this.#hot.send('SendMessage', { QueueUrl, MessageBody: JSON.stringify(command) });
    } catch (error) {
      throw new StorageError('command bus unavailable', error);
    }
  }

  async receive(nodeId: string, options: { waitMs: number; max: number }): Promise<ReceivedCommand[]> {
    const { Messages } = await this.#hot.send('ReceiveMessage', {
      QueueUrl: await this.#nodeQueueUrl(nodeId),
      WaitTimeSeconds: Math.min(20, Math.ceil(options.waitMs / 1000)),
      MaxNumberOfMessages: Math.min(10, options.max),
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    });
    return (Messages ?? []).map((m) => ({
      body: m.Body ?? '',
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
      receipt: m.ReceiptHandle!,
    }));
  }

  async ack(nodeId: string, received: ReceivedCommand): Promise<void> {
    const QueueUrl = await this.#nodeQueueUrl(nodeId);
    await new Promise<void>((resolve, reject) => {
      let pending = this.#acks.get(QueueUrl);
      if (!pending) {
        pending = { entries: [], timer: setTimeout(() => this.#sendAcks(QueueUrl), ACK_BATCH_MS) };
        this.#acks.set(QueueUrl, pending);
      }
      pending.entries.push({ receipt: received.receipt, resolve, reject });
      if (pending.entries.length === SQS_BATCH) this.#sendAcks(QueueUrl);
    });
  }

  #sendAcks(QueueUrl: string): void {
    const pending = this.#acks.get(QueueUrl);
    if (!pending) return;
    this.#acks.delete(QueueUrl);
    clearTimeout(pending.timer);
    const { entries } = pending;
    this.#hot
      .send('DeleteMessageBatch', {
        QueueUrl,
        Entries: entries.map((e, i) => ({ Id: String(i), ReceiptHandle: e.receipt })),
      })
      .then(
        ({ Failed }) => {
          const failed = new Map((Failed ?? []).map((f) => [Number(f.Id), f]));
          entries.forEach((e, i) => {
            const refused = failed.get(i);
            if (refused)
              e.reject(new Error(`acknowledgement refused: ${refused.Code} ${refused.Message ?? ''}`));
            else e.resolve();
          });
        },
        (error) => {
          for (const e of entries) e.reject(error);
        },
      );
  }

  async deadLetter(nodeId: string, received: ReceivedCommand, reason: string): Promise<void> {
    await this.#sqs.send(
      new SendMessageCommand({
        QueueUrl: await this.#deadLetterQueueUrl({ create: false }),
        MessageBody: received.body.slice(0, 200_000) || '(empty)',
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: reason.slice(0, 1000) },
          nodeId: { DataType: 'String', StringValue: nodeId },
        },
      }),
    );
    await this.ack(nodeId, received);
  }

  /**
   * Reads dead letters and leaves them in place (visibility timeout 0): SQS answers ten at a
   * time and may repeat itself, so a few rounds, deduplicated.
   */
  async peekDeadLetters(max: number): Promise<DeadLetter[]> {
    let QueueUrl: string;
    try {
      QueueUrl = await this.#deadLetterQueueUrl({ create: false });
    } catch (error) {
      if (error instanceof QueueDoesNotExist) return [];
      throw new StorageError('dead-letter queue unavailable', error);
    }
    const seen = new Map<string, DeadLetter>();
    for (let round = 0; round < 5 && seen.size < max; round++) {
      const { Messages = [] } = await this.#sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          VisibilityTimeout: 0,
          WaitTimeSeconds: round === 0 ? 1 : 0,
          MaxNumberOfMessages: Math.min(10, max - seen.size),
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['SentTimestamp'],
        }),
      );
      const before = seen.size;
      for (const m of Messages)
        seen.set(m.MessageId ?? String(seen.size), {
          body: m.Body ?? '',
          nodeId: m.MessageAttributes?.nodeId?.StringValue,
          reason: m.MessageAttributes?.reason?.StringValue,
          at: m.Attributes?.SentTimestamp ? Number(m.Attributes.SentTimestamp) : undefined,
        });
      if (seen.size === before) break;
    }
    return [...seen.values()].sort((a, b) => (a.at ?? 0) - (b.at ?? 0)).slice(0, max);
  }

  async #nodeQueueUrl(nodeId: string): Promise<string> {
    try {
      return await this.#queueUrl(this.queueName(nodeId));
    } catch (error) {
      if (error instanceof QueueDoesNotExist) {
        throw new TesseraError(ErrorCodes.clusterUnavailable, `media node ${nodeId} is not reachable`);
      }
      throw new StorageError('command bus unavailable', error);
    }
  }

  async #deadLetterQueueUrl({ create }: { create: boolean }): Promise<string> {
    const QueueName = this.deadLetterQueueName;
    try {
      return await this.#queueUrl(QueueName);
    } catch (error) {
      if (!(create && error instanceof QueueDoesNotExist)) throw error;
      const { QueueUrl } = await this.#sqs.send(
        new CreateQueueCommand({ QueueName, Attributes: { MessageRetentionPeriod: String(14 * 86_400) } }),
      );
      this.#urls.set(QueueName, QueueUrl!);
      return QueueUrl!;
    }
  }

  async #queueUrl(QueueName: string): Promise<string> {
    const known = this.#urls.get(QueueName);
    if (known) return known;
    const { QueueUrl } = await this.#sqs.send(new GetQueueUrlCommand({ QueueName }));
    this.#urls.set(QueueName, QueueUrl!);
    return QueueUrl!;
  }
}
