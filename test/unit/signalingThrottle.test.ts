import { describe, expect, it } from 'vitest';
import { managementApi, signalingFunction } from '../../functions/compose.ts';
import type { MemoryCommandQueue } from '../../shared/adapters/memory/MemoryCommandQueue.ts';
import { memoryAdapters } from '../../shared/adapters/select.ts';
import { loadConfig } from '../../shared/config/load.ts';
import { createLogger } from '../../shared/logger.ts';
import type { ServerMessage, SignalingResponse } from '../../shared/protocol/signaling.ts';
import { testSecrets } from '../harness/controlPlane.ts';

const defaults = loadConfig({});

// API Gateway does not throttle per connection: the signaling function stops a flood itself,
// before each frame becomes a command to the media node.
describe('the signaling function under a flood', () => {
  it('refuses frames past the per-connection rate with 1303, without sending them to the node', async () => {
    const adapters = memoryAdapters();
    const answers: SignalingResponse[] = [];
    const gateway = {
      post: async (_c: string, m: ServerMessage) => {
        if ('id' in m) answers.push(m);
        return true;
      },
      disconnect: async () => {},
    };
    const signaling = signalingFunction(
      adapters,
      managementApi(adapters, testSecrets),
      gateway,
      { placeParticipant: async () => 'node-1' },
      createLogger({ write: () => {} }),
      { ...defaults, limits: { ...defaults.limits, messagesPerSecond: 10 } },
    );
    await adapters.connections.put({
      connectionId: 'c1',
      roomId: 'svc/room',
      nodeId: 'node-1',
      participant: {
        id: 'p1',
        user: 'ana',
        role: 'presenter',
        permission: { publish: false, subscribe: false },
      },
    });
    for (let i = 0; i < 100; i++)
      await signaling.message('c1', JSON.stringify({ id: i, method: 'ping', params: {} }));
    const queue = adapters.commands as MemoryCommandQueue;
    const forwarded = await queue.receive('node-1', { waitMs: 0, max: 1000 });
    const refused = answers.filter((a) => a.error?.code === 1303);
    // 2 × 10 per second pass (this loop runs well inside a second or two of fixed windows).
    expect(forwarded.length).toBeLessThanOrEqual(40);
    expect(forwarded.length + refused.length).toBe(100);
    expect(refused[0]!.error!.message).toMatch(/messagesPerSecond/);
    expect(typeof refused[0]!.id).toBe('number');
  });
});
