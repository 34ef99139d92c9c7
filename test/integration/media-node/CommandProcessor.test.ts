// The command processor over the in-process queue and ledger (SQS's semantics: at least once,
// redelivery after a visibility timeout, a dead-letter list): what a media node does with what
// the bus brings it, good and bad.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandProcessor } from '../../../media-node/commands/CommandProcessor.ts';
import { MemoryCommandLedger } from '../../../shared/adapters/memory/MemoryCommandLedger.ts';
import { MemoryCommandQueue } from '../../../shared/adapters/memory/MemoryCommandQueue.ts';
import { createLogger } from '../../../shared/logger.ts';
import type { NodeCommand } from '../../../shared/protocol/commands.ts';

const NODE = 'node-a';

const drop = (roomId: string, participantId: string, issuedAt = new Date()): NodeCommand => ({
  id: randomUUID(),
  issuedAt: issuedAt.toISOString(),
  type: 'participant.drop',
  roomId,
  participantId,
});
const signal = (issuedAt: Date): NodeCommand => ({
  id: randomUUID(),
  issuedAt: issuedAt.toISOString(),
  type: 'signal',
  roomId: 'r',
  connectionId: 'c',
  participant: { id: 'p', user: 'ana', role: 'presenter', permission: { publish: false, subscribe: false } },
  request: { id: 1, method: 'ping', params: {} },
});

async function until(what: string, done: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !done(); await new Promise((r) => setTimeout(r, 10)))
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

const running: CommandProcessor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

/** A processor for NODE over `queue`, started; what it handled and logged are kept. */
function start(
  queue: MemoryCommandQueue,
  options: {
    handle?: (c: NodeCommand) => Promise<void>;
    ledger?: MemoryCommandLedger;
    since?: number;
  } = {},
) {
  const handled: NodeCommand[] = [];
  const logs: { level: string; msg: string; reason?: string }[] = [];
  const processor = new CommandProcessor({
    nodeId: NODE,
    queue,
    ledger: options.ledger ?? new MemoryCommandLedger(),
    handle: async (c) => {
      handled.push(c);
      await options.handle?.(c);
    },
    logger: createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) }),
    since: options.since,
  });
  running.push(processor);
  processor.start();
  return { processor, handled, logs };
}

