import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createApp } from '../../functions/app.ts';
import { composeFunctions, composeSignaling } from '../../functions/compose.ts';
import { connectionsApi } from '../../functions/http/connectionsApi.ts';
import { type RunningServer, serveNode } from '../../functions/http/serveNode.ts';
import { WebSocketGateway } from '../../functions/http/WebSocketGateway.ts';
import { websocketHandler } from '../../functions/signaling/websocketHandler.ts';
import { ensureTable } from '../../shared/adapters/dynamodb/table.ts';
import { type Adapters, adaptersFor } from '../../shared/adapters/select.ts';
import { loadConfig } from '../../shared/config/load.ts';
import { ErrorCodes } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { bearer, roomBody } from '../harness/controlPlane.ts';
import { eventually } from '../harness/embedded.ts';
import { nodeReport } from '../harness/nodeReport.ts';
import {
  type RestartableService,
  startPersistentDynamoDb,
  startPersistentRedis,
} from '../harness/restartable.ts';

/** The acceptance bound: every request is answered within this, whatever the stores do. */
const ANSWER_WITHIN_MS = 5000;
const ROOM = 'outage-room';
/** Never read while the stores are up, so no process holds it in memory (CachedRoomStore). */
const COLD_ROOM = 'outage-cold-room';
const REDIS_PASSWORD = 'outage-redis-password';

/**
 * Store outages against real components: a private redis-server (append-only file, so a kill
 * loses nothing) and DynamoDB Local (on disk), the management functions served on Node, and
 * the signaling function behind the local WebSocket gateway, all with the default store
 * timeouts (2 s). The shared harness services are left alone: these get frozen and killed.
 */
