import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryRoomStore } from '../../shared/adapters/memory/MemoryRoomStore.ts';
import { memoryAdapters } from '../../shared/adapters/select.ts';
import { type Room, RoomOptionsSchema } from '../../shared/protocol/http/room.ts';
import { bearer, testApp, testSecrets } from '../harness/controlPlane.ts';

const options = RoomOptionsSchema.parse({});
const room = (serviceId: string, n: number): Room => ({
  id: `room-${String(n).padStart(5, '0')}`,
  serviceId,
  name: `room ${n}`,
  options,
  version: 1,
  createdAt: new Date(Date.UTC(2026, 0, 1) + n).toISOString(),
  updatedAt: new Date(Date.UTC(2026, 0, 1) + n).toISOString(),
});

/** Rooms deep-copied by structuredClone from now on (an array of n rooms counts n). */
function countClones() {
  const original = globalThis.structuredClone;
  const counter = { rooms: 0 };
  vi.spyOn(globalThis, 'structuredClone').mockImplementation((value, opts) => {
    counter.rooms += Array.isArray(value) ? value.length : 1;
    return original(value, opts);
  });
  return counter;
}

afterEach(() => vi.restoreAllMocks());

async function fill(store: MemoryRoomStore, serviceId: string, n: number) {
  // Created newest first: the store must keep creation order, not insertion order.
  for (let i = n - 1; i >= 0; i--) await store.create(room(serviceId, i));
  await store.create(room('other-service', n));
}

describe('paging costs O(page size)', () => {
  it('MemoryRoomStore clones only the rooms of the page it returns', async () => {
    const store = new MemoryRoomStore();
    await fill(store, 'svc', 5000);
    const clones = countClones();
    const page = await store.list('svc', { limit: 100, skip: 49 * 100 });
    expect(page.items.map((r) => r.id)).toEqual(
      Array.from({ length: 100 }, (_, i) => room('svc', 4900 + i).id),
    );
    expect(clones.rooms).toBe(100);
    expect(page.cursor).toBeUndefined();
  });

  it('GET /v1/rooms?page=50&per_page=100 is one store call cloning 100 rooms', async () => {
    const adapters = memoryAdapters();
    const { app } = testApp(adapters);
    const store = adapters.rooms as MemoryRoomStore;
    await fill(store, testSecrets.superService.id, 5000);
    const list = vi.spyOn(store, 'list');
    const auth = await bearer(testSecrets.superService.id, testSecrets.superService.key);
    const clones = countClones();
    const res = await app.request('/v1/rooms?page=50&per_page=100', { headers: { authorization: auth } });
    expect(res.status).toBe(200);
    const items = (await res.json()) as Room[];
    expect(items.map((r) => r.name)).toEqual(Array.from({ length: 100 }, (_, i) => `room ${4900 + i}`));
    expect(list).toHaveBeenCalledTimes(1);
    expect(clones.rooms).toBe(100);
  });

  it('an out-of-range page is empty, not an error', async () => {
    const store = new MemoryRoomStore();
    await fill(store, 'svc', 10);
    expect((await store.list('svc', { limit: 5, skip: 10 })).items).toEqual([]);
  });
});
