import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryNonceLedger } from '../../shared/adapters/memory/MemoryNonceLedger.ts';
import { MemoryRateLimiter } from '../../shared/adapters/memory/MemoryRateLimiter.ts';
import { clusterKeys } from '../../shared/adapters/redis/keys.ts';
import { RedisNonceLedger } from '../../shared/adapters/redis/RedisNonceLedger.ts';
import { RedisRateLimiter } from '../../shared/adapters/redis/RedisRateLimiter.ts';
import type { NonceLedger } from '../../shared/ports/nonces.ts';
import type { RateLimiter } from '../../shared/ports/rateLimit.ts';
import { redisClient, uniqueId } from './adapters.ts';

interface SecurityAdapters {
  nonces: NonceLedger;
  rate: RateLimiter;
  /** Moves the rate limiter's clock (both adapters take it injected). */
  advance(ms: number): void;
  /** Milliseconds left on a nonce claim, where the store can say. */
  nonceTtl?(key: string): Promise<number>;
  close(): void;
}

const START = Date.UTC(2026, 0, 1);

const adapters: [string, () => SecurityAdapters][] = [
  [
    'memory',
    () => {
      let now = START;
      return {
        nonces: new MemoryNonceLedger(() => now),
        rate: new MemoryRateLimiter(() => now),
        advance: (ms) => {
          now += ms;
        },
        close: () => {},
      };
    },
  ],
  [
    'redis',
    () => {
      const redis: Redis = redisClient();
      let now = START;
      return {
        nonces: new RedisNonceLedger(redis),
        rate: new RedisRateLimiter(redis, () => now),
        advance: (ms) => {
          now += ms;
        },
        nonceTtl: (key) => redis.pttl(clusterKeys.nonce(key)),
        close: () => redis.disconnect(),
      };
    },
  ],
];

describe.each(adapters)('nonce ledger and rate limiter contract: %s', (_name, make) => {
  let a: SecurityAdapters;
  beforeAll(() => {
    a = make();
  });
  afterAll(() => a.close());

  it('claims a nonce once; other nonces are independent', async () => {
    const key = uniqueId('nonce');
    expect(await a.nonces.claimOnce(key, 60_000)).toBe(true);
    expect(await a.nonces.claimOnce(key, 60_000)).toBe(false);
    expect(await a.nonces.claimOnce(uniqueId('nonce'), 60_000)).toBe(true);
    if (a.nonceTtl) {
      const left = await a.nonceTtl(key);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(60_000);
    }
  });

  it('lets exactly one of many concurrent claims win', async () => {
    const key = uniqueId('nonce');
    const claims = await Promise.all(Array.from({ length: 20 }, () => a.nonces.claimOnce(key, 60_000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('allows `limit` uses per window and refuses the rest, per key', async () => {
    const key = uniqueId('svc');
    const takes = [];
    for (let i = 0; i < 5; i++) takes.push(await a.rate.take(key, 3, 60_000));
    expect(takes).toEqual([true, true, true, false, false]);
    expect(await a.rate.take(uniqueId('svc'), 3, 60_000)).toBe(true);
  });

  it('counts concurrent uses exactly', async () => {
    const key = uniqueId('svc');
    const takes = await Promise.all(Array.from({ length: 25 }, () => a.rate.take(key, 10, 60_000)));
    expect(takes.filter(Boolean)).toHaveLength(10);
  });

  it('starts afresh in the next window', async () => {
    const key = uniqueId('svc');
    expect(await a.rate.take(key, 1, 60_000)).toBe(true);
    expect(await a.rate.take(key, 1, 60_000)).toBe(false);
    a.advance(60_000);
    expect(await a.rate.take(key, 1, 60_000)).toBe(true);
  });
});

describe('MemoryNonceLedger expiry', () => {
  it('forgets a claim once its ttl has passed, so memory stays bounded by the window', async () => {
    let now = START;
    const nonces = new MemoryNonceLedger(() => now);
    expect(await nonces.claimOnce('n', 1000)).toBe(true);
    now += 999;
    expect(await nonces.claimOnce('n', 1000)).toBe(false);
    now += 1;
    expect(await nonces.claimOnce('n', 1000)).toBe(true);
  });
});
