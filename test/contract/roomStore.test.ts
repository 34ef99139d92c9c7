import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CachedRoomStore } from '../../shared/adapters/CachedRoomStore.ts';
import { DynamoRoomStore } from '../../shared/adapters/dynamodb/DynamoRoomStore.ts';
import { MemoryRoomStore } from '../../shared/adapters/memory/MemoryRoomStore.ts';
import { RedisRoomVersions } from '../../shared/adapters/redis/RedisRoomVersions.ts';
import { ConflictError, NotFoundError, StorageError } from '../../shared/errors.ts';
import type { RoomStore } from '../../shared/ports/durable.ts';
import { type Room, RoomOptionsSchema } from '../../shared/protocol/http/room.ts';
import { dynamoTable, redisClient, uniqueId } from './adapters.ts';

const room = (serviceId: string, n = 0): Room => ({
  id: uniqueId('room'),
  serviceId,
  name: `room ${n}`,
  options: RoomOptionsSchema.parse({}),
  version: 1,
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  updatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
});

const adapters: [string, () => Promise<{ store: RoomStore; close(): void }>][] = [
  ['memory', async () => ({ store: new MemoryRoomStore(), close: () => {} })],
  [
    'dynamodb',
    async () => {
      const t = await dynamoTable();
      return { store: new DynamoRoomStore(t.db, t.table), close: t.close };
    },
  ],
  [
    'dynamodb, cached by Redis change tokens',
    async () => {
      const t = await dynamoTable();
      const redis = redisClient();
      return {
        store: new CachedRoomStore(new DynamoRoomStore(t.db, t.table), new RedisRoomVersions(redis)),
        close: () => {
          t.close();
          redis.disconnect();
        },
      };
    },
  ],
];

