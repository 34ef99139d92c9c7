import type { Redis } from 'ioredis';
import type { ConnectionRecord, ConnectionStore } from '../../ports/gateway.ts';
import { redisCall } from './failures.ts';
import { clusterKeys } from './keys.ts';

/** API Gateway ends idle connections after 10 minutes and every one after 2 hours. */
const CONNECTION_TTL_MS = 3 * 60 * 60 * 1000;

export class RedisConnectionStore implements ConnectionStore {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async put(record: ConnectionRecord): Promise<void> {
    await redisCall('connection store', () =>
      this.#redis.set(
        clusterKeys.connection(record.connectionId),
        JSON.stringify(record),
        'PX',
        CONNECTION_TTL_MS,
      ),
    );
  }

  async get(connectionId: string): Promise<ConnectionRecord | undefined> {
    const raw = await redisCall('connection store', () =>
      this.#redis.get(clusterKeys.connection(connectionId)),
    );
    return raw ? (JSON.parse(raw) as ConnectionRecord) : undefined;
  }

  async delete(connectionId: string): Promise<void> {
    await redisCall('connection store', () => this.#redis.del(clusterKeys.connection(connectionId)));
  }
}
