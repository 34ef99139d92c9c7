import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { StorageError } from '../../errors.ts';
import type { RoomVersions } from '../../ports/durable.ts';
import { redisKeys } from './keys.ts';

/** A week: longer than any process keeps a cached room (CachedRoomStore's maximum age). */
const VERSION_TTL_S = 7 * 24 * 3600;

/**
 * The room record's change token in Redis: a fresh random value on every write (never a counter,
 * which could come back to a value a cache holds once its key expired).
 */
export class RedisRoomVersions implements RoomVersions {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async current(roomKey: string): Promise<string | null> {
    try {
      return await this.#redis.get(redisKeys.roomVersion(roomKey));
    } catch (error) {
      throw new StorageError('room versions unavailable', error);
    }
  }

  async changed(roomKey: string): Promise<void> {
    try {
      await this.#redis.set(redisKeys.roomVersion(roomKey), randomUUID(), 'EX', VERSION_TTL_S);
    } catch (error) {
      throw new StorageError('room versions unavailable', error);
    }
  }
}
