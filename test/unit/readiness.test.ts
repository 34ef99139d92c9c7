import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app.ts';
import { managementApi } from '../../functions/compose.ts';
import { failingAsStorageErrors } from '../../shared/adapters/dynamodb/failures.ts';
import { withoutCredentials } from '../../shared/adapters/redis/client.ts';
import { redisCall } from '../../shared/adapters/redis/failures.ts';
import { memoryAdapters } from '../../shared/adapters/select.ts';
import { ConflictError, ErrorCodes, StorageError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import { testSecrets } from '../harness/controlPlane.ts';

const logger = createLogger({ level: 'error', write: () => {} });
const adapters = memoryAdapters();
const api = managementApi(adapters, testSecrets);

describe('GET /readyz', () => {
  it('is ready over the memory adapters, which have nothing to check', async () => {
    const res = await createApp({ logger, api, readiness: () => adapters.readiness() }).request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: {} });
  });

  it('is 503 naming the failing store, and needs no credentials', async () => {
    const app = createApp({ logger, api, readiness: async () => ({ redis: false, dynamodb: true }) });
    const res = await app.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unready', checks: { redis: 'failed', dynamodb: 'ok' } });
  });

  it('leaves /healthz a pure liveness probe', async () => {
    const app = createApp({ logger, api, readiness: async () => ({ redis: false }) });
    expect((await app.request('/healthz')).status).toBe(200);
  });
});

describe('store failures become StorageError', () => {
  it('redisCall maps a Redis failure to 1401 and lets typed errors through', async () => {
    const failed = redisCall('live state', () => Promise.reject(new Error('Command timed out')));
    await expect(failed).rejects.toBeInstanceOf(StorageError);
    await expect(failed).rejects.toMatchObject({ code: ErrorCodes.storageFailure });
    const conflict = redisCall('live state', () => Promise.reject(new ConflictError('changed')));
    await expect(conflict).rejects.toBeInstanceOf(ConflictError);
  });

  it('the DynamoDB stores see network failures as StorageError and lost conditions as they are', async () => {
    const lost = new ConditionalCheckFailedException({ message: 'lost', $metadata: {} });
    let next: unknown = new Error('connect ECONNREFUSED 127.0.0.1:8000');
    const db = { send: async () => Promise.reject(next) } as unknown as DynamoDBDocumentClient;
    const guarded = failingAsStorageErrors(db, 'room store');
    const get = () => guarded.send(new GetCommand({ TableName: 't', Key: { pk: 'x' } }));
    await expect(get()).rejects.toBeInstanceOf(StorageError);
    next = lost;
    await expect(get()).rejects.toBe(lost);
  });

  it('logs of connection errors never carry URL credentials', () => {
    expect(withoutCredentials('connect to redis://user:s3cret@cache:6379 failed')).toBe(
      'connect to redis://[redacted]@cache:6379 failed',
    );
    expect(withoutCredentials('rediss://:only-password@h')).toBe('rediss://[redacted]@h');
  });
});
