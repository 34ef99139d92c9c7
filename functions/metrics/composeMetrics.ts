import { createRedisClient } from '../../shared/adapters/redis/client.ts';
import { RedisNodeRegistry } from '../../shared/adapters/redis/RedisNodeRegistry.ts';
import type { Config } from '../../shared/config/schema.ts';
import { ConfigError } from '../../shared/errors.ts';
import { createLogger, type Logger } from '../../shared/logger.ts';
import { type ClusterMetrics, clusterMetricsHandler } from './clusterMetrics.ts';

/**
 * Composition root of the scheduled metrics function: it reads only the node registry in Redis,
 * so its package holds no DynamoDB, SQS or HTTP app.
 */
export function composeMetrics(
  config: Config,
  logger: Logger = createLogger({ level: config.logLevel, bindings: { service: 'tessera-metrics' } }),
): { collect: () => Promise<ClusterMetrics>; close(): void } {
  if (!config.redisUrl)
    throw new ConfigError('set REDIS_URL for the metrics function: it reads the nodes’ reports');
  const redis = createRedisClient(config.redisUrl, {
    commandTimeoutMs: config.storeTimeouts.redisMs,
    logger,
  });
  return {
    collect: clusterMetricsHandler(new RedisNodeRegistry(redis), config.deploymentName),
    close: () => redis.disconnect(),
  };
}
