import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCommandLedger } from '../../shared/adapters/memory/MemoryCommandLedger.ts';
import { MemoryConnectionStore } from '../../shared/adapters/memory/MemoryConnectionStore.ts';
import { MemoryNodeRegistry } from '../../shared/adapters/memory/MemoryNodeRegistry.ts';
import { RedisCommandLedger } from '../../shared/adapters/redis/RedisCommandLedger.ts';
import { RedisConnectionStore } from '../../shared/adapters/redis/RedisConnectionStore.ts';
import { RedisNodeRegistry } from '../../shared/adapters/redis/RedisNodeRegistry.ts';
import type { ConnectionStore } from '../../shared/ports/gateway.ts';
import type { CommandLedger } from '../../shared/ports/live.ts';
import type { NodeRegistry, NodeReport } from '../../shared/ports/nodes.ts';
import { redisClient, uniqueId } from './adapters.ts';

interface ClusterAdapters {
  connections: ConnectionStore;
  ledger: CommandLedger;
  nodes: NodeRegistry;
  close(): void;
}

const adapters: [string, () => ClusterAdapters][] = [
  [
    'memory',
    () => ({
      connections: new MemoryConnectionStore(),
      ledger: new MemoryCommandLedger(),
      nodes: new MemoryNodeRegistry(),
      close: () => {},
    }),
  ],
  [
    'redis',
    () => {
      const redis: Redis = redisClient();
      return {
        connections: new RedisConnectionStore(redis),
        ledger: new RedisCommandLedger(redis),
        nodes: new RedisNodeRegistry(redis),
        close: () => redis.disconnect(),
      };
    },
  ],
];

const report = (id: string, reportedAt = Date.now()): NodeReport => ({
  id,
  rooms: 2,
  workers: 2,
  workersAlive: 2,
  load: 0.25,
  draining: false,
  reportedAt,
  region: 'eu',
  capabilities: ['sfu'],
});

describe.each(adapters)('cluster state contract: %s', (_name, make) => {
  let a: ClusterAdapters;
  beforeAll(() => {
    a = make();
  });
  afterAll(() => a.close());

  it('stores, reads and deletes connection records', async () => {
    const record = {
      connectionId: uniqueId('conn'),
      roomId: 'room',
      nodeId: 'node-1',
      participant: {
        id: 'p',
        user: 'ana',
        role: 'presenter',
        permission: { publish: false as const, subscribe: { audio: true, video: true } },
      },
    };
    await a.connections.put(record);
    expect(await a.connections.get(record.connectionId)).toEqual(record);
    await a.connections.delete(record.connectionId);
    expect(await a.connections.get(record.connectionId)).toBeUndefined();
  });

  it('sees each command id once, even under concurrent deliveries', async () => {
    const id = uniqueId('cmd');
    const results = await Promise.all(Array.from({ length: 10 }, () => a.ledger.firstTime(id, 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await a.ledger.firstTime(id, 60_000)).toBe(false);
    expect(await a.ledger.firstTime(uniqueId('cmd'), 60_000)).toBe(true);
  });

  it('forgets a command id after its time, so per-message keys do not pile up', async () => {
    const id = uniqueId('cmd');
    expect(await a.ledger.firstTime(id, 100)).toBe(true);
    expect(await a.ledger.firstTime(id, 100)).toBe(false);
    await new Promise((r) => setTimeout(r, 250));
    expect(await a.ledger.firstTime(id, 100)).toBe(true);
  });

  it('lists only nodes whose last report is fresh', async () => {
    const [fresh, stale] = [uniqueId('node'), uniqueId('node')];
    await a.nodes.report(report(stale, Date.now() - 5000));
    await a.nodes.report(report(fresh));
    const ids = (await a.nodes.fresh(3000)).map((n) => n.id);
    expect(ids).toContain(fresh);
    expect(ids).not.toContain(stale);
    expect((await a.nodes.fresh(3000)).find((n) => n.id === fresh)).toEqual(
      report(fresh, expect.any(Number) as unknown as number),
    );
  });

  it('keeps the router capabilities document', async () => {
    await a.nodes.setRtpCapabilities({ codecs: [{ mimeType: 'video/VP8' }] });
    expect(await a.nodes.rtpCapabilities()).toEqual({ codecs: [{ mimeType: 'video/VP8' }] });
  });
});
