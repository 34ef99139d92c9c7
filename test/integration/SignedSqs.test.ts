import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { SignedSqs, SqsRequestError } from '../../shared/adapters/sqs/SignedSqs.ts';
import { SqsCommandQueue } from '../../shared/adapters/sqs/SqsCommandQueue.ts';
import { SqsEventSink } from '../../shared/adapters/sqs/SqsEventSink.ts';
import { StorageError } from '../../shared/errors.ts';
import type { NodeCommand } from '../../shared/protocol/commands.ts';
import { sqsClient, uniqueId } from '../contract/adapters.ts';

const sqs = sqsClient();
/** The SDK commands the client sent, by name (the signed calls never reach its middleware stack). */
const sdkCalls: string[] = [];
sqs.middlewareStack.add(
  (next, context) => (args) => {
    sdkCalls.push(String(context.commandName));
    return next(args);
  },
  { step: 'initialize', name: 'countSdkCalls' },
);
afterAll(() => {
  SignedSqs.release(sqs);
  sqs.destroy();
});

describe('SignedSqs: the hot SQS calls without the SDK stack', () => {
  it('sends, receives and acknowledges commands and events as signed requests once a queue is known', async () => {
    const queue = new SqsCommandQueue(sqs, { prefix: `${uniqueId('signed')}-` });
    const events = new SqsEventSink(sqs, { prefix: `${uniqueId('signed')}-` });
    await queue.open('n1');
    await events.queueUrl();
    expect(SignedSqs.of(sqs).direct).toBe(true);
    sdkCalls.length = 0;

    const command: NodeCommand = {
      id: randomUUID(),
      type: 'participant.drop',
      roomId: 'room-1',
      participantId: 'p-1',
      issuedAt: new Date().toISOString(),
    };
    await queue.send('n1', command);
    const [received] = await queue.receive('n1', { waitMs: 1000, max: 10 });
    expect(JSON.parse(received!.body)).toEqual(command);
    expect(received!.receiveCount).toBe(1);
    await queue.ack('n1', received!);
    expect(await queue.receive('n1', { waitMs: 0, max: 10 })).toEqual([]);

    const event = { id: randomUUID(), type: 'room.created' };
    await events.publish([event as never]);
    const [queued] = await events.receive({ waitMs: 1000, max: 10 });
    expect(JSON.parse(queued!.body)).toEqual(event);
    await events.ack([queued!.receipt]);

    // Everything above went signed: the SDK's stack saw none of it.
    expect(sdkCalls).toEqual([]);
  });

  it("rejects SQS's refusals with its error code, at once (no retries for a client error)", async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueId('signed-gone') }));
    const hot = SignedSqs.of(sqs);
    const gone = `${QueueUrl!}-missing`;
    const started = performance.now();
    const refusal = await hot
      .send('SendMessage', { QueueUrl: gone, MessageBody: 'x' })
      .catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(SqsRequestError);
    expect((refusal as SqsRequestError).code).toBe('QueueDoesNotExist');
    expect((refusal as SqsRequestError).retryable).toBe(false);
    // Three attempts would wait 25 + 50 ms at least between them.
    expect(performance.now() - started).toBeLessThan(5000);
    // A node's queue gone after its URL was learnt: the command bus maps the refusal to its own error.
    const queue = new SqsCommandQueue(sqs, { prefix: `${uniqueId('gone')}-` });
    await queue.open('n2');
    await sqs.send(
      new DeleteQueueCommand({
        QueueUrl: await sqs
          .send(new GetQueueUrlCommand({ QueueName: queue.queueName('n2') }))
          .then((r) => r.QueueUrl!),
      }),
    );
    await expect(queue.send('n2', { id: randomUUID() } as never)).rejects.toBeInstanceOf(StorageError);
  });
});
