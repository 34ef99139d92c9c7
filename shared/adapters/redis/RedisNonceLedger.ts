import type { Redis } from 'ioredis';
import { StorageError } from '../../errors.ts';
import type { NonceLedger } from '../../ports/nonces.ts';
import { clusterKeys } from './keys.ts';

export class RedisNonceLedger implements NonceLedger {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    try {
      // SET NX is atomic: of any number of concurrent claims exactly one sees OK.
      return (
        (await this.#redis.set(clusterKeys.nonce(key), '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) ===
        'OK'
      );
    } catch (error) {
      throw new StorageError('nonce ledger unavailable', error);
    }
  }
}
