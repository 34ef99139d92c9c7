import { afterEach, describe, expect, it, vi } from 'vitest';
import { managementApi, signalingFunction } from '../../functions/compose.ts';
import { RoomPlacer } from '../../functions/signaling/RoomPlacer.ts';
import type { MemoryCommandQueue } from '../../shared/adapters/memory/MemoryCommandQueue.ts';
import { MemoryNodeRegistry } from '../../shared/adapters/memory/MemoryNodeRegistry.ts';
import { MemoryPlacementStore } from '../../shared/adapters/memory/MemoryPlacementStore.ts';
import { MemoryRoomNodes } from '../../shared/adapters/memory/MemoryRoomNodes.ts';
import { memoryAdapters } from '../../shared/adapters/select.ts';
import { loadConfig } from '../../shared/config/load.ts';
import { createLogger } from '../../shared/logger.ts';
import type { NodeReport } from '../../shared/ports/nodes.ts';
import type { ServerMessage, SignalingResponse } from '../../shared/protocol/signaling.ts';
import { testSecrets } from '../harness/controlPlane.ts';
import { nodeReport } from '../harness/nodeReport.ts';

const ago = (ms: number): Partial<NodeReport> => ({ reportedAt: Date.now() - ms });

function placerOver(registry = new MemoryNodeRegistry()) {
  const placement = new MemoryPlacementStore();
  const roomNodes = new MemoryRoomNodes();
  const placer = new RoomPlacer({ placement, registry, roomNodes, strategy: 'least-used' });
  return { placer, placement, registry, roomNodes };
}

describe('failover: a client that found its node unresponsive', () => {
  afterEach(() => vi.useRealTimers());

  it('is moved once the node missed a report; without the flag the 3 s rule still holds', async () => {
    const { placer, registry } = placerOver();
    await registry.report(nodeReport('x', ago(1500)));
    expect(await placer.canKeep('x', true)).toBe(false);
    expect(await placer.canKeep('x', false)).toBe(true);
  });

  it('stays on a node that makes its next report on time (a slow client cannot evict a healthy node)', async () => {
    vi.useFakeTimers();
    const { placer, registry } = placerOver();
    await registry.report(nodeReport('x', ago(300)));
    const kept = placer.canKeep('x', true);
    await vi.advanceTimersByTimeAsync(700);
    await registry.report(nodeReport('x')); // the report due a second after the last
    await vi.advanceTimersByTimeAsync(300);
    expect(await kept).toBe(true);
  });

  it('waits for the report due, and moves the client when the node misses it', async () => {
    vi.useFakeTimers();
    const { placer, registry } = placerOver();
    await registry.report(nodeReport('x', ago(300)));
    let kept: boolean | undefined;
    void placer.canKeep('x', true).then((k) => {
      kept = k;
    });
    await vi.advanceTimersByTimeAsync(850);
    expect(kept).toBeUndefined(); // the next report is not overdue yet
    await vi.advanceTimersByTimeAsync(100);
    expect(kept).toBe(false);
  });

  it('a draining node loses the client at once', async () => {
    const { placer, registry } = placerOver();
    await registry.report(nodeReport('x', { ...ago(300), draining: true }));
    expect(await placer.canKeep('x', true)).toBe(false);
  });

  it('is judged on the newest report, not on a snapshot taken before it', async () => {
    vi.useFakeTimers();
    const { placer, registry } = placerOver();
    await registry.report(nodeReport('x', ago(1150)));
    expect(await placer.canKeep('x')).toBe(true); // the placer now holds a snapshot for 1 s
    await vi.advanceTimersByTimeAsync(100);
    await registry.report(nodeReport('x'));
    const kept = placer.canKeep('x', true);
    await vi.advanceTimersByTimeAsync(1000);
    await registry.report(nodeReport('x'));
    await vi.advanceTimersByTimeAsync(300);
    expect(await kept).toBe(true);
  });

  it('20 simultaneous rejoins of one room all land on the same live node, counted once each', async () => {
    const { placer, registry, placement, roomNodes } = placerOver();
    await registry.report(nodeReport('x'));
    await registry.report(nodeReport('y'));
    const room = 'svc/burst';
    await placement.set(room, 'x');
    await roomNodes.add(room, 'x', 20);
    await registry.report(nodeReport('x', ago(1500)));
    const moved = await Promise.all(
      Array.from({ length: 20 }, async () => {
        if (await placer.canKeep('x', true)) return 'x';
        const node = await placer.placeParticipant(room, {}, 'x');
        await placer.release(room, 'x');
        return node;
      }),
    );
    expect(new Set(moved)).toEqual(new Set(['y']));
    expect(await roomNodes.counts(room)).toEqual({ y: 20 });
    expect(await placement.get(room)).toBe('y');
  });

  it('waiters outlast a lock whose holder died mid-decision instead of failing', async () => {
    vi.useFakeTimers();
    const { placer, registry, placement } = placerOver();
    await registry.report(nodeReport('y', { reportedAt: Date.now() + 60_000 }));
    const room = 'svc/locked';
    await placement.lock(room, 5000); // never released: its holder is gone
    let outcome: string | Error | undefined;
    void placer.place(room).then(
      (n) => {
        outcome = n;
      },
      (e: Error) => {
        outcome = e;
      },
    );
    await vi.advanceTimersByTimeAsync(4000);
    expect(outcome).toBeUndefined(); // still waiting (it gave up after ~2 s before)
    await vi.advanceTimersByTimeAsync(1500);
    expect(outcome).toBe('y');
  });
});

describe('failover through the signaling function', () => {
  it('a `failover` login goes to a live node as soon as its node missed a report; a plain one waits', async () => {
    const adapters = memoryAdapters();
    const sent: SignalingResponse[] = [];
    const gateway = {
      post: async (_c: string, m: ServerMessage) => {
        if ('id' in m) sent.push(m);
        return true;
      },
      disconnect: async () => {},
    };
    const placer = new RoomPlacer({
      placement: adapters.placement,
      registry: adapters.nodes,
      roomNodes: adapters.roomNodes,
      strategy: 'least-used',
    });
    const signaling = signalingFunction(
      adapters,
      managementApi(adapters, testSecrets),
      gateway,
      placer,
      createLogger({ write: () => {} }),
      loadConfig({}),
    );
    const roomId = 'super/room';
    await adapters.nodes.report(nodeReport('x', ago(1500)));
    await adapters.nodes.report(nodeReport('y'));
    await adapters.placement.set(roomId, 'x');
    for (const id of ['p1', 'p2']) {
      const participant = {
        id,
        user: id,
        role: 'presenter',
        permission: { publish: false as const, subscribe: false as const },
      };
      await adapters.participants.admit(
        { ...participant, roomId, joinedAt: new Date().toISOString(), version: 1 },
        10,
      );
      await adapters.connections.put({ connectionId: `c-${id}`, roomId, nodeId: 'x', participant });
    }
    await signaling.message('c-p1', JSON.stringify({ id: 1, method: 'login', params: {} }));
    await signaling.message('c-p2', JSON.stringify({ id: 1, method: 'login', params: { failover: true } }));
    const queue = adapters.commands as MemoryCommandQueue;
    expect((await queue.receive('x', { waitMs: 0, max: 10 })).length).toBe(1);
    expect((await queue.receive('y', { waitMs: 0, max: 10 })).length).toBe(1);
    expect((await adapters.connections.get('c-p1'))?.nodeId).toBe('x');
    expect((await adapters.connections.get('c-p2'))?.nodeId).toBe('y');
    expect(sent).toEqual([]); // nothing refused
  });
});
