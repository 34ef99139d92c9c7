import { beforeEach, describe, expect, it } from 'vitest';
import { mauthSignature } from '../../functions/services/ManagementAuth.ts';
import type { MemoryCommandQueue } from '../../shared/adapters/memory/MemoryCommandQueue.ts';
import type { Adapters } from '../../shared/adapters/select.ts';
import type { Participant } from '../../shared/protocol/http/liveState.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { bearer, mauth, testApp, testSecrets } from '../harness/controlPlane.ts';
import { seedLiveRoom } from '../harness/liveState.ts';

type App = ReturnType<typeof testApp>['app'];
const SUPER = testSecrets.superService;

let app: App;
let adapters: Adapters;
let a: { id: string; key: string; auth: () => Promise<string> };
let b: { id: string; key: string; auth: () => Promise<string> };

async function call(
  method: string,
  path: string,
  auth?: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await app.request(path, {
    method,
    headers: {
      ...(auth ? { authorization: auth } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function newService(name: string) {
  const res = await call('POST', '/v1/services', await bearer(SUPER.id, SUPER.key), { name });
  expect(res.status).toBe(201);
  const { id, key } = res.body as { id: string; key: string };
  return { id, key, auth: () => bearer(id, key) };
}

async function newRoom(auth: string, body: unknown = { name: 'lobby' }) {
  const res = await call('POST', '/v1/rooms', auth, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; version: number; options: Record<string, unknown>; name: string };
}

/**
 * A live room of service a: a placement, a participant and a stream, as signaling and the media
 * node would write them (under the room's key).
 */
async function liveRoom(auth: string) {
  const room = await newRoom(auth);
  const key = roomKey(a.id, room.id);
  await seedLiveRoom(adapters, key);
  return { ...room, key };
}

async function nextCommand() {
  const [received] = await (adapters.commands as MemoryCommandQueue).receive('node-1', { waitMs: 0, max: 1 });
  return received && JSON.parse(received.body);
}

beforeEach(async () => {
  ({ app, adapters } = testApp());
  a = await newService('tenant-a');
  b = await newService('tenant-b');
});

describe('services', () => {
  it('the super service creates, lists, reads and deletes services; keys are shown once', async () => {
    const su = await bearer(SUPER.id, SUPER.key);
    const list = await call('GET', '/v1/services', su);
    expect(list.status).toBe(200);
    expect(list.body.map((s: { name: string }) => s.name).sort()).toEqual(['tenant-a', 'tenant-b']);
    expect(JSON.stringify(list.body)).not.toContain(a.key);
    expect((await call('GET', `/v1/services/${a.id}`, su)).body).toMatchObject({
      id: a.id,
      name: 'tenant-a',
    });
    expect((await call('DELETE', `/v1/services/${b.id}`, su)).status).toBe(204);
    expect((await call('GET', `/v1/services/${b.id}`, su)).body.error.code).toBe(1002);
  });

  it('a service reads only itself and manages no services', async () => {
    expect((await call('GET', `/v1/services/${a.id}`, await a.auth())).status).toBe(200);
    const other = await call('GET', `/v1/services/${b.id}`, await a.auth());
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe(1102);
    expect((await call('POST', '/v1/services', await a.auth(), { name: 'x' })).status).toBe(403);
    expect((await call('GET', '/v1/services', await a.auth())).status).toBe(403);
  });

  it('refuses a duplicate name (409) and a malformed body (400)', async () => {
    const su = await bearer(SUPER.id, SUPER.key);
    const dup = await call('POST', '/v1/services', su, { name: 'tenant-a' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe(1302);
    const bad = await call('POST', '/v1/services', su, { name: 42, extra: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['(root)', 'name']);
  });
});

describe('authentication', () => {
  it('accepts a service-key bearer token and OWT MAuth', async () => {
    expect((await call('GET', '/v1/rooms', await a.auth())).status).toBe(200);
    expect((await call('GET', '/v1/rooms', mauth(a.id, a.key))).status).toBe(200);
    expect(
      (await call('GET', '/v1/rooms', mauth(a.id, a.key, { user: 'ana', role: 'presenter' }))).status,
    ).toBe(200);
  });

  it.each([
    ['no header', async () => undefined],
    ['an unknown scheme', async () => 'Basic dXNlcjpwYXNz'],
    ['a bearer token forged with another key', async () => bearer(a.id, 'not-the-key')],
    ['a bearer token of an unknown service', async () => bearer('nobody', 'k')],
    [
      'an expired bearer token',
      async () => bearer(a.id, a.key, { issuedAtS: Math.floor(Date.now() / 1000) - 3600 }),
    ],
    ['a bearer token that lives too long', async () => bearer(a.id, a.key, { lifetimeS: 86_400 })],
    [
      'a bearer token issued in the future',
      async () => bearer(a.id, a.key, { issuedAtS: Math.floor(Date.now() / 1000) + 365 * 86_400 }),
    ],
    [
      'a bearer token issued a minute ahead',
      async () => bearer(a.id, a.key, { issuedAtS: Math.floor(Date.now() / 1000) + 60 }),
    ],
    ['garbage as a bearer token', async () => 'Bearer not.a.jwt'],
    ['MAuth with a wrong signature', async () => mauth(a.id, 'not-the-key')],
    ['MAuth with a stale timestamp', async () => mauth(a.id, a.key, { timestamp: Date.now() - 3_600_000 })],
    [
      'MAuth with the signature of other fields',
      async () => mauth(a.id, a.key, { user: 'ana', role: 'presenter' }).replace('ana', 'eve'),
    ],
  ])('rejects %s with 401 / 1101', async (_what, header) => {
    const res = await call('GET', '/v1/rooms', await header());
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe(1101);
  });

  it('a bearer token verified once (and remembered) stops working with its service', async () => {
    const c = await newService('short-lived');
    const token = await c.auth();
    for (let i = 0; i < 2; i++) expect((await call('GET', '/v1/rooms', token)).status).toBe(200);
    const gone = await call('DELETE', `/v1/services/${c.id}`, await bearer(SUPER.id, SUPER.key));
    expect(gone.status).toBe(204);
    const res = await call('GET', '/v1/rooms', token);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe(1101);
  });

  it('tolerates a bearer token whose signer runs a few seconds ahead', async () => {
    const ahead = await bearer(a.id, a.key, {
      issuedAtS: Math.floor(Date.now() / 1000) + 10,
      lifetimeS: 900,
    });
    expect((await call('GET', '/v1/rooms', ahead)).status).toBe(200);
  });

  it('accepts an MAuth header once: a replay is a 401, on the same or any other route', async () => {
    const header = mauth(a.id, a.key);
    expect((await call('GET', '/v1/rooms', header)).status).toBe(200);
    const again = await call('GET', '/v1/rooms', header);
    expect([again.status, again.body.error.code]).toEqual([401, 1101]);

    // A GET's header, captured and replayed on a POST, creates nothing.
    const captured = mauth(a.id, a.key, { user: 'ana', role: 'presenter' });
    expect((await call('GET', '/v1/rooms/none', captured)).status).toBe(404);
    const replayed = await call('POST', '/v1/rooms', captured, { name: 'smuggled' });
    expect([replayed.status, replayed.body.error.code]).toEqual([401, 1101]);
    const rooms = await call('GET', '/v1/rooms', await a.auth());
    expect(rooms.body.map((r: { name: string }) => r.name)).not.toContain('smuggled');
  });

  it('a nonce is per service: the same timestamp and cnonce from another service still works', async () => {
    const timestamp = Date.now();
    const forA = mauth(a.id, a.key, { timestamp });
    const cnonce = /mauth_cnonce=(\d+)/.exec(forA)![1]!;
    const forB = `MAuth mauth_serviceid=${b.id},mauth_cnonce=${cnonce},mauth_timestamp=${timestamp},mauth_signature=${mauthSignature(b.key, `${timestamp},${cnonce}`)}`;
    expect((await call('GET', '/v1/rooms', forA)).status).toBe(200);
    expect((await call('GET', '/v1/rooms', forB)).status).toBe(200);
  });
});

describe('rooms', () => {
  it('creates a room with OWT defaults, an ETag and a stable id', async () => {
    const res = await call('POST', '/v1/rooms', await a.auth(), { name: 'lobby', id: 'lobby-1' });
    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.body).toMatchObject({ id: 'lobby-1', name: 'lobby', serviceId: a.id, version: 1 });
    expect(res.body.participantLimit).toBe(-1);
    expect(res.body.roles.map((r: { role: string }) => r.role)).toContain('presenter');
    expect(res.body.views[0]).toMatchObject({
      label: 'common',
      video: { parameters: { resolution: { width: 640, height: 480 } } },
    });
  });

  it("refuses an id the service uses (409); another service's ids are its own (no squatting, no probing)", async () => {
    await newRoom(await a.auth(), { name: 'x', id: 'taken' });
    expect((await call('POST', '/v1/rooms', await a.auth(), { name: 'y', id: 'taken' })).status).toBe(409);
    expect((await call('POST', '/v1/rooms', await b.auth(), { name: 'b', id: 'taken' })).status).toBe(201);
    expect((await call('GET', '/v1/rooms/taken', await a.auth())).body.name).toBe('x');
    expect((await call('GET', '/v1/rooms/taken', await b.auth())).body.name).toBe('b');
    expect((await call('DELETE', '/v1/rooms/taken', await b.auth())).status).toBe(204);
    expect((await call('GET', '/v1/rooms/taken', await a.auth())).body.name).toBe('x');
  });

  it("lists only the caller's rooms, by cursor and by OWT page/per_page", async () => {
    const ids = [];
    for (const name of ['r1', 'r2', 'r3']) ids.push((await newRoom(await a.auth(), { name })).id);
    await newRoom(await b.auth(), { name: 'not mine' });
    const first = await call('GET', '/v1/rooms?per_page=2', await a.auth());
    expect(first.body.map((r: { id: string }) => r.id)).toEqual(ids.slice(0, 2));
    const cursor = first.headers.get('x-next-cursor');
    expect(cursor).toBeTruthy();
    const rest = await call('GET', `/v1/rooms?per_page=2&cursor=${cursor}`, await a.auth());
    expect(rest.body.map((r: { id: string }) => r.id)).toEqual(ids.slice(2));
    expect(rest.headers.get('x-next-cursor')).toBeNull();
    const page2 = await call('GET', '/v1/rooms?page=2&per_page=2', await a.auth());
    expect(page2.body.map((r: { id: string }) => r.id)).toEqual(ids.slice(2));
    expect((await call('GET', '/v1/rooms?page=9&per_page=2', await a.auth())).body).toEqual([]);
  });

  it('gets a room: 404 when missing, and the same 404 when another service owns it (no probing)', async () => {
    const room = await newRoom(await a.auth());
    expect((await call('GET', `/v1/rooms/${room.id}`, await a.auth())).body.id).toBe(room.id);
    const missing = await call('GET', '/v1/rooms/nope', await a.auth());
    expect([missing.status, missing.body.error.code]).toEqual([404, 1003]);
    const foreign = await call('GET', `/v1/rooms/${room.id}`, await b.auth());
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({ error: { code: 1003, message: `room ${room.id} not found` } });
    expect((await call('PUT', `/v1/rooms/${room.id}`, await b.auth(), { name: 'mine now' })).status).toBe(
      404,
    );
    expect((await call('DELETE', `/v1/rooms/${room.id}`, await b.auth())).status).toBe(404);
    expect((await call('GET', `/v1/rooms/${room.id}`, await a.auth())).body.name).toBe(room.name);
  });

  it('replaces (PUT) and partially updates (PATCH), versioned', async () => {
    const room = await newRoom(await a.auth(), {
      name: 'lobby',
      options: { participantLimit: 10, views: [] },
    });
    const put = await call('PUT', `/v1/rooms/${room.id}`, await a.auth(), {
      name: 'hall',
      options: { enableBandwidthAdaptation: true },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      name: 'hall',
      version: 2,
      enableBandwidthAdaptation: true,
      participantLimit: -1,
      views: [{ label: 'common' }],
    });
    const patch = await call('PATCH', `/v1/rooms/${room.id}`, await a.auth(), {
      options: { participantLimit: 5 },
    });
    expect(patch.body).toMatchObject({
      name: 'hall',
      version: 3,
      enableBandwidthAdaptation: true,
      participantLimit: 5,
    });
    expect(patch.headers.get('etag')).toBe('"3"');
  });

  it('refuses a stale If-Match with 409 and accepts the current one', async () => {
    const room = await newRoom(await a.auth());
    await call('PATCH', `/v1/rooms/${room.id}`, await a.auth(), { name: 'v2' });
    const stale = await call(
      'PATCH',
      `/v1/rooms/${room.id}`,
      await a.auth(),
      { name: 'lost' },
      { 'if-match': '"1"' },
    );
    expect([stale.status, stale.body.error.code]).toEqual([409, 1302]);
    const fresh = await call(
      'PUT',
      `/v1/rooms/${room.id}`,
      await a.auth(),
      { name: 'v3' },
      { 'if-match': '"2"' },
    );
    expect(fresh.status).toBe(200);
    expect((await call('GET', `/v1/rooms/${room.id}`, await a.auth())).body.name).toBe('v3');
  });

  it('views: what the mixer encodes is stored; other formats are a 501 naming the view; bad labels a 400', async () => {
    const room = await newRoom(await a.auth(), {
      name: 'mcu',
      options: {
        views: [
          {
            label: 'stage',
            video: { format: { codec: 'h264', profile: 'CB' }, layout: { templates: { base: 'lecture' } } },
          },
          { label: 'voice', audio: { format: { codec: 'g722', sampleRate: 16000 } }, video: false },
        ],
      },
    });
    expect((room as unknown as { views: { label: string }[] }).views.map((v) => v.label)).toEqual([
      'stage',
      'voice',
    ]);
    const vp9 = await call('PATCH', `/v1/rooms/${room.id}`, await a.auth(), {
      options: { views: [{ label: 'stage', video: { format: { codec: 'av1' } } }] },
    });
    expect([vp9.status, vp9.body.error.code]).toEqual([501, 1202]);
    expect(vp9.body.error.message).toBe(
      'views: view stage: video format av1 is not mixed (h264, vp8, vp9 are)',
    );
    const big = await call('PATCH', `/v1/rooms/${room.id}`, await a.auth(), {
      options: { views: [{ video: { parameters: { framerate: 120 } } }] },
    });
    expect([big.status, big.body.error.message]).toEqual([
      501,
      'views: view common: mixing above 60 fps is not supported',
    ]);
    for (const label of ['a/b', 'x'.repeat(59)]) {
      const bad = await call('PATCH', `/v1/rooms/${room.id}`, await a.auth(), {
        options: { views: [{ label }] },
      });
      expect([bad.status, bad.body.error.issues[0].path]).toEqual([400, 'options.views.0.label']);
    }
    expect((await call('GET', `/v1/rooms/${room.id}`, await a.auth())).body.version).toBe(1);
  });

  it('answers malformed bodies with 400 and field-level issues', async () => {
    const bad = await call('POST', '/v1/rooms', await a.auth(), {
      name: '',
      options: { participantLimit: 'ten', views: [{ video: { maxInput: 999 } }], roles: [{ role: 'x' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe(1301);
    const paths = bad.body.error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'name',
        'options.participantLimit',
        'options.views.0.video.maxInput',
        'options.roles.0.publish',
      ]),
    );
    const json = await call('POST', '/v1/rooms', await a.auth(), '{"name": ');
    expect([json.status, json.body.error.code]).toEqual([400, 1301]);
    expect(
      (await call('PATCH', `/v1/rooms/${(await newRoom(await a.auth())).id}`, await a.auth(), {})).status,
    ).toBe(400);
    expect((await call('GET', '/v1/rooms?per_page=1000', await a.auth())).status).toBe(400);
  });

  it('deletes a room, closing it on its media node and clearing its live state', async () => {
    const room = await liveRoom(await a.auth());
    expect((await call('DELETE', `/v1/rooms/${room.id}`, await a.auth())).status).toBe(204);
    expect(await nextCommand()).toMatchObject({ type: 'room.close', roomId: room.key });
    expect(await adapters.participants.list(room.id)).toEqual([]);
    expect(await adapters.placement.get(room.id)).toBeUndefined();
    expect((await call('GET', `/v1/rooms/${room.id}`, await a.auth())).status).toBe(404);
  });
});

describe('participants', () => {
  it('lists and gets live participants', async () => {
    const room = await liveRoom(await a.auth());
    const list = await call('GET', `/v1/rooms/${room.id}/participants`, await a.auth());
    expect(list.body.map((p: Participant) => p.user)).toEqual(['ana']);
    expect((await call('GET', `/v1/rooms/${room.id}/participants/p1`, await a.auth())).body.role).toBe(
      'presenter',
    );
    const missing = await call('GET', `/v1/rooms/${room.id}/participants/p9`, await a.auth());
    expect([missing.status, missing.body.error.code]).toEqual([404, 1005]);
    expect((await call('GET', `/v1/rooms/${room.id}/participants`, await b.auth())).status).toBe(404);
  });

  it('updates permissions OWT-style and tells the media node', async () => {
    const room = await liveRoom(await a.auth());
    const res = await call('PATCH', `/v1/rooms/${room.id}/participants/p1`, await a.auth(), [
      { op: 'replace', path: '/permission/publish/video', value: false },
      { op: 'replace', path: '/permission/subscribe', value: false },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.permission).toEqual({ publish: { audio: true, video: false }, subscribe: false });
    expect(await nextCommand()).toMatchObject({
      type: 'participant.permission',
      participantId: 'p1',
      permission: res.body.permission,
    });
    const bad = await call('PATCH', `/v1/rooms/${room.id}/participants/p1`, await a.auth(), [
      { op: 'replace', path: '/role', value: 'x' },
    ]);
    expect(bad.status).toBe(400);
  });

  it('drops a participant through the media node', async () => {
    const room = await liveRoom(await a.auth());
    expect((await call('DELETE', `/v1/rooms/${room.id}/participants/p1`, await a.auth())).status).toBe(204);
    expect(await nextCommand()).toMatchObject({
      type: 'participant.drop',
      roomId: room.key,
      participantId: 'p1',
    });
    expect((await call('GET', `/v1/rooms/${room.id}/participants/p1`, await a.auth())).status).toBe(404);
  });
});

describe('streams', () => {
  it('lists, gets, mixes into a view and pauses, sending stream.control', async () => {
    const room = await liveRoom(await a.auth());
    expect((await call('GET', `/v1/rooms/${room.id}/streams`, await a.auth())).body).toHaveLength(1);
    const res = await call('PATCH', `/v1/rooms/${room.id}/streams/s1`, await a.auth(), [
      { op: 'add', path: '/info/inViews', value: 'common' },
      { op: 'replace', path: '/media/audio/status', value: 'inactive' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.info.inViews).toEqual(['common']);
    expect(res.body.media.audio.status).toBe('inactive');
    expect(await nextCommand()).toMatchObject({ type: 'stream.control', streamId: 's1' });
    expect((await call('GET', `/v1/rooms/${room.id}/streams/s1`, await a.auth())).body.version).toBe(2);
  });

  it('refuses a view the room does not have, and a layout on a forward stream', async () => {
    const room = await liveRoom(await a.auth());
    const res = await call('PATCH', `/v1/rooms/${room.id}/streams/s1`, await a.auth(), [
      { op: 'add', path: '/info/inViews', value: 'no-such-view' },
      { op: 'replace', path: '/info/layout', value: [{ stream: 's1', region: { id: '1' } }] },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toHaveLength(2);
    expect(await nextCommand()).toBeUndefined();
  });

  it('removes a stream; 404 for an unknown one', async () => {
    const room = await liveRoom(await a.auth());
    expect((await call('DELETE', `/v1/rooms/${room.id}/streams/s1`, await a.auth())).status).toBe(204);
    expect(await nextCommand()).toMatchObject({ type: 'stream.remove', streamId: 's1' });
    const gone = await call('GET', `/v1/rooms/${room.id}/streams/s1`, await a.auth());
    expect([gone.status, gone.body.error.code]).toEqual([404, 1004]);
  });
});

describe('tokens', () => {
  it('issues a join token for a role of the room', async () => {
    const room = await newRoom(await a.auth());
    const res = await call('POST', `/v1/rooms/${room.id}/tokens`, await a.auth(), {
      user: 'ana',
      role: 'presenter',
      preference: { isp: 'isp', region: 'eu' },
    });
    expect(res.status).toBe(201);
    expect(res.body.token.split('.')).toHaveLength(3);
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now());
  });

  it('refuses a role the room does not define (403), a foreign room (404) and a bad body (400)', async () => {
    const room = await newRoom(await a.auth());
    expect(
      (await call('POST', `/v1/rooms/${room.id}/tokens`, await a.auth(), { user: 'ana', role: 'admin' }))
        .status,
    ).toBe(403);
    expect(
      (await call('POST', `/v1/rooms/${room.id}/tokens`, await b.auth(), { user: 'ana', role: 'presenter' }))
        .status,
    ).toBe(404);
    expect(
      (await call('POST', `/v1/rooms/${room.id}/tokens`, await a.auth(), { role: 'presenter' })).status,
    ).toBe(400);
  });
});

describe('nodes', () => {
  it('the super service sees every media node with its state; other services may not', async () => {
    const now = Date.now();
    const base = { rooms: 1, workers: 2, workersAlive: 2, load: 0.2, draining: false, capabilities: ['sfu'] };
    await adapters.nodes.report({ ...base, id: 'n-ready', reportedAt: now });
    await adapters.nodes.report({ ...base, id: 'n-draining', draining: true, reportedAt: now });
    await adapters.nodes.report({ ...base, id: 'n-full', load: 0.9, reportedAt: now });
    await adapters.nodes.report({ ...base, id: 'n-stale', reportedAt: now - 10_000 });
    const res = await call('GET', '/v1/nodes', await bearer(SUPER.id, SUPER.key));
    expect(res.status).toBe(200);
    expect(res.body.map((n: { id: string; state: string }) => [n.id, n.state])).toEqual([
      ['n-draining', 'draining'],
      ['n-full', 'full'],
      ['n-ready', 'ready'],
      ['n-stale', 'stale'],
    ]);
    expect((await call('GET', '/v1/nodes', await a.auth())).status).toBe(403);
  });
});

describe('edge', () => {
  it('serves the OpenAPI 3.1 document without credentials', async () => {
    const res = await call('GET', '/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    for (const path of [
      '/v1/rooms',
      '/v1/rooms/{room}',
      '/v1/rooms/{room}/tokens',
      '/v1/services',
      '/v1/rooms/{room}/participants/{participant}',
      '/v1/rooms/{room}/streams/{stream}',
    ]) {
      expect(Object.keys(res.body.paths)).toContain(path);
    }
    expect(res.body.components.securitySchemes).toHaveProperty('mauth');
  });

  it('refuses bodies over 64 KiB with a JSON error', async () => {
    const res = await call('POST', '/v1/rooms', await a.auth(), { name: 'x'.repeat(70_000) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe(1301);
  });
});
