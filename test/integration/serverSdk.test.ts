import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app.ts';
import { managementApi, webhookSettings } from '../../functions/compose.ts';
import { type RunningServer, serveNode } from '../../functions/http/serveNode.ts';
import { webhookRoutes } from '../../functions/routes/webhooks.ts';
import { createTesseraAdmin, ok, type TesseraAdmin, TesseraApiError } from '../../sdk/server/index.ts';
import { type Adapters, memoryAdapters } from '../../shared/adapters/select.ts';
import { loadConfig } from '../../shared/config/load.ts';
import { createLogger } from '../../shared/logger.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { testSecrets } from '../harness/controlPlane.ts';
import { seedLiveRoom } from '../harness/liveState.ts';

const SUPER = testSecrets.superService;
const document = JSON.parse(readFileSync('sdk/server/openapi.json', 'utf8')) as {
  paths: Record<string, Record<string, { operationId: string }>>;
};
/** Every operation of the document, as a matcher of the requests the SDK sends. */
const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]) => ({
    id: op.operationId,
    method: method.toUpperCase(),
    pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  })),
);
const performed = new Set<string>();

let server: RunningServer;
let adapters: Adapters;
let admin: TesseraAdmin;
let tenant: TesseraAdmin;
let tenantId: string;

/** The SDK's requests go over HTTP to the real app; each one is matched to its operation. */
const recordingFetch = (request: Request) => {
  const path = new URL(request.url).pathname;
  const op = operations.find((o) => o.method === request.method && o.pattern.test(path));
  if (op) performed.add(op.id);
  return fetch(request);
};

beforeAll(async () => {
  adapters = memoryAdapters();
  // Loopback peers allowed (this test's URLs are 127.0.0.1; nothing is ever contacted).
  const config = loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: 'on', STREAMING_ALLOW_PRIVATE_URLS: 'on' });
  const api = managementApi(adapters, testSecrets, config.limits, config.streaming);
  const webhooks = webhookSettings(adapters, testSecrets, config);
  const app = createApp({
    logger: createLogger({ level: 'error', write: () => {} }),
    api,
    extensions: [(app) => webhookRoutes(app, webhooks)],
  });
  server = await serveNode(app, '127.0.0.1', 0);
  admin = createTesseraAdmin({
    baseUrl: server.url,
    credentials: { serviceId: SUPER.id, key: SUPER.key },
    fetch: recordingFetch,
  });
  const created = ok(await admin.POST('/v1/services', { body: { name: 'sdk-tenant' } }));
  tenantId = created.id;
  // The tenant signs with OWT's MAuth: a fresh nonce on every request.
  tenant = createTesseraAdmin({
    baseUrl: server.url,
    credentials: { serviceId: created.id, key: created.key, scheme: 'mauth' },
    fetch: recordingFetch,
  });
});

afterAll(async () => {
  await server?.close();
});

/** A room of the tenant made live as signaling and a media node would: a placement, a participant and a stream. */
async function liveRoom(name: string) {
  const room = ok(await tenant.POST('/v1/rooms', { body: { name } }));
  await seedLiveRoom(adapters, roomKey(tenantId, room.id));
  return room;
}

/** The TesseraApiError an answer gives, for its status and stable code. */
async function failure(call: Promise<{ data?: unknown; error?: unknown; response: Response }>) {
  try {
    ok(await call);
  } catch (error) {
    if (error instanceof TesseraApiError) return { status: error.status, code: error.code };
    throw error;
  }
  throw new Error('the call succeeded');
}

