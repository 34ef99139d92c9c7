import type { Redis } from 'ioredis';
import type { TokenLedger } from '../../ports/live.ts';
import { redisCall } from './failures.ts';
import { redisKeys } from './keys.ts';

export class RedisTokenLedger implements TokenLedger {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async record(tokenId: string, expiresAtMs: number): Promise<void> {
    await redisCall('token ledger', () =>
      this.#redis.set(redisKeys.token(tokenId), '1', 'PXAT', expiresAtMs),
    );
  }

  async redeem(tokenId: string): Promise<boolean> {
    // GETDEL is atomic: of any number of concurrent redemptions exactly one sees "1".
    return (await redisCall('token ledger', () => this.#redis.getdel(redisKeys.token(tokenId)))) === '1';
  }
}
