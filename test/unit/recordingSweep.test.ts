import { beforeEach, describe, expect, it } from 'vitest';
import { RecordingProjection } from '../../functions/recordings/RecordingProjection.ts';
import { memoryAdapters } from '../../shared/adapters/select.ts';
import { newEvent, type TesseraEvent } from '../../shared/protocol/events.ts';
import type { Recording } from '../../shared/protocol/http/recording.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { bearer, testApp, testSecrets } from '../harness/controlPlane.ts';
import { nodeReport } from '../harness/nodeReport.ts';

const SERVICE = testSecrets.superService;
const KEY = roomKey(SERVICE.id, 'studio');

/** How long a node may be gone here (60 s in the cluster). */
const LOST_MS = 300;

/**
 * Recordings whose media node never comes back, over the management API and memory adapters:
 * once the node has been gone from the registry for LOST_MS (counted from the first read that
 * found it gone) the record is failed when read, with one `recording.failed` event; a node that
 * reports again keeps its recordings; a node that comes back later still has the last word (its
 * recovery's report replaces the sweep's). The embedded mode, whose node reports nowhere, has no sweep.
 */
describe('recordings of a lost media node', () => {
  let adapters: ReturnType<typeof memoryAdapters>;
  let app: ReturnType<typeof testApp>['app'];
  let events: TesseraEvent[];

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: {
        authorization: await bearer(SERVICE.id, SERVICE.key),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const answer = res.status === 204 ? {} : await res.json();
    return { status: res.status, body: answer as Recording & Recording[] };
  };

  beforeEach(async () => {
    adapters = memoryAdapters();
    ({ app } = testApp(adapters, undefined, undefined, {
      lostNodes: { registry: adapters.nodes, afterMs: LOST_MS },
    }));
    events = [];
    adapters.events.subscribe?.((e) => events.push(e));
    await adapters.nodes.report(nodeReport('node-1', { capabilities: ['sfu', 'record'] }));
    expect((await call('POST', '/v1/rooms', { id: 'studio', name: 'studio' })).status).toBe(201);
    await adapters.placement.set(KEY, 'node-1');
    await adapters.streams.put({
      id: 'cam',
      roomId: KEY,
      type: 'forward',
      media: { video: { status: 'active', format: { codec: 'vp8' } } },
      info: { owner: 'p', type: 'webrtc', inViews: [] },
      nodeId: 'node-1',
      version: 1,
    });
  });

  const start = async () => {
    const started = await call('POST', '/v1/rooms/studio/recordings', {
      container: 'mkv',
      media: { video: { from: 'cam' }, audio: false },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    return started.body.id;
  };
  const silentFor = (ms: number) =>
    adapters.nodes.report(
      nodeReport('node-1', { capabilities: ['sfu', 'record'], reportedAt: Date.now() - ms }),
    );
  const status = async (id: string) => (await call('GET', `/v1/rooms/studio/recordings/${id}`)).body.status;
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('a node gone for LOST_MS: the recording reads as failed, naming the node, and recording.failed is published once', async () => {
    const id = await start();
    await silentFor(LOST_MS + 1000);
    // First seen gone now: not failed yet, however old its last report (Redis forgets reports).
    expect(await status(id)).toBe('starting');
    await wait(LOST_MS + 50);
    const one = await call('GET', `/v1/rooms/studio/recordings/${id}`);
    expect(one.body).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/media node node-1 stopped reporting/),
    });
    expect(one.body).not.toHaveProperty('lost');
    expect(one.body).not.toHaveProperty('nodeMissingSince');
    expect(one.body.endedAt).toBeDefined();
    const list = await call('GET', '/v1/rooms/studio/recordings');
    expect(list.body.map((r) => r.status)).toEqual(['failed']);
    const failed = events.filter((e) => e.type === 'recording.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ serviceId: SERVICE.id, roomId: 'studio', nodeId: 'node-1' });
    // It no longer counts against the room's running recordings, and a stop is a no-op.
    expect((await call('DELETE', `/v1/rooms/studio/recordings/${id}`)).status).toBe(204);
  });

  it('a node that reports again within LOST_MS keeps its recording (the missing mark is cleared)', async () => {
    const id = await start();
    await silentFor(LOST_MS + 1000);
    expect(await status(id)).toBe('starting');
    await wait(LOST_MS + 50);
    await silentFor(0);
    expect(await status(id)).toBe('starting');
    expect((await adapters.recordings.get(KEY, id))?.nodeMissingSince).toBeUndefined();
    // Gone again later: counted afresh.
    await silentFor(LOST_MS + 1000);
    expect(await status(id)).toBe('starting');
    expect(events.filter((e) => e.type === 'recording.failed')).toEqual([]);
  });

  it("the node's own report when it comes back replaces the sweep's; the sweep's own event does not undo it", async () => {
    const id = await start();
    await silentFor(LOST_MS + 1000);
    await call('GET', `/v1/rooms/studio/recordings/${id}`);
    await wait(LOST_MS + 50);
    expect(await status(id)).toBe('failed');
    const projection = new RecordingProjection(adapters.recordings);
    // The sweep's event comes back through the queue: no change.
    const sweep = events.find((e) => e.type === 'recording.failed')!;
    const before = await adapters.recordings.get(KEY, id);
    await projection.apply(sweep);
    expect(await adapters.recordings.get(KEY, id)).toEqual(before);
    // The node restarts and recovers the parts (RecordingRecovery's report).
    const files = [{ key: `${id}.mkv`, bytes: 4096, location: `s3://bucket/${id}.mkv` }];
    await new Promise((r) => setTimeout(r, 5));
    await projection.apply(
      newEvent('recording.failed', {
        serviceId: SERVICE.id,
        roomId: 'studio',
        nodeId: 'node-1',
        data: {
          recording: { id, container: 'mkv', bytes: 4096, durationMs: 4000, files, reason: 'recovered' },
        },
      }),
    );
    const after = await call('GET', `/v1/rooms/studio/recordings/${id}`);
    expect(after.body).toMatchObject({
      status: 'failed',
      bytes: 4096,
      durationMs: 4000,
      files,
      reason: 'recovered',
    });
    expect((await adapters.recordings.get(KEY, id))?.lost).toBeUndefined();
  });

  it('without a registry to watch (the embedded node reports nowhere) nothing is swept', async () => {
    ({ app } = testApp(adapters));
    const id = await start();
    await silentFor(LOST_MS + 1000);
    await call('GET', `/v1/rooms/studio/recordings/${id}`);
    await wait(LOST_MS + 50);
    expect(await status(id)).toBe('starting');
  });
});
