import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { PlacementLock, PlacementStore } from '../../ports/live.ts';
import { redisCall } from './failures.ts';
import { redisKeys } from './keys.ts';

// Release only our own lock: a lock that expired and was taken by another caller stays theirs.
const COMPARE_AND_DELETE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

// Try the lock and read the room's node in one round trip (GET answers false for no key: a nil).
const LOCK_AND_READ = `
local taken = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') and 1 or 0
return {taken, redis.call('GET', KEYS[2])}`;

// Write the room's node only while holding the lock, and release it; every write gets the next fencing token.
const ASSIGN_AND_RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
local fence = redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
return fence`;

export class RedisPlacementStore implements PlacementStore {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async get(roomId: string): Promise<string | undefined> {
    return (await redisCall('placement', () => this.#redis.get(redisKeys.roomNode(roomId)))) ?? undefined;
  }

  async set(roomId: string, nodeId: string): Promise<void> {
    await redisCall('placement', () => this.#redis.set(redisKeys.roomNode(roomId), nodeId));
  }

  /** Forgets the room's node and its fencing counter (a deleted room leaves no key behind). */
  async delete(roomId: string): Promise<void> {
    await redisCall('placement', () =>
      this.#redis.del(redisKeys.roomNode(roomId), redisKeys.roomFence(roomId)),
    );
  }

  async lock(roomId: string, ttlMs: number): Promise<PlacementLock> {
    const token = randomUUID();
    const [taken, nodeId] = (await redisCall('placement', () =>
      this.#redis.eval(
        LOCK_AND_READ,
        2,
        redisKeys.roomLock(roomId),
        redisKeys.roomNode(roomId),
        token,
        ttlMs,
      ),
    )) as [number, string | null];
    return { token: taken === 1 ? token : undefined, nodeId: nodeId ?? undefined };
  }

  async unlock(roomId: string, token: string): Promise<void> {
    await redisCall('placement', () =>
      this.#redis.eval(COMPARE_AND_DELETE, 1, redisKeys.roomLock(roomId), token),
    );
  }

  async assign(roomId: string, nodeId: string, token: string): Promise<number | undefined> {
    const fence = await redisCall('placement', () =>
      this.#redis.eval(
        ASSIGN_AND_RELEASE,
        3,
        redisKeys.roomLock(roomId),
        redisKeys.roomNode(roomId),
        redisKeys.roomFence(roomId),
        token,
        nodeId,
      ),
    );
    return typeof fence === 'number' ? fence : undefined;
  }
}
