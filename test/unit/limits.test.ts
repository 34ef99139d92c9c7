import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../../shared/adapters/memory/MemoryRateLimiter.ts';
import { memoryAdapters } from '../../shared/adapters/select.ts';
import { bearer, testApp, testSecrets } from '../harness/controlPlane.ts';

const SUPER = testSecrets.superService;
let app: ReturnType<typeof testApp>['app'];

async function post(path: string, auth: string, body: unknown) {
  const res = await app.request(path, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { id: string; error: { code: number } } };
}

async function service(name: string) {
  const res = await post('/v1/services', await bearer(SUPER.id, SUPER.key), { name });
  const { id, key } = res.body as unknown as { id: string; key: string };
  return () => bearer(id, key);
}

beforeEach(() => {
  // A stopped clock for the rate limiter: no minute boundary falls inside a test.
  const adapters = { ...memoryAdapters(), rateLimits: new MemoryRateLimiter(() => Date.UTC(2026, 0, 1)) };
  ({ app } = testApp(adapters, undefined, { roomsPerService: 3, tokensPerServicePerMinute: 5 }));
});

describe('per-service limits (config.limits)', () => {
  it('refuses rooms beyond roomsPerService with 429 / 1303, per service; a delete frees a slot', async () => {
    const a = await service('a');
    const b = await service('b');
    const rooms = [];
    for (let i = 0; i < 3; i++) {
      const res = await post('/v1/rooms', await a(), { name: `r${i}` });
      expect(res.status).toBe(201);
      rooms.push(res.body.id);
    }
    const over = await post('/v1/rooms', await a(), { name: 'one too many' });
    expect([over.status, over.body.error.code]).toEqual([429, 1303]);
    expect((await post('/v1/rooms', await b(), { name: 'b0' })).status).toBe(201);
    const del = await app.request(`/v1/rooms/${rooms[0]}`, {
      method: 'DELETE',
      headers: { authorization: await a() },
    });
    expect(del.status).toBe(204);
    expect((await post('/v1/rooms', await a(), { name: 'again' })).status).toBe(201);
  });

  it('refuses join tokens beyond tokensPerServicePerMinute with 429 / 1303, per service', async () => {
    const a = await service('a');
    const b = await service('b');
    const roomA = (await post('/v1/rooms', await a(), { name: 'ra' })).body.id;
    const roomB = (await post('/v1/rooms', await b(), { name: 'rb' })).body.id;
    const token = { user: 'ana', role: 'presenter' };
    for (let i = 0; i < 5; i++)
      expect((await post(`/v1/rooms/${roomA}/tokens`, await a(), token)).status).toBe(201);
    const over = await post(`/v1/rooms/${roomA}/tokens`, await a(), token);
    expect([over.status, over.body.error.code]).toEqual([429, 1303]);
    expect((await post(`/v1/rooms/${roomB}/tokens`, await b(), token)).status).toBe(201);
  });
});
