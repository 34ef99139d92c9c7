import type { Redis } from 'ioredis';
import { StorageError } from '../../errors.ts';
import type { TokenLedger } from '../../ports/live.ts';
import { redisKeys } from './keys.ts';

export class RedisTokenLedger implements TokenLedger {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async record(tokenId: string, expiresAtMs: number): Promise<void> {
    try {
      await this.#redis.set(redisKeys.token(tokenId), '1', 'PXAT', expiresAtMs);
    } catch (error) {
      throw new StorageError('token ledger unavailable', error);
    }
  }

  async redeem(tokenId: string): Promise<boolean> {
    try {
      // GETDEL is atomic: of any number of concurrent redemptions exactly one sees "1".
      return (await this.#redis.getdel(redisKeys.token(tokenId))) === '1';
    } catch (error) {
      throw new StorageError('token ledger unavailable', error);
    }
  }
}
