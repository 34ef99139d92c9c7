import { describe, expect, it } from 'vitest';
import { ServiceRegistry } from '../../functions/services/ServiceRegistry.ts';
import { KeySealer } from '../../functions/services/secrets.ts';
import { MemoryServiceStore } from '../../shared/adapters/memory/MemoryServiceStore.ts';
import type { ServiceRecord } from '../../shared/ports/durable.ts';

/** A service store that counts the reads the key lookup makes. */
class CountingStore extends MemoryServiceStore {
  gets = 0;
  override async get(id: string): Promise<ServiceRecord | undefined> {
    this.gets++;
    return super.get(id);
  }
}

const SUPER_CALLER = { serviceId: 'super', isSuper: true };

function registry() {
  let now = Date.UTC(2026, 0, 1);
  const store = new CountingStore();
  const services = new ServiceRegistry(
    store,
    new KeySealer('Ma5ter-test-key-9c3e7a15f08d42b6e1a7'),
    { id: 'super', key: 'Sup3r-service-test-key-7f2c9d41b8e6a035' },
    { now: () => now },
  );
  return { store, services, advance: (ms: number) => (now += ms) };
}

describe('ServiceRegistry key cache', () => {
  it('reads a key from the store once per 30 s, however many requests use it', async () => {
    const { store, services, advance } = registry();
    const { id, key } = await services.create(SUPER_CALLER, 'acme');
    for (let i = 0; i < 100; i++) expect(await services.keyOf(id)).toBe(key);
    expect(store.gets).toBe(1);
    advance(29_999);
    await services.keyOf(id);
    expect(store.gets).toBe(1);
    advance(1);
    expect(await services.keyOf(id)).toBe(key);
    expect(store.gets).toBe(2);
  });

  it('caches unknown ids too, so random ids cannot hammer the store', async () => {
    const { store, services } = registry();
    for (let i = 0; i < 50; i++) expect(await services.keyOf('no-such-service')).toBeUndefined();
    expect(store.gets).toBe(1);
  });

  it('holds at most 1,000 entries, evicting the least recently used', async () => {
    const { store, services } = registry();
    const { id } = await services.create(SUPER_CALLER, 'acme');
    await services.keyOf(id);
    for (let i = 0; i < 999; i++) await services.keyOf(`random-${i}`);
    await services.keyOf(id); // still cached, and now the most recently used
    expect(store.gets).toBe(1000);
    await services.keyOf('random-1000'); // evicts random-0, the least recently used
    await services.keyOf(id);
    expect(store.gets).toBe(1001);
    await services.keyOf('random-0');
    expect(store.gets).toBe(1002);
  });

  it('forgets a deleted service at once in this process', async () => {
    const { services } = registry();
    const { id, key } = await services.create(SUPER_CALLER, 'acme');
    expect(await services.keyOf(id)).toBe(key);
    await services.delete(SUPER_CALLER, id);
    expect(await services.keyOf(id)).toBeUndefined();
  });

  it('never reads the store for the super service', async () => {
    const { store, services } = registry();
    expect(await services.keyOf('super')).toBe('Sup3r-service-test-key-7f2c9d41b8e6a035');
    expect(store.gets).toBe(0);
  });
});
