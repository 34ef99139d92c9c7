import type { TestProject } from 'vitest/node';
import { z } from 'zod';
import { startDynamoDbLocal } from './dynamodb.ts';
import { startRedis } from './redis.ts';
import { startSqs } from './sqs.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    dynamodbEndpoint: string;
    sqsEndpoint: string;
  }
}

/**
 * Services the suites may be pointed at instead of the ones the setup starts: LocalStack
 * (`TESSERA_TEST_AWS_ENDPOINT=http://localhost:4566` serves DynamoDB and SQS), or one service each.
 */
const ExternalServices = z.object({
  TESSERA_TEST_AWS_ENDPOINT: z.url().optional(),
  TESSERA_TEST_DYNAMODB_ENDPOINT: z.url().optional(),
  TESSERA_TEST_SQS_ENDPOINT: z.url().optional(),
  TESSERA_TEST_REDIS_URL: z.url().optional(),
});

const external = (url: string) => ({ url, endpoint: url, stop: async () => {} });

/**
 * Starts the real services once per test run, on free loopback ports, and always stops them.
 * Suites share them and keep apart by using their own key prefixes, tables and queues.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = ExternalServices.parse(process.env);
  const dynamodbEndpoint = given.TESSERA_TEST_DYNAMODB_ENDPOINT ?? given.TESSERA_TEST_AWS_ENDPOINT;
  const sqsEndpoint = given.TESSERA_TEST_SQS_ENDPOINT ?? given.TESSERA_TEST_AWS_ENDPOINT;
  const [redis, dynamodb, sqs] = await Promise.all([
    given.TESSERA_TEST_REDIS_URL ? external(given.TESSERA_TEST_REDIS_URL) : startRedis(),
    dynamodbEndpoint ? external(dynamodbEndpoint) : startDynamoDbLocal(),
    sqsEndpoint ? external(sqsEndpoint) : startSqs(),
  ]);
  project.provide('redisUrl', redis.url);
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
  project.provide('sqsEndpoint', sqs.endpoint);
  return async () => {
    await Promise.allSettled([redis.stop(), dynamodb.stop(), sqs.stop()]);
  };
}
