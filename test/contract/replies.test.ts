import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryReplies } from '../../shared/adapters/memory/MemoryReplies.ts';
import { RedisReplies } from '../../shared/adapters/redis/RedisReplies.ts';
import type { Replies } from '../../shared/ports/replies.ts';
import { redisClient, uniqueId } from './adapters.ts';

describe.each([
  ['memory', () => ({ replies: new MemoryReplies() as Replies, close: () => {} })],
  [
    'redis',
    () => {
      const redis: Redis = redisClient();
      return { replies: new RedisReplies(redis) as Replies, close: () => redis.disconnect() };
    },
  ],
])('Replies contract (%s)', (_name, make) => {
  let replies: Replies;
  let close: () => void;
  beforeAll(() => {
    ({ replies, close } = make());
  });
  afterAll(() => close());

  it('hands a waiter the answer posted while it waits, and only for its id', async () => {
    const id = uniqueId('r');
    const other = uniqueId('r');
    const waiting = replies.wait(id, 3000);
    await new Promise((r) => setTimeout(r, 100));
    await replies.post(other, { sdp: 'not yours' });
    await replies.post(id, { ok: true, sdp: 'v=0' });
    expect(await waiting).toEqual({ ok: true, sdp: 'v=0' });
    expect(await replies.wait(other, 1000)).toEqual({ sdp: 'not yours' });
  });

  it('keeps an answer posted before the wait; once', async () => {
    const id = uniqueId('r');
    await replies.post(id, { n: 1 });
    expect(await replies.wait(id, 1000)).toEqual({ n: 1 });
    expect(await replies.wait(id, 200)).toBeUndefined();
  });

  it('gives up after the timeout with nothing', async () => {
    const started = Date.now();
    expect(await replies.wait(uniqueId('r'), 300)).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});
