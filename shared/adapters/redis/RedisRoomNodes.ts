import type { Redis } from 'ioredis';
import type { RoomNodes } from '../../ports/live.ts';
import { redisCall } from './failures.ts';
import { ROOM_STATE_TTL_MS, redisKeys } from './keys.ts';

// Count a node's participants in a room; a node whose count reaches 0 leaves the room's set.
const ADD = `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return n`;

export class RedisRoomNodes implements RoomNodes {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async counts(roomId: string): Promise<Record<string, number>> {
    const raw = await redisCall('room nodes', () => this.#redis.hgetall(redisKeys.roomNodes(roomId)));
    return Object.fromEntries(Object.entries(raw).map(([node, n]) => [node, Number(n)]));
  }

  async add(roomId: string, nodeId: string, delta: number): Promise<void> {
    await redisCall('room nodes', () =>
      this.#redis.eval(ADD, 1, redisKeys.roomNodes(roomId), nodeId, delta, ROOM_STATE_TTL_MS),
    );
  }
}
