import { describe, expect, it } from 'vitest';
import type { MemoryCommandQueue } from '../../shared/adapters/memory/MemoryCommandQueue.ts';
import { ErrorCodes } from '../../shared/errors.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { bearer, testApp, testSecrets } from '../harness/controlPlane.ts';

const CASES = 2500;

/** mulberry32: a seeded generator, so a failing case can be replayed. */
function rng(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const int = (max: number) => Math.floor(next() * max);
  const text = (max: number) =>
    Array.from({ length: int(max) }, () =>
      pick(['a', 'Z', '0', ' ', '"', '\\', '/', '%', '\u0000', 'é', '😀', '<', '{', '\n']),
    ).join('');
  const value = (depth = 0): unknown => {
    const kind = depth > 3 ? int(5) : int(7);
    return [
      () => null,
      () => next() > 0.5,
      () => pick([0, -1, 1e308, -1e-9, 2 ** 53 + 1, 3.5]),
      () => text(40),
      () => pick(['', 'x'.repeat(300), '__proto__', 'constructor']),
      () => Array.from({ length: int(4) }, () => value(depth + 1)),
      () =>
        Object.fromEntries(
          Array.from({ length: int(4) }, () => [
            pick(['__proto__', 'constructor', text(8), 'name', 'op']),
            value(depth + 1),
          ]),
        ),
    ][kind]!();
  };
  return { next, pick, int, text, value };
}

const validBodies: Record<string, () => unknown> = {
  service: () => ({ name: 'svc' }),
  room: () => ({ name: 'room', options: { participantLimit: 5 } }),
  roomPatch: () => ({ options: { inputLimit: 2 } }),
  token: () => ({ user: 'ana', role: 'presenter' }),
  participantPatch: () => [{ op: 'replace', path: '/permission/publish/audio', value: false }],
  streamPatch: () => [{ op: 'replace', path: '/media/audio/status', value: 'inactive' }],
};

interface Route {
  method: string;
  path: (p: { room: string; participant: string; stream: string; service: string }) => string;
  body?: keyof typeof validBodies;
  query?: boolean;
}

const routes: Route[] = [
  { method: 'POST', path: () => '/v1/services', body: 'service' },
  { method: 'GET', path: () => '/v1/services', query: true },
  { method: 'GET', path: (p) => `/v1/services/${p.service}` },
  { method: 'DELETE', path: (p) => `/v1/services/${p.service}` },
  { method: 'POST', path: () => '/v1/rooms', body: 'room' },
  { method: 'GET', path: () => '/v1/rooms', query: true },
  { method: 'GET', path: (p) => `/v1/rooms/${p.room}` },
  { method: 'PUT', path: (p) => `/v1/rooms/${p.room}`, body: 'room' },
  { method: 'PATCH', path: (p) => `/v1/rooms/${p.room}`, body: 'roomPatch' },
  { method: 'DELETE', path: (p) => `/v1/rooms/${p.room}` },
  { method: 'POST', path: (p) => `/v1/rooms/${p.room}/tokens`, body: 'token' },
  { method: 'GET', path: (p) => `/v1/rooms/${p.room}/participants` },
  { method: 'GET', path: (p) => `/v1/rooms/${p.room}/participants/${p.participant}` },
  {
    method: 'PATCH',
    path: (p) => `/v1/rooms/${p.room}/participants/${p.participant}`,
    body: 'participantPatch',
  },
  { method: 'DELETE', path: (p) => `/v1/rooms/${p.room}/participants/${p.participant}` },
  { method: 'GET', path: (p) => `/v1/rooms/${p.room}/streams` },
  { method: 'GET', path: (p) => `/v1/rooms/${p.room}/streams/${p.stream}` },
  { method: 'PATCH', path: (p) => `/v1/rooms/${p.room}/streams/${p.stream}`, body: 'streamPatch' },
  { method: 'DELETE', path: (p) => `/v1/rooms/${p.room}/streams/${p.stream}` },
];

