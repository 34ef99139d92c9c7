import type { Redis } from 'ioredis';
import type { CommandLedger } from '../../ports/live.ts';
import { redisCall } from './failures.ts';
import { clusterKeys } from './keys.ts';

export class RedisCommandLedger implements CommandLedger {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async firstTime(commandId: string, rememberMs: number): Promise<boolean> {
    // SET NX is atomic: of two concurrent deliveries exactly one wins.
    const set = await redisCall('command ledger', () =>
      this.#redis.set(clusterKeys.command(commandId), '1', 'PX', rememberMs, 'NX'),
    );
    return set === 'OK';
  }
}
