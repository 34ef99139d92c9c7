import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Redis } from 'ioredis';
import { ensureTable } from '../../shared/adapters/dynamodb/table.ts';
import { createSqsClient } from '../../shared/adapters/sqs/client.ts';

/** Real clients for the contract suites, pointed at the harness services by the standard env vars. */
export function redisClient(): Redis {
  return new Redis(process.env.REDIS_URL!, { lazyConnect: false, maxRetriesPerRequest: 1 });
}

export async function dynamoTable(): Promise<{ db: DynamoDBDocumentClient; table: string; close(): void }> {
  const client = new DynamoDBClient({});
  const table = `contract-${randomUUID()}`;
  await ensureTable(client, table);
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { db, table, close: () => client.destroy() };
}

export function sqsClient(): SQSClient {
  return createSqsClient();
}

export const uniqueId = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
