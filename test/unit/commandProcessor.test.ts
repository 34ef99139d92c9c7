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