describe('fuzz: hostile management requests', () => {
  it(`answers ${CASES} malformed requests with 4xx JSON errors and changes nothing`, async () => {
    const { app, api, adapters, logs } = testApp();
    const r = rng(20261124);
    const superAuth = await bearer(testSecrets.superService.id, testSecrets.superService.key);
    const su = { serviceId: 'super', isSuper: true };
    const a = await api.services.create(su, 'tenant-a');
    const b = await api.services.create(su, 'tenant-b');
    const authA = await bearer(a.id, a.key);
    const authB = await bearer(b.id, b.key);
    const room = await api.rooms.create(
      { serviceId: a.id, isSuper: false },
      {
        name: 'live',
        options: (await import('../../shared/protocol/http/room.ts')).RoomOptionsSchema.parse({}),
      },
    );
    const key = roomKey(a.id, room.id);
    await adapters.placement.set(key, 'node-1');
    await adapters.participants.put({
      id: 'p1',
      roomId: key,
      user: 'ana',
      role: 'presenter',
      version: 1,
      joinedAt: new Date().toISOString(),
      permission: { publish: { audio: true, video: true }, subscribe: { audio: true, video: true } },
    });
    await adapters.streams.put({
      id: 's1',
      roomId: key,
      type: 'forward',
      version: 1,
      info: { type: 'webrtc', inViews: [] },
      media: { audio: { status: 'active', format: { codec: 'opus' } } },
    });
    const existing = { room: room.id, participant: 'p1', stream: 's1', service: a.id };

    const snapshot = async () =>
      JSON.stringify({
        services: await adapters.services.list({ limit: 100 }),
        roomsA: await adapters.rooms.list(a.id, { limit: 100 }),
        roomsB: await adapters.rooms.list(b.id, { limit: 100 }),
        room: await adapters.rooms.get(a.id, room.id),
        participants: await adapters.participants.list(key),
        streams: await adapters.streams.list(key),
        placement: await adapters.placement.get(key),
      });
    const before = await snapshot();

    const invalidId = () =>
      r.pick(['a b', 'x'.repeat(65), '%00', '..%2F..', '%F0%9F%98%80', "'; DROP", '%22']);
    const missingId = () => `missing-${r.int(1e6)}`;
    // Header values are Latin-1 on the wire; anything else could never arrive.
    const headerText = (max: number) => r.text(max).replace(/[^\u0020-\u00ff]/g, '?');
    const badAuth = async () =>
      r.pick([
        () => undefined,
        () => headerText(60),
        () => `Bearer ${headerText(40)}`,
        () => `Bearer ${authA.split(' ')[1]!.slice(0, -3)}abc`,
        () =>
          `MAuth mauth_serviceid=${a.id},mauth_cnonce=1,mauth_timestamp=${Date.now()},mauth_signature=${headerText(20)}`,
        () => `MAuth ${headerText(80)}`,
        () =>
          'Bearer ' +
          ['eyJhbGciOiJub25lIn0', Buffer.from(JSON.stringify({ iss: a.id })).toString('base64url'), ''].join(
            '.',
          ),
      ])();
    const badBody = (kind: keyof typeof validBodies): { text: string; contentType?: string } => {
      const valid = validBodies[kind]!();
      const isArray = Array.isArray(valid);
      return r.pick([
        () => ({
          text: JSON.stringify(isArray ? r.pick([{}, null, 'ops', 7]) : r.pick([[], null, 'room', 7, true])),
        }),
        () => {
          const body = structuredClone(valid) as Record<string, unknown> | Record<string, unknown>[];
          const target = Array.isArray(body) ? body[0]! : body;
          // defineProperty: a plain assignment to __proto__ would set the prototype, not add a key.
          Object.defineProperty(
            target,
            r.pick(['__proto__', 'constructor', 'unknownField', r.text(6) || 'zz', 'admin']),
            {
              value: r.value(),
              enumerable: true,
              configurable: true,
              writable: true,
            },
          );
          return { text: JSON.stringify(body) };
        },
        () => {
          const body = structuredClone(valid) as Record<string, unknown> | Record<string, unknown>[];
          const target = Array.isArray(body) ? body[0]! : body;
          const key = r.pick(Object.keys(target));
          // ({} would be a valid `options`: every option has a default.)
          const wrong =
            key === 'options'
              ? [null, 12345, false, 'x'.repeat(300), '']
              : [null, 12345, false, [], {}, 'x'.repeat(300), ''];
          target[key] = r.pick(wrong);
          return { text: JSON.stringify(body) };
        },
        () => {
          const text = JSON.stringify(valid);
          return { text: text.slice(0, r.int(text.length - 1)) + r.pick(['', '{', ',', '"', '\u0000']) };
        },
        () => ({ text: isArray ? '[]' : '{}' }),
        () => ({
          text: JSON.stringify(
            isArray
              ? Array.from({ length: 40 }, () => (valid as unknown[])[0])
              : { ...(valid as object), name: 'x'.repeat(129) },
          ),
        }),
        () => ({ text: `${'['.repeat(2000)}${']'.repeat(2000)}` }),
        () => ({ text: JSON.stringify({ name: 'x'.repeat(70_000) }) }),
        () => ({
          text: JSON.stringify(valid),
          contentType: r.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']),
        }),
      ])();
    };
    const badQuery = () =>
      r.pick([
        () => `per_page=${r.pick(['0', '-1', '101', 'abc', '1e3', '', '9'.repeat(30)])}`,
        () => `page=${r.pick(['0', 'x', '1001', '-5', '1.5'])}`,
        () =>
          `cursor=${encodeURIComponent(r.pick(['!!!', 'x'.repeat(3000), Buffer.from('{"pk":1}').toString('base64url'), 'LTE']))}`,
      ])();

    const statuses = new Map<number, number>();
    for (let i = 0; i < CASES; i++) {
      const route = r.pick(routes);
      const params = { ...existing };
      // Services are managed by the super service, rooms by their owner (tenant A).
      const isServiceRoute = route.path(existing).startsWith('/v1/services');
      // (DELETE of a service always runs as tenant A, which may never delete one.)
      let auth: string | undefined = isServiceRoute && route.method !== 'DELETE' ? superAuth : authA;
      let body: { text: string; contentType?: string } | undefined;
      let query = '';
      const placeholders = (Object.keys(existing) as (keyof typeof existing)[]).filter(
        (k) => route.path({ ...existing, [k]: 'CHANGED' }) !== route.path(existing),
      );
      const dimensions = [
        'auth',
        ...(route.body ? ['body'] : []),
        ...(placeholders.length ? ['param', 'tenant'] : []),
        ...(route.query ? ['query'] : []),
      ];
      const dimension = r.pick(dimensions);
      // Each request is invalid along its chosen dimension and valid along every other one.
      if (route.body && dimension !== 'body') body = { text: JSON.stringify(validBodies[route.body]!()) };
      if (dimension === 'auth') auth = await badAuth();
      if (dimension === 'body') body = badBody(route.body!);
      if (dimension === 'query') query = `?${badQuery()}`;
      if (dimension === 'tenant') auth = authB; // B may not touch A's room, read A's service or delete any
      if (dimension === 'param') params[r.pick(placeholders)] = r.next() < 0.5 ? invalidId() : missingId();

      const headers: Record<string, string> = {};
      if (auth) headers.authorization = auth;
      if (body) headers['content-type'] = body.contentType ?? 'application/json';
      const url = `${route.path(params)}${query}`;
      let res: Response;
      try {
        res = await app.request(url, { method: route.method, headers, ...(body ? { body: body.text } : {}) });
      } catch (error) {
        throw new Error(`case ${i}: ${route.method} ${url} threw ${String(error)}`);
      }
      const text = await res.text();
      const context = `case ${i} (${dimension}): ${route.method} ${url} [${headers['content-type'] ?? '-'}] ${body?.text.slice(0, 200) ?? ''} → ${res.status} ${text.slice(0, 200)}`;
      expect(res.status, context).toBeGreaterThanOrEqual(400);
      expect(res.status, context).toBeLessThan(500);
      expect(res.headers.get('content-type'), context).toMatch(/application\/json/);
      const parsed = JSON.parse(text);
      expect(Object.values(ErrorCodes), context).toContain(parsed.error.code);
      expect(typeof parsed.error.message, context).toBe('string');
      expect(text, context).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }

    expect(await snapshot()).toBe(before);
    expect(await (adapters.commands as MemoryCommandQueue).receive('node-1', { waitMs: 0, max: 10 })).toEqual(
      [],
    );
    expect(logs.filter((l) => l.includes('unhandled error'))).toEqual([]);
    // Every kind of refusal was exercised.
    for (const status of [400, 401, 403, 404, 413, 415])
      expect(statuses.get(status) ?? 0, `status ${status}`).toBeGreaterThan(0);
  }, 120_000);
});