describe('store outages', () => {
  let redis: RestartableService & { url: string };
  let dynamo: RestartableService & { endpoint: string };
  let functions: RunningServer;
  let closeFunctions: () => Promise<void>;
  let gatewayServer: Server;
  let gatewayUrl: string;
  let closeSignaling: () => Promise<void>;
  let seed: Adapters;
  let auth: () => Promise<string>;
  const savedEndpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
  const logs: string[] = [];
  const measured: Record<string, Record<string, number>> = {};

  beforeAll(async () => {
    [redis, dynamo] = await Promise.all([startPersistentRedis(REDIS_PASSWORD), startPersistentDynamoDb()]);
    // The SDK reads its endpoint when a client is made: every client below talks to the private one.
    process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
    const table = 'outage';
    const admin = new DynamoDBClient({});
    await ensureTable(admin, table);
    admin.destroy();
    const superKey = randomBytes(32).toString('base64url');
    const env = {
      REDIS_URL: redis.url,
      DYNAMODB_TABLE: table,
      SUPER_SERVICE_KEY: superKey,
      TOKEN_SECRET: randomBytes(32).toString('base64url'),
      MASTER_KEY: randomBytes(32).toString('base64url'),
      LOG_LEVEL: 'warn',
    };
    const logger = createLogger({ level: 'info', write: (line) => logs.push(line) });
    const deps = composeFunctions(loadConfig(env), logger);
    closeFunctions = deps.close;
    functions = await serveNode(createApp(deps), '127.0.0.1', 0);

    // The local gateway with the signaling function, as functions/entry/localGateway.ts runs them.
    const gateway = new WebSocketGateway({ path: '/ws', logger });
    gatewayServer = createServer(connectionsApi(gateway));
    gateway.attach(gatewayServer);
    await new Promise<void>((r) => gatewayServer.listen(0, '127.0.0.1', r));
    const gatewayPort = (gatewayServer.address() as AddressInfo).port;
    gatewayUrl = `ws://127.0.0.1:${gatewayPort}/ws`;
    const signaling = composeSignaling(
      loadConfig({ ...env, WS_MANAGEMENT_ENDPOINT: `http://127.0.0.1:${gatewayPort}` }),
      logger,
    );
    closeSignaling = signaling.close;
    const handler = websocketHandler(signaling.signaling);
    gateway.route({
      async connect(connectionId, token) {
        const r = await handler({
          requestContext: { routeKey: '$connect', connectionId },
          queryStringParameters: { token },
        });
        return r.statusCode === 200 ? { ok: true } : { ok: false, status: 401, message: r.body ?? '' };
      },
      message: async (connectionId, body) =>
        void (await handler({ requestContext: { routeKey: '$default', connectionId }, body })),
      disconnect: async (connectionId) =>
        void (await handler({ requestContext: { routeKey: '$disconnect', connectionId } })),
    });

    seed = adaptersFor(loadConfig(env), createLogger({ level: 'error', write: () => {} }));
    auth = () => bearer('super', superKey);
    for (const name of [ROOM, COLD_ROOM])
      expect((await call('POST', '/v1/rooms', roomBody(name))).status).toBe(201);
    for (const id of ['p-before-1', 'p-before-2']) {
      await seed.participants.put({
        id,
        roomId: roomKey('super', ROOM),
        user: id,
        role: 'presenter',
        version: 1,
        joinedAt: new Date().toISOString(),
        permission: { publish: { audio: true, video: true }, subscribe: { audio: true, video: true } },
      });
    }
  }, 120_000);

  afterAll(async () => {
    redis?.thaw();
    dynamo?.thaw();
    console.log(`answer times during outages (ms):\n${JSON.stringify(measured, null, 1)}`);
    if (process.env.OUTAGE_LOGS) console.log(logs.join('\n'));
    await functions?.close();
    await closeFunctions?.();
    await closeSignaling?.();
    await new Promise((r) => gatewayServer?.close(r));
    await seed?.close();
    await Promise.allSettled([redis?.stop(), dynamo?.stop()]);
    process.env.AWS_ENDPOINT_URL_DYNAMODB = savedEndpoint;
  }, 60_000);

  async function call(method: string, path: string, body?: unknown) {
    const started = performance.now();
    const res = await fetch(`${functions.url}${path}`, {
      method,
      headers: {
        authorization: await auth(),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(ANSWER_WITHIN_MS * 3),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, ms: performance.now() - started };
  }

  const participant = `/v1/rooms/${ROOM}/participants/p-before-1`;
  const routes = {
    healthz: ['GET', '/healthz'],
    readyz: ['GET', '/readyz'],
    listRooms: ['GET', '/v1/rooms'],
    createRoom: ['POST', '/v1/rooms', { name: 'during-outage' }],
    getRoom: ['GET', `/v1/rooms/${ROOM}`],
    getColdRoom: ['GET', `/v1/rooms/${COLD_ROOM}`],
    patchRoom: ['PATCH', `/v1/rooms/${ROOM}`, { options: { participantLimit: 40 } }],
    listServices: ['GET', '/v1/services'],
    token: ['POST', `/v1/rooms/${ROOM}/tokens`, { user: 'ana', role: 'presenter' }],
    listParticipants: ['GET', `/v1/rooms/${ROOM}/participants`],
    getParticipant: ['GET', participant],
    patchParticipant: [
      'PATCH',
      participant,
      [{ op: 'replace', path: '/permission/publish/audio', value: false }],
    ],
    dropParticipant: ['DELETE', `/v1/rooms/${ROOM}/participants/p-missing`],
    listStreams: ['GET', `/v1/rooms/${ROOM}/streams`],
    getStream: ['GET', `/v1/rooms/${ROOM}/streams/s-missing`],
    nodes: ['GET', '/v1/nodes'],
    rtpCapabilities: ['GET', '/v1/rtp-capabilities'],
  } as const satisfies Record<string, readonly [string, string, unknown?]>;
  type RouteName = keyof typeof routes;

  /** Every route at once; each must be answered within the bound, and none with a 500. */
  async function tryEveryRoute(outage: string) {
    const names = Object.keys(routes) as RouteName[];
    const answers = await Promise.all(
      names.map((name) => {
        const [method, path, body] = routes[name];
        return call(method, path, body);
      }),
    );
    const byName = Object.fromEntries(names.map((n, i) => [n, answers[i]!])) as Record<
      RouteName,
      Awaited<ReturnType<typeof call>>
    >;
    measured[outage] = Object.fromEntries(names.map((n) => [n, Math.round(byName[n].ms)]));
    for (const name of names) {
      const { status, ms, body } = byName[name];
      const context = `${outage}: ${name} → ${status} ${JSON.stringify(body)} in ${Math.round(ms)} ms`;
      expect(ms, context).toBeLessThan(ANSWER_WITHIN_MS);
      expect(status, context).not.toBe(500);
    }
    return byName;
  }

  const expectStorageFailure = (answer: { status: number; body: unknown }, context: string) => {
    expect(answer.status, context).toBe(503);
    expect(answer.body, context).toMatchObject({ error: { code: ErrorCodes.storageFailure } });
  };

  async function readyWithin(ms: number) {
    const deadline = Date.now() + ms;
    let last = await call('GET', '/readyz');
    while (last.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      last = await call('GET', '/readyz');
    }
    return last;
  }

  const participantIds = async () =>
    ((await call('GET', `/v1/rooms/${ROOM}/participants`)).body as { id: string }[]).map((p) => p.id).sort();

  const redisRoutes: RouteName[] = [
    'token',
    'listParticipants',
    'getParticipant',
    'patchParticipant',
    'dropParticipant',
    'listStreams',
    'getStream',
    'nodes',
    'rtpCapabilities',
  ];

  it('is ready with both stores up', async () => {
    const ready = await call('GET', '/readyz');
    expect(ready).toMatchObject({
      status: 200,
      body: { status: 'ready', checks: { redis: 'ok', dynamodb: 'ok' } },
    });
    expect(await participantIds()).toEqual(['p-before-1', 'p-before-2']);
  });

  it('(a) Redis frozen (SIGSTOP): every route answers within 5 s, 503/1401 where Redis is needed; SIGCONT: ready again, nothing lost', async () => {
    redis.freeze();
    try {
      const answers = await tryEveryRoute('redis frozen');
      expect(answers.healthz.status).toBe(200);
      expect(answers.readyz).toMatchObject({
        status: 503,
        body: { checks: { redis: 'failed', dynamodb: 'ok' } },
      });
      for (const name of redisRoutes) expectStorageFailure(answers[name], `redis frozen: ${name}`);
      // Durable state alone still works.
      expect(answers.getRoom.status).toBe(200);
      expect(answers.getColdRoom.status).toBe(200);
      expect(answers.listRooms.status).toBe(200);
    } finally {
      redis.thaw();
    }
    expect((await readyWithin(10_000)).status).toBe(200);
    expect(await participantIds()).toEqual(['p-before-1', 'p-before-2']);
  });

  it('(b) Redis killed: every route answers within 5 s; restarted on the same port: ready again, nothing lost', async () => {
    await redis.kill();
    try {
      const answers = await tryEveryRoute('redis killed');
      expect(answers.readyz).toMatchObject({
        status: 503,
        body: { checks: { redis: 'failed', dynamodb: 'ok' } },
      });
      for (const name of redisRoutes) expectStorageFailure(answers[name], `redis killed: ${name}`);
      expect(answers.getRoom.status).toBe(200);
      // A reconnect attempt meets the dead port before Redis comes back: that error is logged.
      await eventually(async () => logs.some((l) => l.includes('redis connection error')), Boolean, 5000);
    } finally {
      await redis.restart();
    }
    const ready = await readyWithin(15_000);
    expect(ready.status).toBe(200);
    expect(await participantIds()).toEqual(['p-before-1', 'p-before-2']);
  });

  /**
   * With DynamoDB down, a room read before is served from memory while its Redis change token
   * holds; one never read answers 503. Asked alone, before every route at once: the concurrent
   * PATCH changes the token, after which a read of that room may meet the outage too.
   */
  async function expectRoomFromMemory(outage: string) {
    expect(await call('GET', `/v1/rooms/${ROOM}`), outage).toMatchObject({ status: 200, body: { id: ROOM } });
    expectStorageFailure(await call('GET', `/v1/rooms/${COLD_ROOM}`), `${outage}: a room never read`);
  }

  it('(c) DynamoDB stopped: room routes answer 503/1401 within 5 s (a room read before: from memory), not ready; restarted: back, rooms kept', async () => {
    expect((await call('GET', `/v1/rooms/${ROOM}`)).status).toBe(200);
    await dynamo.kill();
    try {
      await expectRoomFromMemory('dynamodb stopped');
      const answers = await tryEveryRoute('dynamodb stopped');
      expect(answers.readyz).toMatchObject({
        status: 503,
        body: { checks: { redis: 'ok', dynamodb: 'failed' } },
      });
      for (const name of ['listRooms', 'createRoom', 'getColdRoom', 'patchRoom', 'listServices'] as const)
        expectStorageFailure(answers[name], `dynamodb stopped: ${name}`);
    } finally {
      await dynamo.restart();
    }
    expect((await readyWithin(20_000)).status).toBe(200);
    expect((await call('GET', `/v1/rooms/${ROOM}`)).status).toBe(200);
    expect(await participantIds()).toEqual(['p-before-1', 'p-before-2']);
  });

  it('(d) DynamoDB frozen (SIGSTOP): room routes answer 503/1401 within 5 s (a room read before: from memory); SIGCONT: back', async () => {
    expect((await call('GET', `/v1/rooms/${ROOM}`)).status).toBe(200);
    dynamo.freeze();
    try {
      await expectRoomFromMemory('dynamodb frozen');
      const answers = await tryEveryRoute('dynamodb frozen');
      expect(answers.readyz).toMatchObject({
        status: 503,
        body: { checks: { redis: 'ok', dynamodb: 'failed' } },
      });
      for (const name of ['listRooms', 'createRoom', 'getColdRoom', 'patchRoom', 'listServices'] as const)
        expectStorageFailure(answers[name], `dynamodb frozen: ${name}`);
    } finally {
      dynamo.thaw();
    }
    expect((await readyWithin(10_000)).status).toBe(200);
    expect((await call('GET', `/v1/rooms/${ROOM}`)).status).toBe(200);
  });

  it('logs store connection errors as JSON lines, rate-limited, without credentials', () => {
    const records = logs.map((line) => JSON.parse(line) as { level: string; msg: string });
    const redisErrors = records.filter((r) => r.msg === 'redis connection error');
    expect(redisErrors.length).toBeGreaterThan(0);
    // Two clients (functions and signaling), one line per kind of error per 10 s each, whatever
    // the number of failed commands and reconnects.
    expect(redisErrors.length).toBeLessThanOrEqual(8);
    expect(records.some((r) => r.msg === 'redis connection restored')).toBe(true);
    expect(records.filter((r) => r.msg === 'unhandled error')).toEqual([]);
    expect(logs.join('\n')).not.toContain(REDIS_PASSWORD);
  });

  // The signaling function answers every failure in message() (1401 for a StorageError).
  it('(a′) Redis frozen: a signaling request on an open socket is answered within 5 s', async () => {
    await seed.nodes.report(nodeReport('outage-node'));
    const { body } = await call('POST', `/v1/rooms/${ROOM}/tokens`, { user: 'sam', role: 'presenter' });
    const ws = new WebSocket(`${gatewayUrl}?token=${(body as { token: string }).token}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const answers: unknown[] = [];
    ws.on('message', (data) => answers.push(JSON.parse(data.toString())));
    redis.freeze();
    try {
      const started = performance.now();
      ws.send(JSON.stringify({ id: 7, method: 'logout', params: {} }));
      const deadline = Date.now() + ANSWER_WITHIN_MS;
      while (!answers.some((a) => (a as { id?: unknown }).id === 7) && ws.readyState === ws.OPEN) {
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      measured['redis frozen'] = {
        ...measured['redis frozen'],
        signalingLogout: Math.round(performance.now() - started),
      };
      const answer = answers.find((a) => (a as { id?: unknown }).id === 7);
      // An error response (1401) or success, or a clean close: never silence.
      if (ws.readyState === ws.OPEN) expect(answer, 'signaling answer within 5 s').toMatchObject({ id: 7 });
    } finally {
      redis.thaw();
      ws.close();
    }
  });
});
