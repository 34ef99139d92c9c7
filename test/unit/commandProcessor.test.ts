import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CommandProcessor } from '../../media-node/commands/CommandProcessor.ts';
import { MemoryCommandLedger } from '../../shared/adapters/memory/MemoryCommandLedger.ts';
import { MemoryCommandQueue } from '../../shared/adapters/memory/MemoryCommandQueue.ts';
import { createLogger } from '../../shared/logger.ts';
import type { NodeCommand } from '../../shared/protocol/commands.ts';

const signal = (issuedAt: Date): NodeCommand => ({
  id: randomUUID(),
  issuedAt: issuedAt.toISOString(),
  type: 'signal',
  roomId: 'r',
  connectionId: 'c',
  participant: {
    id: 'p',
    user: 'ana',
    role: 'presenter',
    permission: { publish: false, subscribe: false },
  },
  request: { id: 1, method: 'ping', params: {} },
});

describe('the command processor', () => {
  it('handles a fresh signal once, and drops one too old to be waited for', async () => {
    const queue = new MemoryCommandQueue();
    const handled: string[] = [];
    const logs: string[] = [];
    const processor = new CommandProcessor({
      nodeId: 'n',
      queue,
      ledger: new MemoryCommandLedger(),
      handle: async (c) => {
        handled.push(c.id);
      },
      logger: createLogger({ level: 'warn', write: (l) => logs.push(l) }),
    });
    await queue.open('n');
    processor.start();
    const fresh = signal(new Date());
    const stale = signal(new Date(Date.now() - 5 * 60_000));
    await queue.send('n', fresh);
    await queue.send('n', fresh);
    await queue.send('n', stale);
    for (let i = 0; i < 100 && logs.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await processor.stop();
    expect(handled).toEqual([fresh.id]);
    expect(logs.join('\n')).toContain('stale signaling request dropped');
  });
});

describe('a restarted node', () => {
  it('drops commands issued before its life began (they were for the one before)', async () => {
    const queue = new MemoryCommandQueue();
    const handled: string[] = [];
    const since = Date.now();
    const processor = new CommandProcessor({
      nodeId: 'n',
      queue,
      ledger: new MemoryCommandLedger(),
      handle: async (c) => {
        handled.push(c.id);
      },
      logger: createLogger({ level: 'warn', write: () => {} }),
      since,
    });
    await queue.open('n');
    const earlier = signal(new Date(since - 2000));
    const current = signal(new Date(since + 1));
    await queue.send('n', earlier);
    await queue.send('n', current);
    processor.start();
    for (let i = 0; i < 100 && handled.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await processor.stop();
    expect(handled).toEqual([current.id]);
  });
});
