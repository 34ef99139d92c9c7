import type { TestProject } from 'vitest/node';
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
 * Starts the real services once per test run, on free loopback ports, and always stops them.
 * Suites share them and keep apart by using their own key prefixes, tables and queues.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [redis, dynamodb, sqs] = await Promise.all([startRedis(), startDynamoDbLocal(), startSqs()]);
  project.provide('redisUrl', redis.url);
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
  project.provide('sqsEndpoint', sqs.endpoint);
  return async () => {
    await Promise.allSettled([redis.stop(), dynamodb.stop(), sqs.stop()]);
  };
}
