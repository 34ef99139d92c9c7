import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomPlacer } from '../../functions/signaling/RoomPlacer.ts';
import { MemoryNodeRegistry } from '../../shared/adapters/memory/MemoryNodeRegistry.ts';
import { MemoryPlacementStore } from '../../shared/adapters/memory/MemoryPlacementStore.ts';
import { RedisNodeRegistry } from '../../shared/adapters/redis/RedisNodeRegistry.ts';
import { RedisPlacementStore } from '../../shared/adapters/redis/RedisPlacementStore.ts';
import type { PlacementStore } from '../../shared/ports/live.ts';
import type { NodeRegistry } from '../../shared/ports/nodes.ts';
import { nodeReport } from '../harness/nodeReport.ts';
import { redisClient, uniqueId } from './adapters.ts';

const adapters: [string, () => { placement: PlacementStore; registry: NodeRegistry; close(): void }][] = [
  [
    'memory',
    () => ({ placement: new MemoryPlacementStore(), registry: new MemoryNodeRegistry(), close: () => {} }),
  ],
  [
    'redis',
    () => {
      const redis: Redis = redisClient();
      return {
        placement: new RedisPlacementStore(redis),
        registry: new RedisNodeRegistry(redis),
        close: () => redis.disconnect(),
      };
    },
  ],
];

const report = (id: string) => nodeReport(id);

describe.each(adapters)('room placement: %s', (_name, make) => {
  let a: ReturnType<(typeof adapters)[number][1]>;
  beforeAll(() => {
    a = make();
  });
  afterAll(() => a.close());

  it('the lock is exclusive, released only by its holder, and expires', async () => {
    const room = uniqueId('room');
    const { token } = await a.placement.lock(room, 300);
    expect(token).toBeDefined();
    expect((await a.placement.lock(room, 300)).token).toBeUndefined();
    await a.placement.unlock(room, 'not-the-token');
    expect((await a.placement.lock(room, 300)).token).toBeUndefined();
    await a.placement.unlock(room, token!);
    const again = await a.placement.lock(room, 100);
    expect(again.token).toBeDefined();
    await new Promise((r) => setTimeout(r, 200));
    expect((await a.placement.lock(room, 100)).token).toBeDefined(); // the expired lock is free again
  });

  it('writes only under the lock, releasing it, each write with a higher fencing token', async () => {
    const room = uniqueId('room');
    expect(await a.placement.assign(room, 'node-x', 'no-lock')).toBeUndefined();
    expect(await a.placement.get(room)).toBeUndefined();
    const l1 = await a.placement.lock(room, 1000);
    expect(l1.nodeId).toBeUndefined();
    const f1 = await a.placement.assign(room, 'node-1', l1.token!);
    expect(await a.placement.assign(room, 'node-stale', l1.token!)).toBeUndefined(); // the write released it
    // Free again at once, and the lock reads the room's node in the same step.
    const l2 = await a.placement.lock(room, 1000);
    expect(l2).toEqual({ token: expect.any(String), nodeId: 'node-1' });
    expect(await a.placement.lock(room, 1000)).toEqual({ token: undefined, nodeId: 'node-1' });
    const f2 = await a.placement.assign(room, 'node-2', l2.token!);
    expect(f2!).toBeGreaterThan(f1!);
    expect(await a.placement.get(room)).toBe('node-2');
  });

  it('100 functions racing to place the same room all agree on one node', async () => {
    const nodes = ['n1', 'n2', 'n3', 'n4'].map((n) => uniqueId(n));
    for (const n of nodes) await a.registry.report(report(n));
    for (let round = 0; round < 5; round++) {
      const room = uniqueId('race');
      // Each racer is a separate function instance: its own placer, strategy state and snapshot.
      const racers = Array.from(
        { length: 100 },
        () => new RoomPlacer({ placement: a.placement, registry: a.registry, strategy: 'random' }),
      );
      const placed = await Promise.all(racers.map((p) => p.place(room)));
      expect(new Set(placed).size).toBe(1);
      expect(nodes).toContain(placed[0]);
      expect(await a.placement.get(room)).toBe(placed[0]);
    }
  });

  it('keeps a room on its node while the node lives, and moves it when the node stops reporting', async () => {
    const [alive, other] = [uniqueId('alive'), uniqueId('other')];
    await a.registry.report(report(alive));
    const room = uniqueId('room');
    await a.placement.set(room, alive);
    const placer = new RoomPlacer({
      placement: a.placement,
      registry: a.registry,
      strategy: 'least-used',
      snapshotMs: 0,
    });
    await a.registry.report({ ...report(alive), draining: true, load: 0.99 });
    expect(await placer.place(room)).toBe(alive); // a draining or busy node keeps its rooms
    await a.registry.report({ ...report(alive), reportedAt: Date.now() - 10_000 });
    await a.registry.report(report(other));
    const moved = await placer.place(room);
    expect(moved).not.toBe(alive);
  });
});