describe('the command processor on the memory bus', () => {
  it('runs one room`s commands one after the other, in order, while other rooms go on', async () => {
    const queue = new MemoryCommandQueue();
    await queue.open(NODE);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const done: string[] = [];
    const { handled } = start(queue, {
      handle: async (c) => {
        if (c.type === 'participant.drop' && c.participantId === 'slow') await gate;
        if (c.type === 'participant.drop') done.push(`${c.roomId}:${c.participantId}`);
      },
    });
    for (const c of [drop('r1', 'slow'), drop('r1', 'next'), drop('r2', 'other'), drop('r1', 'last')])
      await queue.send(NODE, c);

    await until('the other room`s command', () => done.includes('r2:other'));
    // r1's second command waits for its first, however long that takes.
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toEqual(['r2:other']);
    expect(handled.map((c) => c.type === 'participant.drop' && c.participantId)).toEqual(['slow', 'other']);
    release();
    await until('room r1 drained', () => done.length === 4);
    expect(done).toEqual(['r2:other', 'r1:slow', 'r1:next', 'r1:last']);
  });

  it("does not hold a room's next command for the last one's acknowledgement; stop() waits for them", async () => {
    // As SqsCommandQueue batches its acknowledgements (one DeleteMessageBatch per 20 ms): here
    // they are held until released.
    const queue = new MemoryCommandQueue();
    await queue.open(NODE);
    const held: (() => void)[] = [];
    const ack = queue.ack.bind(queue);
    queue.ack = (nodeId, received) =>
      new Promise<void>((resolve) => held.push(() => void ack(nodeId, received).then(resolve)));
    const { processor, handled } = start(queue);
    for (const who of ['a', 'b', 'c']) await queue.send(NODE, drop('r', who));
    await until('all three handled', () => handled.length === 3);
    expect(held).toHaveLength(3);
    let stopped = false;
    const stopping = processor.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 1100)); // past the receive loop's 1 s wait
    expect(stopped).toBe(false);
    for (const release of held) release();
    await stopping;
    expect(stopped).toBe(true);
  });

  it('does a command once however often it comes: redelivered, repeated, or taken by two processors', async () => {
    // A visibility timeout shorter than the handler: the queue delivers the command again meanwhile.
    const queue = new MemoryCommandQueue({ visibilityTimeoutMs: 100 });
    await queue.open(NODE);
    const ledger = new MemoryCommandLedger();
    const slow = async () => {
      await new Promise((r) => setTimeout(r, 400));
    };
    const a = start(queue, { ledger, handle: slow });
    const b = start(queue, { ledger, handle: slow }); // the same node's next life, overlapping
    const command = drop('r', 'p');
    await queue.send(NODE, command);
    await queue.send(NODE, command);
    const other = drop('r', 'q');
    await queue.send(NODE, other);
    await until('both handled', () => [...a.handled, ...b.handled].length >= 2);
    await new Promise((r) => setTimeout(r, 1000));
    expect([...a.handled, ...b.handled].map((c) => c.id).sort()).toEqual([command.id, other.id].sort());
    expect(
      [...a.logs, ...b.logs].filter((l) => l.msg === 'duplicate command skipped').length,
    ).toBeGreaterThan(0);
    // Everything was acknowledged: nothing comes back.
    expect(await queue.receive(NODE, { waitMs: 0, max: 10 })).toEqual([]);
  });

  it('dead-letters what can never be a command, with the reason, and keeps serving', async () => {
    const queue = new MemoryCommandQueue();
    await queue.open(NODE);
    const { handled, logs } = start(queue, {
      handle: async (c) => {
        if (c.type === 'participant.drop' && c.participantId === 'boom') throw new Error('handler failed');
      },
    });
    await queue.sendRaw(NODE, '{"not json');
    await queue.sendRaw(NODE, JSON.stringify({ id: 'x', type: 'participant.drop', roomId: 'r' }));
    await queue.sendRaw(NODE, JSON.stringify({ ...drop('r', 'p'), type: 'no.such.command' }));
    await queue.sendRaw(NODE, `[${'['.repeat(5000)}${']'.repeat(5000)}]`);
    const failing = drop('r', 'boom');
    await queue.send(NODE, failing);
    const fine = drop('r', 'fine');
    await queue.send(NODE, fine);

    await until('the good commands', () => handled.length === 2);
    expect(handled.map((c) => c.id)).toEqual([failing.id, fine.id]);
    const dead = queue.deadLetters.get(NODE) ?? [];
    expect(dead.map((d) => d.reason)).toEqual([
      expect.stringMatching(/^not JSON: /),
      expect.stringMatching(/^invalid command: id: .*; participantId: /),
      expect.stringMatching(/^invalid command: type: /),
      expect.stringMatching(/^invalid command: /),
    ]);
    expect(logs.filter((l) => l.msg === 'command dead-lettered')).toHaveLength(4);
    // A handler's failure is logged, not retried, not dead-lettered.
    expect(logs.filter((l) => l.msg === 'command failed')).toHaveLength(1);
    expect(await queue.receive(NODE, { waitMs: 0, max: 10 })).toEqual([]);
  });

  it('drops what was issued before this life of the node, and signals too old to be waited for', async () => {
    const queue = new MemoryCommandQueue();
    await queue.open(NODE);
    const since = Date.now();
    const earlier = drop('r', 'p', new Date(since - 2000));
    const stale = signal(new Date(since + 1 - 5 * 60_000));
    const current = drop('r', 'p', new Date(since + 1));
    const fresh = signal(new Date());
    for (const c of [earlier, stale, current, fresh]) await queue.send(NODE, c);
    const first = start(queue, { since: since - 10 * 60_000 });
    await until('the fresh ones', () => first.handled.length === 3);
    // `since` ten minutes ago: only the stale signal goes.
    expect(first.handled.map((c) => c.id)).toEqual([earlier.id, current.id, fresh.id]);
    expect(first.logs.map((l) => l.msg)).toContain('stale signaling request dropped');
    await first.processor.stop();

    for (const c of [earlier, current]) await queue.send(NODE, { ...c, id: randomUUID() });
    const restarted = start(queue, { since });
    await until('the current one', () => restarted.handled.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(restarted.handled.map((c) => c.issuedAt)).toEqual([current.issuedAt]);
    expect(restarted.logs.map((l) => l.msg)).toContain('command for an earlier life of this node dropped');
  });
});
