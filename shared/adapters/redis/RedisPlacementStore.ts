import type { Redis } from 'ioredis';
import type { PlacementStore } from '../../ports/live.ts';
import { redisKeys } from './keys.ts';

export class RedisPlacementStore implements PlacementStore {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async get(roomId: string): Promise<string | undefined> {
    return (await this.#redis.get(redisKeys.roomNode(roomId))) ?? undefined;
  }

  async set(roomId: string, nodeId: string): Promise<void> {
    await this.#redis.set(redisKeys.roomNode(roomId), nodeId);
  }

  async delete(roomId: string): Promise<void> {
    await this.#redis.del(redisKeys.roomNode(roomId));
  }
}
