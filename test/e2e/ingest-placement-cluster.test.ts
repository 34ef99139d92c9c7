import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisPlacementStore } from '../../shared/adapters/redis/RedisPlacementStore.ts';
import type { Stream } from '../../shared/protocol/http/liveState.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { type LocalCluster, startLocalCluster } from '../harness/cluster.ts';
import { eventually } from '../harness/embedded.ts';
import { rest } from '../harness/mcuScenario.ts';
import { rtmpEncoder } from '../harness/pipelineProbe.ts';
import { startRtmpServer } from '../harness/rtmpServer.ts';

/**
 * Issue #14's "placement picks a node with the `stream` capability", on the local cluster: of two
 * media nodes, one is a forwarding-only node (NODE_CAPABILITIES=sfu, as its report says). Streaming-ins into rooms
 * nobody has joined all land on the other, which opens each room and pulls the source into it.
 */
describe('ingest placement by capability (local cluster, a forwarding-only node)', () => {
  let cluster: LocalCluster;
  let rtmp: Awaited<ReturnType<typeof startRtmpServer>>;
  let encoder: ReturnType<typeof rtmpEncoder>;
  beforeAll(async () => {
    cluster = await startLocalCluster(['node-media'], { REDIS_DB: '12', STREAMING_ALLOW_PRIVATE_URLS: 'on' });
    await cluster.addNode('node-sfu', { NODE_CAPABILITIES: 'sfu' });
    rtmp = await startRtmpServer();
    encoder = rtmpEncoder(rtmp.url('live/lobby'));
  }, 60_000);
  afterAll(async () => {
    await encoder?.close(500);
    await rtmp?.close();
    await cluster?.close();
  });

  const call = (method: string, path: string, body?: unknown) => rest(cluster, method, path, body);

  it('a streaming-in into an empty room is placed on the node that can stream, which pulls it in', async () => {
    const nodes = await eventually(
      async () => (await call('GET', '/v1/nodes')).body as { id: string; capabilities: string[] }[],
      (n) => Array.isArray(n) && n.length === 2,
    );
    const capabilities = Object.fromEntries(nodes.map((n) => [n.id, n.capabilities]));
    expect(capabilities['node-sfu']).toEqual(['sfu']);
    expect(capabilities['node-media']).toContain('stream');

    const redis = new Redis(cluster.redisUrl);
    try {
      // Three rooms: a choice by load alone would put some on the idle node without ffmpeg.
      for (const room of ['cam-1', 'cam-2', 'cam-3']) {
        expect(
          (await call('POST', '/v1/rooms', { id: room, name: room, options: { views: [] } })).status,
        ).toBe(201);
        const started = await call('POST', `/v1/rooms/${room}/streaming-ins`, {
          connection: { url: rtmp.url('live/lobby') },
          media: { audio: 'auto', video: 'auto' },
        });
        expect(started.status, JSON.stringify(started.body)).toBe(201);
        const { id } = started.body as { id: string };
        expect(await new RedisPlacementStore(redis).get(roomKey('super', room))).toBe('node-media');
        // The node opened the room nobody is in and pulled the source: the stream is listed.
        const listed = await eventually(
          async () => (await call('GET', `/v1/rooms/${room}/streams`)).body as Stream[],
          (l) => l.some((s) => s.id === id && !!s.media.video),
          30_000,
        );
        expect(listed.find((s) => s.id === id)).toMatchObject({
          type: 'forward',
          info: { type: 'streaming' },
        });
        expect((await call('DELETE', `/v1/rooms/${room}/streaming-ins/${id}`)).status).toBe(204);
      }
    } finally {
      redis.disconnect();
    }
  }, 120_000);
});
