import { describe, expect, it } from 'vitest';
import { KeyedRateLimiter, TokenBucket } from '../../shared/rateLimit/TokenBucket.ts';

const clock = () => {
  let t = 1_000_000;
  const now = () => t;
  return { now, advance: (ms: number) => (t += ms) };
};
const takeAll = (take: () => boolean, tries: number) => {
  let ok = 0;
  for (let i = 0; i < tries; i++) if (take()) ok++;
  return ok;
};

describe('TokenBucket', () => {
  it('allows a burst, then exactly the rate', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 5, burst: 10, now: c.now });
    expect(takeAll(() => bucket.take(), 50)).toBe(10);
    c.advance(1000);
    expect(takeAll(() => bucket.take(), 50)).toBe(5);
    c.advance(199);
    expect(bucket.take()).toBe(false); // 0.995 tokens
    c.advance(1);
    expect(bucket.take()).toBe(true);
  });

  it('never holds more than the burst, however long it idles', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 50, burst: 100, now: c.now });
    c.advance(3_600_000);
    expect(bucket.full).toBe(true);
    expect(takeAll(() => bucket.take(), 1000)).toBe(100);
    expect(bucket.full).toBe(false);
  });

  it('a refused take spends nothing', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 2, now: c.now });
    expect(bucket.take(2)).toBe(true);
    for (let i = 0; i < 10; i++) expect(bucket.take()).toBe(false);
    c.advance(1000);
    expect(bucket.take()).toBe(true);
  });

  it('a clock stepping backwards neither refills nor drains', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 3, now: c.now });
    bucket.take(3);
    c.advance(-60_000);
    expect(bucket.tokens).toBe(0);
    c.advance(1000);
    expect(bucket.tokens).toBe(1);
  });

  it('per-minute limits: 30 per minute allow 30 at once, then one every 2 s', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 30 / 60, burst: 30, now: c.now });
    expect(takeAll(() => bucket.take(), 100)).toBe(30);
    c.advance(1999);
    expect(bucket.take()).toBe(false);
    c.advance(1);
    expect(bucket.take()).toBe(true);
  });

  it('refuses nonsense options', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSecond: 1, burst: 0 })).toThrow(RangeError);
    expect(() => new KeyedRateLimiter({ ratePerSecond: Number.NaN, burst: 1 })).toThrow(RangeError);
  });
});

describe('KeyedRateLimiter', () => {
  it('keeps one bucket per key', () => {
    const c = clock();
    const limiter = new KeyedRateLimiter({ ratePerSecond: 1, burst: 2, now: c.now });
    expect(takeAll(() => limiter.take('a'), 5)).toBe(2);
    expect(takeAll(() => limiter.take('b'), 5)).toBe(2);
    limiter.delete('a'); // a gone connection's successor starts fresh
    expect(limiter.take('a')).toBe(true);
    expect(limiter.size).toBe(2);
  });

  it('stays bounded under many short-lived keys: full buckets are swept', () => {
    const c = clock();
    const limiter = new KeyedRateLimiter({ ratePerSecond: 10, burst: 20, now: c.now, sweepAbove: 100 });
    for (let i = 0; i < 100_000; i++) {
      limiter.take(`conn-${i}`);
      c.advance(1); // each key's bucket is full again 100 ms after its one take
    }
    expect(limiter.size).toBeLessThanOrEqual(200);
  });

  it('does not sweep buckets still refilling (their debt is kept)', () => {
    const c = clock();
    const limiter = new KeyedRateLimiter({ ratePerSecond: 1, burst: 2, now: c.now, sweepAbove: 4 });
    limiter.take('busy', 2);
    for (let i = 0; i < 10; i++) limiter.take(`idle-${i}`);
    expect(limiter.take('busy')).toBe(false);
  });
});
