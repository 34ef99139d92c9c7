import type { Redis } from 'ioredis';
import type { Departures, PendingDeparture } from '../../ports/departures.ts';
import { redisCall } from './failures.ts';
import { clusterKeys } from './keys.ts';

/**
 * A sorted set of `<roomId>\n<participantId>` by due time, and a hash of each one's node and
 * record version. A
 * departure is taken by the caller whose ZREM removes it: exactly one of racing sweepers.
 */
export class RedisDepartures implements Departures {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async schedule(d: PendingDeparture, dueAt: number): Promise<void> {
    const member = memberOf(d.roomId, d.participantId);
    await redisCall('departures', () =>
      this.#redis
        .multi()
        .hset(clusterKeys.departureNodes, member, JSON.stringify({ nodeId: d.nodeId, version: d.version }))
        .zadd(clusterKeys.departures, dueAt, member)
        .exec(),
    );
  }

  async cancel(roomId: string, participantId: string): Promise<void> {
    const member = memberOf(roomId, participantId);
    await redisCall('departures', () =>
      this.#redis
        .multi()
        .zrem(clusterKeys.departures, member)
        .hdel(clusterKeys.departureNodes, member)
        .exec(),
    );
  }

  async takeDue(now: number, max: number): Promise<PendingDeparture[]> {
    return redisCall('departures', async () => {
      const due = await this.#redis.zrangebyscore(clusterKeys.departures, '-inf', now, 'LIMIT', 0, max);
      const taken: PendingDeparture[] = [];
      for (const member of due) {
        if ((await this.#redis.zrem(clusterKeys.departures, member)) !== 1) continue; // another sweeper
        const raw = await this.#redis.hget(clusterKeys.departureNodes, member);
        await this.#redis.hdel(clusterKeys.departureNodes, member);
        const [roomId, participantId] = member.split('\n') as [string, string];
        if (raw)
          taken.push({ roomId, participantId, ...(JSON.parse(raw) as { nodeId: string; version: number }) });
      }
      return taken;
    });
  }
}

const memberOf = (roomId: string, participantId: string) => `${roomId}\n${participantId}`;
