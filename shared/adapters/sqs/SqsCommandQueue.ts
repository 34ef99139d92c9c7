import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ErrorCodes, StorageError, TesseraError } from '../../errors.ts';
import type { CommandBus, CommandQueue, ReceivedCommand } from '../../ports/commands.ts';
import type { NodeCommand } from '../../protocol/commands.ts';

export interface SqsCommandQueueOptions {
  /** Queue names are `<prefix>node-<nodeId>`; a deployment's functions and nodes share the prefix. */
  prefix: string;
  visibilityTimeoutSeconds?: number;
  /** Deliveries before SQS moves a command to the node's dead-letter queue. */
  maxReceiveCount?: number;
}

/** One SQS queue per media node (plus a dead-letter queue), as ARCHITECTURE.md §3 describes. */
export class SqsCommandQueue implements CommandBus, CommandQueue {
  readonly #sqs: SQSClient;
  readonly #options: Required<SqsCommandQueueOptions>;
  readonly #urls = new Map<string, string>();

  constructor(sqs: SQSClient, options: SqsCommandQueueOptions) {
    this.#sqs = sqs;
    this.#options = { visibilityTimeoutSeconds: 30, maxReceiveCount: 5, ...options };
  }

  queueName(nodeId: string): string {
    return `${this.#options.prefix}node-${nodeId}`;
  }

  async open(nodeId: string): Promise<void> {
    const dlq = await this.#sqs.send(new CreateQueueCommand({ QueueName: `${this.queueName(nodeId)}-dlq` }));
    const { Attributes } = await this.#sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
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
    this.#urls.set(nodeId, QueueUrl!);
  }

  async send(nodeId: string, command: NodeCommand): Promise<void> {
    const QueueUrl = await this.#url(nodeId);
    try {
      await this.#sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(command) }));
    } catch (error) {
      throw new StorageError('command bus unavailable', error);
    }
  }

  async receive(nodeId: string, options: { waitMs: number; max: number }): Promise<ReceivedCommand[]> {
    const { Messages } = await this.#sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: await this.#url(nodeId),
        WaitTimeSeconds: Math.min(20, Math.ceil(options.waitMs / 1000)),
        MaxNumberOfMessages: Math.min(10, options.max),
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    return (Messages ?? []).map((m) => ({
      body: m.Body ?? '',
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
      receipt: m.ReceiptHandle!,
    }));
  }

  async ack(nodeId: string, received: ReceivedCommand): Promise<void> {
    await this.#sqs.send(
      new DeleteMessageCommand({ QueueUrl: await this.#url(nodeId), ReceiptHandle: received.receipt }),
    );
  }

  async deadLetter(nodeId: string, received: ReceivedCommand, reason: string): Promise<void> {
    const QueueUrl = await this.#url(`${nodeId}-dlq`, `${this.queueName(nodeId)}-dlq`);
    await this.#sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: received.body.slice(0, 200_000) || '(empty)',
        MessageAttributes: { reason: { DataType: 'String', StringValue: reason.slice(0, 1000) } },
      }),
    );
    await this.ack(nodeId, received);
  }

  async #url(nodeId: string, _queueName = this.queueName(nodeId)): Promise<string> {
    const known = this.#urls.get(nodeId);
    if (known) return known;
    try {
      const { QueueUrl } = await this.#sqs.send(
        new GetQueueUrlCommand({ QueueName: this.queueName(nodeId) }),
      );
      this.#urls.set(nodeId, QueueUrl!);
      return QueueUrl!;
    } catch (error) {
      if (error instanceof QueueDoesNotExist) {
        throw new TesseraError(ErrorCodes.clusterUnavailable, `media node ${nodeId} is not reachable`);
      }
      throw new StorageError('command bus unavailable', error);
    }
  }
}
