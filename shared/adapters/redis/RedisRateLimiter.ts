import type { Redis } from 'ioredis';
import { StorageError } from '../../errors.ts';
import type { RateLimiter } from '../../ports/rateLimit.ts';
import { clusterKeys } from './keys.ts';

export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Redis;
  readonly #now: () => number;

  constructor(redis: Redis, now: () => number = Date.now) {
    this.#redis = redis;
    this.#now = now;
  }

  async take(key: string, limit: number, windowMs: number): Promise<boolean> {
    const window = Math.floor(this.#now() / windowMs);
    const counter = clusterKeys.rate(key, window);
    try {
      // INCR and PEXPIRE in one MULTI: a counter never outlives its window without an expiry.
      const results = await this.#redis.multi().incr(counter).pexpire(counter, windowMs).exec();
      const [error, count] = results?.[0] ?? [new Error('transaction discarded'), 0];
      if (error) throw error;
      return (count as number) <= limit;
    } catch (error) {
      throw new StorageError('rate limiter unavailable', error);
    }
  }
}
