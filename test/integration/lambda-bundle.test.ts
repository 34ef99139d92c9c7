import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bundleLambdas } from '../../infra/bundleLambdas.ts';
import { RedisNodeRegistry } from '../../shared/adapters/redis/RedisNodeRegistry.ts';
import { bearer } from '../harness/controlPlane.ts';
import { nodeReport } from '../harness/nodeReport.ts';
import { secretsManagerStub } from '../harness/secretsManagerStub.ts';

const fixtures = {
  http: JSON.parse(readFileSync(new URL('../fixtures/apigw-http-v2-event.json', import.meta.url), 'utf8')),
  ws: JSON.parse(readFileSync(new URL('../fixtures/apigw-websocket-events.json', import.meta.url), 'utf8')),
};
const SUPER_KEY = 'Bundle-test-super-key-0b7e4c9a2f61d835';

type Handler = (
  event: unknown,
) => Promise<{ statusCode: number; body?: string; headers?: Record<string, string> }>;

/** The esbuild output, not the TypeScript sources, answering API Gateway events. */
describe('bundled Lambda artifacts', () => {
  let files: Awaited<ReturnType<typeof bundleLambdas>>;
  let http: Handler;
  let websocket: Handler;
  let metrics: () => Promise<Record<string, number>>;
  let metricsRedisUrl: string;
  let webhooks: (event: unknown) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
  let secretsManager: Awaited<ReturnType<typeof secretsManagerStub>>;

  beforeAll(async () => {
    files = await bundleLambdas(mkdtempSync(join(tmpdir(), 'tessera-lambda-')));
    secretsManager = await secretsManagerStub({
      'arn:aws:secretsmanager:us-east-1:1:secret:super-key': SUPER_KEY,
    });
    metricsRedisUrl = `${process.env.REDIS_URL}/7`;
    // Configured from the environment, as Lambda configures them (in-memory state here); the
    // super key comes from Secrets Manager, as in the deployment.
    Object.assign(process.env, {
      SUPER_SERVICE_KEY_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:super-key',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
      WS_MANAGEMENT_ENDPOINT: 'http://127.0.0.1:9',
      LOG_LEVEL: 'error',
      REDIS_URL: '',
      DYNAMODB_TABLE: '',
      SQS_QUEUE_PREFIX: '',
    });
    http = (await import(pathToFileURL(files.http).href)).handler;
    websocket = (await import(pathToFileURL(files.websocket).href)).handler;
    process.env.REDIS_URL = metricsRedisUrl;
    metrics = (await import(pathToFileURL(files.metrics).href)).handler;
    Object.assign(process.env, {
      SQS_QUEUE_PREFIX: 'bundle-',
      MASTER_KEY: 'Bundle-test-master-key-5d1f9e3a7c2b4860',
    });
    webhooks = (await import(pathToFileURL(files.webhooks).href)).handler;
  }, 60_000);
  afterAll(() => secretsManager.close());

  it('bundles each function into one file without the media node', () => {
    for (const file of Object.values(files)) {
      const code = readFileSync(file, 'utf8');
      expect(statSync(file).size).toBeLessThan(8 * 1024 * 1024);
      expect(code).not.toMatch(/mediasoup-worker|createWebRtcServer/);
    }
  });

  it('the HTTP handler answers API Gateway v2 events', async () => {
    const event = (method: string, path: string, body?: unknown, auth?: string) => {
      const e = structuredClone(fixtures.http);
      e.rawPath = path;
      e.requestContext.http.method = method;
      e.requestContext.http.path = path;
      if (auth) e.headers.authorization = auth;
      if (body) {
        e.body = JSON.stringify(body);
        e.headers['content-type'] = 'application/json';
      }
      return e;
    };
    const auth = await bearer('super', SUPER_KEY);
    const created = await http(event('POST', '/v1/rooms', { name: 'bundled', id: 'bundled' }, auth));
    expect(created.statusCode).toBe(201);
    const got = await http(event('GET', '/v1/rooms/bundled', undefined, auth));
    expect(JSON.parse(got.body!)).toMatchObject({ id: 'bundled', name: 'bundled' });
    expect((await http(event('GET', '/v1/rooms'))).statusCode).toBe(401);
  });

  it('the WebSocket handler answers $connect, $default and $disconnect events', async () => {
    const refused = await websocket(fixtures.ws.connect);
    expect(refused).toEqual({ statusCode: 401, body: 'join token invalid' });
    const noToken = await websocket({ ...fixtures.ws.connect, queryStringParameters: null });
    expect(noToken).toEqual({ statusCode: 401, body: 'missing token' });
    // An unknown connection's message is answered through @connections (unreachable here) and never throws.
    expect(await websocket(fixtures.ws.message)).toEqual({ statusCode: 200 });
    expect(await websocket(fixtures.ws.disconnect)).toEqual({ statusCode: 200 });
  });

  it('the webhook handler takes SQS batches: events for services without a webhook and bodies that are no event are done', async () => {
    const record = (messageId: string, body: string) => ({
      messageId,
      body,
      receiptHandle: `r-${messageId}`,
      attributes: { ApproximateReceiveCount: '1' },
    });
    const event = {
      v: 1,
      id: '6f1b1c5e-2d4a-4f7e-9a51-0c3f2b7d8e90',
      type: 'room.finished',
      at: new Date().toISOString(),
      serviceId: 'nobody',
      roomId: 'r',
      nodeId: 'n',
      data: {},
    };
    expect(
      await webhooks({ Records: [record('a', JSON.stringify(event)), record('b', 'not json')] }),
    ).toEqual({
      batchItemFailures: [],
    });
  });

  it('the metrics handler turns the nodes’ reports in Redis into one CloudWatch metric record', async () => {
    const redis = new Redis(metricsRedisUrl);
    await redis.flushdb();
    const registry = new RedisNodeRegistry(redis);
    await registry.report(nodeReport('busy', { load: 0.6, rooms: 3 }));
    await registry.report(nodeReport('idle', { load: 0.2, rooms: 1 }));
    await registry.report(nodeReport('leaving', { draining: true, rooms: 2 }));
    await registry.report(nodeReport('dead', { reportedAt: Date.now() - 5000, rooms: 9 }));
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      await metrics();
    } finally {
      write.mockRestore();
      redis.disconnect();
    }
    const record = JSON.parse(lines.find((l) => l.includes('"_aws"'))!);
    expect(record).toMatchObject({
      Deployment: 'tessera',
      MediaNodesReporting: 3,
      MediaNodesDraining: 1,
      MediaNodeLoad: 0.4,
      MediaNodeLoadMax: 0.6,
      Rooms: 6,
    });
    expect(record._aws.CloudWatchMetrics[0].Namespace).toBe('Tessera');
  });
});
