import { Redis } from 'ioredis';
import { RedisNodeRegistry } from '../../shared/adapters/redis/RedisNodeRegistry.ts';
import type { Config } from '../../shared/config/schema.ts';
import { ConfigError } from '../../shared/errors.ts';
import { type ClusterMetrics, clusterMetricsHandler } from './clusterMetrics.ts';

/**
 * Composition root of the scheduled metrics function: it reads only the node registry in Redis,
 * so its package holds no DynamoDB, SQS or HTTP app.
 */
export function composeMetrics(config: Config): { collect: () => Promise<ClusterMetrics>; close(): void } {
  if (!config.redisUrl)
    throw new ConfigError('set REDIS_URL for the metrics function: it reads the nodes’ reports');
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  return {
    collect: clusterMetricsHandler(new RedisNodeRegistry(redis), config.deploymentName),
    close: () => redis.disconnect(),
  };
}
