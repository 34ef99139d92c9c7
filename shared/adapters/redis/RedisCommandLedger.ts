import type { Redis } from 'ioredis';
import type { CommandLedger } from '../../ports/live.ts';
import { redisCall } from './failures.ts';
import { clusterKeys } from './keys.ts';

/** Redeliveries come within SQS's retention window; an hour of memory covers the visibility retries. */
const REMEMBER_MS = 60 * 60 * 1000;

export class RedisCommandLedger implements CommandLedger {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async firstTime(commandId: string): Promise<boolean> {
    // SET NX is atomic: of two concurrent deliveries exactly one wins.
    const set = await redisCall('command ledger', () =>
      this.#redis.set(clusterKeys.command(commandId), '1', 'PX', REMEMBER_MS, 'NX'),
    );
    return set === 'OK';
  }
}
