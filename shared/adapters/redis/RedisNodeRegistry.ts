import type { Redis } from 'ioredis';
import type { NodeRegistry, NodeReport } from '../../ports/nodes.ts';
import { redisCall } from './failures.ts';
import { clusterKeys } from './keys.ts';

/** A node's report expires on its own when the node stops reporting. */
const REPORT_TTL_MS = 10_000;

export class RedisNodeRegistry implements NodeRegistry {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async report(report: NodeReport): Promise<void> {
    await redisCall('node registry', () =>
      this.#redis
        .multi()
        .set(clusterKeys.node(report.id), JSON.stringify(report), 'PX', REPORT_TTL_MS)
        .zadd(clusterKeys.nodes, report.reportedAt, report.id)
        .exec(),
    );
  }

  async fresh(maxAgeMs: number): Promise<NodeReport[]> {
    const since = Date.now() - maxAgeMs;
    const ids = await redisCall('node registry', () =>
      this.#redis.zrangebyscore(clusterKeys.nodes, since, '+inf'),
    );
    if (ids.length === 0) return [];
    const raw = await redisCall('node registry', () => this.#redis.mget(ids.map(clusterKeys.node)));
    return raw
      .filter((r): r is string => r !== null)
      .map((r) => JSON.parse(r) as NodeReport)
      .filter((r) => r.reportedAt >= since);
  }

  async setRtpCapabilities(capabilities: unknown): Promise<void> {
    await redisCall('node registry', () =>
      this.#redis.set(clusterKeys.rtpCapabilities, JSON.stringify(capabilities)),
    );
  }

  async rtpCapabilities(): Promise<unknown | undefined> {
    const raw = await redisCall('node registry', () => this.#redis.get(clusterKeys.rtpCapabilities));
    return raw ? JSON.parse(raw) : undefined;
  }
}
