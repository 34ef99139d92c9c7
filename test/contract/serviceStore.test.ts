import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoServiceStore } from '../../shared/adapters/dynamodb/DynamoServiceStore.ts';
import { MemoryServiceStore } from '../../shared/adapters/memory/MemoryServiceStore.ts';
import { ConflictError } from '../../shared/errors.ts';
import type { ServiceRecord, ServiceStore } from '../../shared/ports/durable.ts';
import { dynamoTable, uniqueId } from './adapters.ts';

const service = (n = 0): ServiceRecord => ({
  id: uniqueId('svc'),
  name: uniqueId('name'),
  sealedKey: 'v1.sealed',
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
});

const adapters: [string, () => Promise<{ store: ServiceStore; close(): void }>][] = [
  ['memory', async () => ({ store: new MemoryServiceStore(), close: () => {} })],
  [
    'dynamodb',
    async () => {
      const t = await dynamoTable();
      return { store: new DynamoServiceStore(t.db, t.table), close: t.close };
    },
  ],
];

describe.each(adapters)('ServiceStore contract: %s', (_name, make) => {
  let store: ServiceStore;
  let close: () => void;
  beforeAll(async () => {
    ({ store, close } = await make());
  });
  afterAll(() => close());

  it('creates and reads back a service', async () => {
    const s = service();
    await store.create(s);
    expect(await store.get(s.id)).toEqual(s);
  });

  it('sets, replaces and removes a webhook on a service; none on a missing service', async () => {
    const s = service();
    await store.create(s);
    const webhook = { url: 'https://hooks.example.com/a', sealedSecret: 'v1.s', updatedAt: s.createdAt };
    expect(await store.setWebhook(s.id, webhook)).toBe(true);
    expect(await store.get(s.id)).toEqual({ ...s, webhook });
    const other = { ...webhook, url: 'https://hooks.example.com/b' };
    expect(await store.setWebhook(s.id, other)).toBe(true);
    expect((await store.get(s.id))?.webhook).toEqual(other);
    expect((await store.list({ limit: 1000 })).items.find((i) => i.id === s.id)?.webhook).toEqual(other);
    expect(await store.setWebhook(s.id, undefined)).toBe(true);
    expect(await store.get(s.id)).toEqual(s);
    expect(await store.setWebhook(uniqueId('missing'), webhook)).toBe(false);
  });

  it('keeps ids and names unique', async () => {
    const s = service();
    await store.create(s);
    await expect(store.create({ ...service(), id: s.id })).rejects.toBeInstanceOf(ConflictError);
    await expect(store.create({ ...service(), name: s.name })).rejects.toBeInstanceOf(ConflictError);
  });

  it('frees the name of a deleted service', async () => {
    const s = service();
    await store.create(s);
    expect(await store.delete(s.id)).toBe(true);
    expect(await store.delete(s.id)).toBe(false);
    await store.create({ ...service(), name: s.name });
  });

  it('lists services page by page', async () => {
    const created = [service(1), service(2), service(3)];
    for (const s of created) await store.create(s);
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await store.list({ limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      for (const s of page.items) seen.add(s.id);
      cursor = page.cursor;
    } while (cursor);
    const all = await store.list({ limit: 100 });
    expect(seen.size).toBe(all.items.length);
    for (const s of created) expect(seen).toContain(s.id);
  });

  it('skips to a page in one call, in creation order', async () => {
    const all = (await store.list({ limit: 100 })).items.map((s) => s.id);
    expect(all.length).toBeGreaterThan(3);
    const page = await store.list({ limit: 2, skip: 2 });
    expect(page.items.map((s) => s.id)).toEqual(all.slice(2, 4));
    expect((await store.list({ limit: 2, skip: all.length })).items).toEqual([]);
  });
});