describe('server SDK (typed REST client over HTTP, bearer and MAuth signing)', () => {
  it('manages services and their webhooks as the super service', async () => {
    const other = ok(await admin.POST('/v1/services', { body: { name: 'sdk-other' } }));
    expect(other.key.length).toBeGreaterThan(20);
    const listed = ok(await admin.GET('/v1/services'));
    expect(listed.map((s) => s.name)).toEqual(expect.arrayContaining(['sdk-tenant', 'sdk-other']));
    expect(
      ok(await admin.GET('/v1/services/{service}', { params: { path: { service: other.id } } })).name,
    ).toBe('sdk-other');
    const service = { params: { path: { service: other.id } } };
    const hook = ok(
      await admin.PUT('/v1/services/{service}/webhook', {
        ...service,
        body: { url: 'http://127.0.0.1:9/hook' },
      }),
    );
    expect(hook.url).toBe('http://127.0.0.1:9/hook');
    expect(ok(await admin.GET('/v1/services/{service}/webhook', service)).url).toBe(
      'http://127.0.0.1:9/hook',
    );
    ok(await admin.DELETE('/v1/services/{service}/webhook', service));
    ok(await admin.DELETE('/v1/services/{service}', service));
    expect(await failure(admin.GET('/v1/services/{service}', service))).toEqual({
      status: 404,
      code: expect.any(Number),
    });
    expect(ok(await admin.GET('/v1/nodes'))).toEqual([]);
    // A command a node gave up on: named, with why, and not its body.
    const received = {
      body: JSON.stringify({ id: 'c-1', type: 'room.close', roomId: 's/r' }),
      receiveCount: 1,
      receipt: 'x',
    };
    await adapters.commands.deadLetter('node-z', received, 'invalid command');
    expect(ok(await admin.GET('/v1/dead-letters', { params: { query: { max: 5 } } }))).toEqual([
      {
        nodeId: 'node-z',
        reason: 'invalid command',
        at: expect.any(String),
        type: 'room.close',
        roomId: 's/r',
        commandId: 'c-1',
      },
    ]);
    expect(await failure(tenant.GET('/v1/dead-letters', {}))).toEqual({
      status: 403,
      code: expect.any(Number),
    });
  });

  it('creates, reads, lists, replaces, updates and deletes rooms, and issues tokens', async () => {
    const room = ok(
      await tenant.POST('/v1/rooms', { body: { name: 'standup', options: { participantLimit: 5 } } }),
    );
    const path = { params: { path: { room: room.id } } };
    expect(ok(await tenant.GET('/v1/rooms/{room}', path)).participantLimit).toBe(5);
    expect(ok(await tenant.GET('/v1/rooms')).map((r) => r.id)).toContain(room.id);
    expect(
      ok(
        await tenant.PUT('/v1/rooms/{room}', {
          ...path,
          body: { name: 'standup', options: { participantLimit: 7 } },
        }),
      ).participantLimit,
    ).toBe(7);
    expect(
      ok(await tenant.PATCH('/v1/rooms/{room}', { ...path, body: { participantLimit: 9 } })).participantLimit,
    ).toBe(9);
    const token = ok(
      await tenant.POST('/v1/rooms/{room}/tokens', { ...path, body: { user: 'ada', role: 'presenter' } }),
    );
    expect(typeof token).toBe('object');
    expect((token as { token: string }).token.length).toBeGreaterThan(20);
    expect(
      await failure(
        tenant.POST('/v1/rooms/{room}/tokens', { ...path, body: { user: 'ada', role: 'no-such-role' } }),
      ),
    ).toMatchObject({ status: 403 });
    ok(await tenant.DELETE('/v1/rooms/{room}', path));
    expect(await failure(tenant.GET('/v1/rooms/{room}', path))).toMatchObject({ status: 404 });
  });

  it('reads and changes participants and streams of a live room', async () => {
    const room = await liveRoom('live');
    const inRoom = { room: room.id };
    expect(
      ok(await tenant.GET('/v1/rooms/{room}/participants', { params: { path: inRoom } })).map((p) => p.user),
    ).toEqual(['ana']);
    const p1 = { params: { path: { ...inRoom, participant: 'p1' } } };
    expect(ok(await tenant.GET('/v1/rooms/{room}/participants/{participant}', p1)).role).toBe('presenter');
    const changed = ok(
      await tenant.PATCH('/v1/rooms/{room}/participants/{participant}', {
        ...p1,
        body: [{ op: 'replace', path: '/permission/publish/video', value: false }],
      }),
    );
    expect(changed.permission.publish).toEqual({ audio: true, video: false });
    expect(ok(await tenant.GET('/v1/rooms/{room}/streams', { params: { path: inRoom } }))).toHaveLength(1);
    const s1 = { params: { path: { ...inRoom, stream: 's1' } } };
    expect(ok(await tenant.GET('/v1/rooms/{room}/streams/{stream}', s1)).type).toBe('forward');
    const paused = ok(
      await tenant.PATCH('/v1/rooms/{room}/streams/{stream}', {
        ...s1,
        body: [{ op: 'replace', path: '/media/audio/status', value: 'inactive' }],
      }),
    );
    expect(paused.media.audio && typeof paused.media.audio === 'object' && paused.media.audio.status).toBe(
      'inactive',
    );
    ok(await tenant.DELETE('/v1/rooms/{room}/streams/{stream}', s1));
    ok(await tenant.DELETE('/v1/rooms/{room}/participants/{participant}', p1));
  });

  it('starts, reads, changes and stops recordings and streaming-outs; streaming-ins and ingresses answer typed errors without a media node', async () => {
    const room = await liveRoom('media');
    const inRoom = { params: { path: { room: room.id } } };
    const from = { audio: { from: 's1' }, video: { from: 's1' } };
    const recording = ok(
      await tenant.POST('/v1/rooms/{room}/recordings', { ...inRoom, body: { media: from } }),
    );
    expect(ok(await tenant.GET('/v1/rooms/{room}/recordings', inRoom)).map((r) => r.id)).toEqual([
      recording.id,
    ]);
    const one = { params: { path: { room: room.id, recording: recording.id } } };
    expect(ok(await tenant.GET('/v1/rooms/{room}/recordings/{recording}', one)).id).toBe(recording.id);
    ok(
      await tenant.PATCH('/v1/rooms/{room}/recordings/{recording}', {
        ...one,
        body: [{ op: 'replace', path: '/media/audio/from', value: 's1' }],
      }),
    );
    ok(await tenant.DELETE('/v1/rooms/{room}/recordings/{recording}', one));

    const out = ok(
      await tenant.POST('/v1/rooms/{room}/streaming-outs', {
        ...inRoom,
        body: { protocol: 'rtmp', url: 'rtmp://127.0.0.1:1935/live/x', media: from },
      }),
    );
    expect(ok(await tenant.GET('/v1/rooms/{room}/streaming-outs', inRoom)).map((o) => o.id)).toEqual([
      out.id,
    ]);
    const outPath = { params: { path: { room: room.id, out: out.id } } };
    expect(ok(await tenant.GET('/v1/rooms/{room}/streaming-outs/{out}', outPath)).id).toBe(out.id);
    ok(
      await tenant.PATCH('/v1/rooms/{room}/streaming-outs/{out}', {
        ...outPath,
        body: [{ op: 'replace', path: '/media/audio/from', value: 's1' }],
      }),
    );
    ok(await tenant.DELETE('/v1/rooms/{room}/streaming-outs/{out}', outPath));

    const pull = await failure(
      tenant.POST('/v1/rooms/{room}/streaming-ins', {
        ...inRoom,
        body: { connection: { url: 'rtsp://127.0.0.1:8554/cam' } },
      }),
    );
    expect(pull, 'no node can pull streams here').toEqual({ status: 503, code: expect.any(Number) });
    // Stopping what does not run is a no-op (204), as for streams.
    ok(
      await tenant.DELETE('/v1/rooms/{room}/streaming-ins/{stream}', {
        params: { path: { room: room.id, stream: '00000000-0000-4000-8000-000000000000' } },
      }),
    );
    const ingress = await failure(
      tenant.POST('/v1/rooms/{room}/ingresses', { ...inRoom, body: { protocol: 'rtmp' } }),
    );
    expect(ingress, 'no node takes RTMP pushes here').toEqual({
      status: expect.any(Number),
      code: expect.any(Number),
    });
    expect(ingress.status).toBeGreaterThanOrEqual(500);
    ok(
      await tenant.DELETE('/v1/rooms/{room}/ingresses/{ingress}', {
        params: { path: { room: room.id, ingress: '00000000-0000-4000-8000-000000000000' } },
      }),
    );
  });

  it('refuses a wrong key, and the tenant cannot manage services', async () => {
    const forged = createTesseraAdmin({
      baseUrl: server.url,
      credentials: { serviceId: SUPER.id, key: 'not-the-key-0123456789abcdef' },
    });
    expect(await failure(forged.GET('/v1/rooms'))).toMatchObject({ status: 401 });
    expect(await failure(tenant.GET('/v1/services'))).toMatchObject({ status: 403 });
  });

  it('performed every operation of the OpenAPI document', () => {
    expect([...performed].sort()).toEqual(operations.map((o) => o.id).sort());
  });
});
