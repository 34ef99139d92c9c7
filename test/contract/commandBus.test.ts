import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCommandQueue } from '../../shared/adapters/memory/MemoryCommandQueue.ts';
import { SignedSqs } from '../../shared/adapters/sqs/SignedSqs.ts';
import { SqsCommandQueue } from '../../shared/adapters/sqs/SqsCommandQueue.ts';
import type { CommandBus, CommandQueue, DeadLetterInbox } from '../../shared/ports/commands.ts';
import { type NodeCommand, NodeCommandSchema } from '../../shared/protocol/commands.ts';
import { sqsClient, uniqueId } from './adapters.ts';

type Bus = CommandBus & CommandQueue & DeadLetterInbox;
const adapters: [string, () => { bus: Bus; close(): void }][] = [
  ['memory', () => ({ bus: new MemoryCommandQueue({ visibilityTimeoutMs: 1000 }), close: () => {} })],
  [
    'sqs',
    () => {
      const sqs = sqsClient();
      return {
        bus: new SqsCommandQueue(sqs, { prefix: `${uniqueId('t')}-`, visibilityTimeoutSeconds: 1 }),
        close: () => {
          SignedSqs.release(sqs);
          sqs.destroy();
        },
      };
    },
  ],
];

const drop = (roomId = 'room-1'): NodeCommand => ({
  id: randomUUID(),
  type: 'participant.drop',
  roomId,
  participantId: 'p-1',
  issuedAt: new Date().toISOString(),
});

describe.each(adapters)('command bus contract: %s', (_name, make) => {
  let bus: Bus;
  let close: () => void;
  beforeAll(() => {
    ({ bus, close } = make());
  });
  afterAll(() => close());

  it('delivers a command to its node only, intact', async () => {
    const [n1, n2] = [uniqueId('node'), uniqueId('node')];
    await bus.open(n1);
    await bus.open(n2);
    const command = drop();
    await bus.send(n1, command);
    expect(await bus.receive(n2, { waitMs: 0, max: 10 })).toEqual([]);
    const [received] = await bus.receive(n1, { waitMs: 2000, max: 10 });
    expect(NodeCommandSchema.parse(JSON.parse(received!.body))).toEqual(command);
    expect(received!.receiveCount).toBe(1);
    await bus.ack(n1, received!);
  });

  it('wakes a parked long poll when a command arrives', async () => {
    const node = uniqueId('node');
    await bus.open(node);
    const started = Date.now();
    const receiving = bus.receive(node, { waitMs: 5000, max: 1 });
    setTimeout(() => void bus.send(node, drop()), 200);
    const got = await receiving;
    expect(got).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('redelivers an unacknowledged command after the visibility timeout', async () => {
    const node = uniqueId('node');
    await bus.open(node);
    const command = drop();
    await bus.send(node, command);
    const first = await bus.receive(node, { waitMs: 2000, max: 1 });
    expect(first).toHaveLength(1);
    const again = await bus.receive(node, { waitMs: 4000, max: 1 });
    expect(again).toHaveLength(1);
    expect(JSON.parse(again[0]!.body).id).toBe(command.id);
    expect(again[0]!.receiveCount).toBe(2);
    await bus.ack(node, again[0]!);
    expect(await bus.receive(node, { waitMs: 1500, max: 1 })).toEqual([]);
  });
  it('acknowledges many at once (more than one batch): none comes back', async () => {
    const node = uniqueId('node');
    await bus.open(node);
    for (let i = 0; i < 13; i++) await bus.send(node, drop(`room-${i}`));
    const received = [];
    while (received.length < 13) received.push(...(await bus.receive(node, { waitMs: 2000, max: 10 })));
    await Promise.all(received.map((r) => bus.ack(node, r)));
    // Past the visibility timeout (1 s): an unacknowledged one would be back.
    expect(await bus.receive(node, { waitMs: 2500, max: 10 })).toEqual([]);
  });

  it('dead-letters a command: it leaves the queue and lands in the dead-letter queue with its reason', async () => {
    const node = uniqueId('node');
    await bus.open(node);
    await bus.send(node, drop());
    const [received] = await bus.receive(node, { waitMs: 2000, max: 1 });
    await bus.deadLetter(node, received!, 'invalid command: participantId missing');
    expect(await bus.receive(node, { waitMs: 1500, max: 1 })).toEqual([]); // not redelivered
    const expected = { body: received!.body, nodeId: node, reason: 'invalid command: participantId missing' };
    const dead = await bus.peekDeadLetters(10);
    expect(dead).toEqual([expect.objectContaining(expected)]);
    expect(Math.abs(Date.now() - dead[0]!.at!)).toBeLessThan(60_000);
    // Peeking leaves them for the operator (and the next peek).
    expect(await bus.peekDeadLetters(10)).toEqual([expect.objectContaining(expected)]);
  });
});

describe('SqsCommandQueue', () => {
  it('refuses to send to a node that has no queue, with a cluster error', async () => {
    const sqs = sqsClient();
    const bus = new SqsCommandQueue(sqs, { prefix: `${uniqueId('t')}-` });
    await expect(bus.send(uniqueId('no-such-node'), drop())).rejects.toMatchObject({ code: 1201 });
    sqs.destroy();
  });
});
