import type { Redis } from 'ioredis';
import { REPLY_TTL_MS, type Replies } from '../../ports/replies.ts';
import { redisCall } from './failures.ts';
import { clusterKeys } from './keys.ts';

/**
 * Replies through Redis: the answer is pushed to a list the waiter pops with BLPOP. A blocking pop
 * holds its connection, so each wait takes a connection of its own (WHIP offers are rare).
 */
export class RedisReplies implements Replies {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async wait(id: string, timeoutMs: number): Promise<unknown> {
    const blocking = this.#redis.duplicate({ commandTimeout: timeoutMs + 2000, enableOfflineQueue: true });
    try {
      const popped = await blocking.blpop(clusterKeys.reply(id), Math.max(0.01, timeoutMs / 1000));
      return popped ? (JSON.parse(popped[1]) as unknown) : undefined;
    } finally {
      blocking.disconnect();
    }
  }

  async post(id: string, value: unknown): Promise<void> {
    const key = clusterKeys.reply(id);
    await redisCall('replies', () =>
      this.#redis.multi().rpush(key, JSON.stringify(value)).pexpire(key, REPLY_TTL_MS).exec(),
    );
  }
}