describe.each(adapters)('RoomStore contract: %s', (_name, make) => {
  let store: RoomStore;
  let close: () => void;
  beforeAll(async () => {
    ({ store, close } = await make());
  });
  afterAll(() => close());

  it('creates and reads back the whole room, options included', async () => {
    const r = room('svc-a');
    r.options.participantLimit = 7;
    await store.create(r);
    expect(await store.get('svc-a', r.id)).toEqual(r);
    expect(await store.get('svc-a', 'missing-room')).toBeUndefined();
    expect(await store.get('svc-b', r.id)).toBeUndefined();
  });

  it('refuses a second create with the same id in one service; another service has its own', async () => {
    const r = room('svc-a');
    await store.create(r);
    await expect(store.create({ ...r, name: 'again' })).rejects.toBeInstanceOf(ConflictError);
    const theirs = { ...r, serviceId: 'svc-b', name: 'other' };
    await store.create(theirs);
    expect(await store.get('svc-a', r.id)).toEqual(r);
    expect(await store.get('svc-b', r.id)).toEqual(theirs);
    expect(await store.delete('svc-b', r.id)).toBe(true);
    expect(await store.get('svc-a', r.id)).toEqual(r);
  });

  it('lists only the rooms of one service, in creation order, page by page', async () => {
    const service = uniqueId('svc');
    const mine = [room(service, 1), room(service, 2), room(service, 3)];
    for (const r of [...mine].reverse()) await store.create(r);
    await store.create(room(uniqueId('svc-other')));
    const first = await store.list(service, { limit: 2 });
    expect(first.items.map((r) => r.id)).toEqual([mine[0]!.id, mine[1]!.id]);
    expect(first.cursor).toBeDefined();
    const second = await store.list(service, { limit: 2, cursor: first.cursor! });
    expect(second.items.map((r) => r.id)).toEqual([mine[2]!.id]);
    // A store may or may not know the list ended; if it hands out a cursor, the next page is empty.
    if (second.cursor)
      expect((await store.list(service, { limit: 2, cursor: second.cursor })).items).toEqual([]);
  });

  it('skips to a page in one call, from the start or after a cursor', async () => {
    const service = uniqueId('svc');
    const mine = Array.from({ length: 7 }, (_, n) => room(service, n));
    for (const r of [...mine].reverse()) await store.create(r);
    const ids = (page: { items: Room[] }) => page.items.map((r) => r.id);
    const third = await store.list(service, { limit: 2, skip: 4 });
    expect(ids(third)).toEqual([mine[4]!.id, mine[5]!.id]);
    expect(third.cursor).toBeDefined();
    expect(ids(await store.list(service, { limit: 2, cursor: third.cursor! }))).toEqual([mine[6]!.id]);
    const first = await store.list(service, { limit: 2 });
    expect(ids(await store.list(service, { limit: 2, skip: 2, cursor: first.cursor! }))).toEqual([
      mine[4]!.id,
      mine[5]!.id,
    ]);
    expect(ids(await store.list(service, { limit: 5, skip: 5 }))).toEqual([mine[5]!.id, mine[6]!.id]);
    expect((await store.list(service, { limit: 2, skip: 7 })).items).toEqual([]);
    expect((await store.list(service, { limit: 2, skip: 50 })).items).toEqual([]);
  });

  it("counts one service's rooms through creates and deletes", async () => {
    const service = uniqueId('svc');
    expect(await store.count(service)).toBe(0);
    const mine = [room(service, 1), room(service, 2), room(service, 3)];
    await Promise.all(mine.map((r) => store.create(r)));
    await store.create(room(uniqueId('svc-other')));
    await expect(store.create({ ...mine[0]!, name: 'again' })).rejects.toBeInstanceOf(ConflictError);
    expect(await store.count(service)).toBe(3);
    await store.update({ ...mine[0]!, name: 'renamed', version: 2 });
    expect(await store.delete(service, mine[1]!.id)).toBe(true);
    expect(await store.delete(service, mine[1]!.id)).toBe(false);
    expect(await store.count(service)).toBe(2);
  });

  it('updates only from the current version', async () => {
    const r = room('svc-a');
    await store.create(r);
    const v2 = { ...r, name: 'renamed', version: 2 };
    await store.update(v2);
    expect(await store.get('svc-a', r.id)).toEqual(v2);
    await expect(store.update({ ...r, name: 'stale writer', version: 2 })).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(store.update({ ...r, id: 'never-created', version: 2 })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect((await store.get('svc-a', r.id))?.name).toBe('renamed');
  });

  it('deletes once', async () => {
    const r = room('svc-a');
    await store.create(r);
    expect(await store.delete('svc-a', r.id)).toBe(true);
    expect(await store.delete('svc-a', r.id)).toBe(false);
    expect(await store.get('svc-a', r.id)).toBeUndefined();
  });

  it('rejects a cursor it did not issue', async () => {
    await expect(store.list('svc-a', { limit: 2, cursor: 'bm90LWEtY3Vyc29y' })).rejects.toThrow(/cursor/);
  });
});

describe("CachedRoomStore: one process serves reads from memory, and sees every other process's write", () => {
  it('a write through another process (another cache, same table and Redis) shows on the next read', async () => {
    const t = await dynamoTable();
    const redis = redisClient();
    try {
      const durable = new DynamoRoomStore(t.db, t.table);
      let durableReads = 0;
      const counted = Object.assign(Object.create(durable), {
        get: (serviceId: string, id: string) => {
          durableReads++;
          return durable.get(serviceId, id);
        },
      }) as DynamoRoomStore;
      const versions = new RedisRoomVersions(redis);
      const mine = new CachedRoomStore(counted, versions);
      const theirs = new CachedRoomStore(durable, versions);
      const r = room('svc-cache');
      await theirs.create(r);
      expect(await mine.get('svc-cache', r.id)).toEqual(r);
      expect(await mine.get('svc-cache', r.id)).toEqual(r);
      expect(durableReads, 'the second read came from memory').toBe(1);
      // A copy handed out is the caller's: changing it changes nothing cached.
      (await mine.get('svc-cache', r.id))!.name = 'scribbled';
      expect((await mine.get('svc-cache', r.id))?.name).toBe(r.name);

      const v2 = { ...r, name: 'renamed elsewhere', version: 2 };
      await theirs.update(v2);
      expect(await mine.get('svc-cache', r.id)).toEqual(v2);
      expect(await theirs.delete('svc-cache', r.id)).toBe(true);
      expect(await mine.get('svc-cache', r.id)).toBeUndefined();
      // Gone and made again under the same id: the new room, not the cached old one.
      const again = { ...r, name: 'second life', createdAt: new Date().toISOString() };
      await theirs.create(again);
      expect(await mine.get('svc-cache', r.id)).toEqual(again);
    } finally {
      t.close();
      redis.disconnect();
    }
  });

  it('keeps a copy no longer than its maximum age, whatever the token says', async () => {
    let now = 0;
    let reads = 0;
    const inner = new MemoryRoomStore();
    const counting = Object.assign(Object.create(inner), {
      get: (serviceId: string, id: string) => {
        reads++;
        return inner.get(serviceId, id);
      },
    }) as MemoryRoomStore;
    const fixed = { current: async () => 'same', changed: async () => {} };
    const store = new CachedRoomStore(counting, fixed, { maxAgeMs: 1000, now: () => now });
    const r = room('svc-age');
    await inner.create(r);
    await store.get('svc-age', r.id);
    now = 999;
    await store.get('svc-age', r.id);
    expect(reads).toBe(1);
    now = 1000;
    await store.get('svc-age', r.id);
    expect(reads).toBe(2);
  });

  it('with the token store down: reads go to the durable store, uncached; writes are refused and write nothing', async () => {
    const inner = new MemoryRoomStore();
    let up = true;
    const versions = {
      current: async () => {
        if (!up) throw new StorageError('room versions unavailable');
        return 'same';
      },
      changed: async () => {
        if (!up) throw new StorageError('room versions unavailable');
      },
    };
    const store = new CachedRoomStore(inner, versions);
    const r = room('svc-down');
    await store.create(r);
    expect(await store.get('svc-down', r.id)).toEqual(r);
    up = false;
    // Changed behind the cache's back: a read that cannot check the token must not trust its copy.
    const renamed = { ...r, name: 'renamed while Redis was down', version: 2 };
    await inner.update(renamed);
    expect(await store.get('svc-down', r.id)).toEqual(renamed);
    await expect(store.update({ ...renamed, version: 3 })).rejects.toBeInstanceOf(StorageError);
    await expect(store.delete('svc-down', r.id)).rejects.toBeInstanceOf(StorageError);
    expect(await inner.get('svc-down', r.id)).toEqual(renamed);
  });

  it('with the durable store down: a room whose token holds is still served', async () => {
    const inner = new MemoryRoomStore();
    const store = new CachedRoomStore(inner, { current: async () => 'same', changed: async () => {} });
    const cached = room('svc-dyn');
    const uncached = room('svc-dyn', 1);
    await store.create(cached);
    await store.create(uncached);
    await store.get('svc-dyn', cached.id);
    inner.get = async () => {
      throw new StorageError('durable store unavailable');
    };
    expect(await store.get('svc-dyn', cached.id)).toEqual(cached);
    await expect(store.get('svc-dyn', uncached.id)).rejects.toBeInstanceOf(StorageError);
  });
});
