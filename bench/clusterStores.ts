// The stores a benchmark's local cluster runs on: redis-server, DynamoDB Local and the SQS
// emulator (in this process), started here and named in the environment the cluster inherits.
import { startDynamoDbLocal } from '../test/harness/dynamodb.ts';
import { startRedis } from '../test/harness/redis.ts';
import { startSqs } from '../test/harness/sqs.ts';

export async function startClusterStores() {
  const [redis, dynamodb, sqs] = await Promise.all([startRedis(), startDynamoDbLocal(), startSqs()]);
  Object.assign(process.env, {
    REDIS_URL: redis.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  return {
    redis,
    dynamodb,
    sqs,
    stop: () => Promise.all([redis.stop(), dynamodb.stop(), sqs.stop()]).then(() => {}),
  };
}
