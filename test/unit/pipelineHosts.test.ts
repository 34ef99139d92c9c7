import { beforeEach, describe, expect, it } from 'vitest';
import { memoryAdapters } from '../../shared/adapters/select.ts';
import { ErrorCodes } from '../../shared/errors.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { bearer, testApp, testSecrets } from '../harness/controlPlane.ts';
import { nodeReport } from '../harness/nodeReport.ts';

/**
 * Where room-wide pipelines go, through the management API over the memory adapters: a source
 * into a room nobody has joined places the room on a node that can run it; a placed room keeps
 * its node, and one that cannot run the pipeline is a clear 503, not a command lost on the node.
 */
describe('pipeline hosts: capability-based placement for ingest', () => {
  let adapters: ReturnType<typeof memoryAdapters>;
  let app: ReturnType<typeof testApp>['app'];

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: {
        authorization: await bearer(testSecrets.superService.id, testSecrets.superService.key),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown> & { error?: { code: number; message: string } },
    };
  };
  const room = async (id: string) =>
    expect((await call('POST', '/v1/rooms', { id, name: id })).status).toBe(201);

  /** What each node was sent (pipeline kinds, else command types), drained from the memory queues. */
  const sent = async (node: string) =>
    (await adapters.commands.receive(node, { waitMs: 0, max: 10 })).map((m) => {
      const command = JSON.parse(m.body) as { type: string; kind?: string };
      return command.kind ?? command.type;
    });

  const fresh = async (nodes: [string, string[], string?][]) => {
    adapters = memoryAdapters();
    ({ app } = testApp(adapters));
    for (const [id, capabilities, rtmpIngestUrl] of nodes)
      await adapters.nodes.report(
        nodeReport(id, {
          capabilities,
          load: capabilities.length > 1 ? 0.5 : 0,
          ...(rtmpIngestUrl ? { rtmpIngestUrl } : {}),
        }),
      );
  };

  beforeEach(() =>
    // An SFU-only node (no ffmpeg), the least loaded: placement's favourite for anything else.
    fresh([
      ['node-a', ['sfu']],
      ['node-b', ['sfu', 'mix', 'stream', 'record'], 'rtmp://node-b.example:1935/live'],
    ]),
  );

  it('a streaming-in into an empty room places it on a node that can stream, and runs there', async () => {
    await room('cam');
    const started = await call('POST', '/v1/rooms/cam/streaming-ins', {
      connection: { url: 'rtsp://cameras.example.com/lobby' },
      media: { audio: true, video: true },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(await adapters.placement.get(roomKey('super', 'cam'))).toBe('node-b');
    expect(await sent('node-b')).toContain('stream-in');
    expect(await sent('node-a')).toEqual([]);
  });

  it('a streaming-in URL of a scheme the deployment does not allow (STREAMING_IN_SCHEMES) is a 400, and nothing is placed', async () => {
    ({ app } = testApp(adapters, undefined, undefined, {}, { allowPrivateUrls: false, inSchemes: ['rtsp'] }));
    await room('cams-only');
    for (const url of ['rtmp://cameras.example.com/live/1', 'https://cdn.example.com/live.m3u8']) {
      const refused = await call('POST', '/v1/rooms/cams-only/streaming-ins', { connection: { url } });
      expect([refused.status, refused.body.error?.code], url).toEqual([400, ErrorCodes.invalidRequest]);
    }
    expect(await adapters.placement.get(roomKey('super', 'cams-only'))).toBeUndefined();
    const allowed = await call('POST', '/v1/rooms/cams-only/streaming-ins', {
      connection: { url: 'rtsp://cameras.example.com/lobby' },
    });
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(201);
  });

  it("a push ingest into an empty room answers with the capable node's RTMP address", async () => {
    await room('obs');
    const ingress = await call('POST', '/v1/rooms/obs/ingresses', { protocol: 'rtmp' });
    expect(ingress.status, JSON.stringify(ingress.body)).toBe(201);
    expect(ingress.body.url).toBe('rtmp://node-b.example:1935/live');
    expect(await adapters.placement.get(roomKey('super', 'obs'))).toBe('node-b');
    expect(await sent('node-b')).toContain('rtmp-in');
  });

  it('a room already on an SFU-only node keeps it, and a pipeline it cannot run is a clear 503', async () => {
    await room('talk');
    await adapters.placement.set(roomKey('super', 'talk'), 'node-a');
    const refused = await call('POST', '/v1/rooms/talk/streaming-ins', {
      connection: { url: 'rtmp://cameras.example.com/live/1' },
      media: { audio: true, video: true },
    });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({
      code: ErrorCodes.clusterUnavailable,
      message: expect.stringMatching(/node-a cannot stream/),
    });
    expect(await adapters.placement.get(roomKey('super', 'talk'))).toBe('node-a');
    expect(await sent('node-a')).toEqual([]);
  });

  it('with no node that can stream, the refusal names what is missing and places nothing', async () => {
    await fresh([['node-a', ['sfu']]]);
    await room('none');
    const refused = await call('POST', '/v1/rooms/none/ingresses', { protocol: 'rtmp' });
    expect(refused.status).toBe(503);
    expect(refused.body.error?.message).toBe('no media node available that can sfu and stream');
    expect(await adapters.placement.get(roomKey('super', 'none'))).toBeUndefined();
  });
});
