import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { RedisRoomNodes } from '../../shared/adapters/redis/RedisRoomNodes.ts';
import type { Stream } from '../../shared/protocol/http/liveState.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { browserSuite, hearsAndSees } from '../harness/browserSuite.ts';
import { startLocalCluster } from '../harness/cluster.ts';
import { bearer } from '../harness/controlPlane.ts';
import { eventually, openPeer, startEmbedded } from '../harness/embedded.ts';

type Joined = { id: string; published: { audio: string; video: string; stream?: string } };

const join = (
  page: Page,
  url: string,
  token: string,
  options: { codec?: string; oneStream?: boolean; publish?: boolean; signalingUrl?: string } = {},
) =>
  page.evaluate(([u, t, o]) => window.peer.join(u, t, o), [url, token, options] as const) as Promise<Joined>;

// Acceptance 3 of issue #12: a camera with its microphone is one OWT stream, with real formats.
describe('OWT streams: a publication is one stream (embedded server, two Chromium participants)', () => {
  const suite = browserSuite(() => startEmbedded());

  const rest = async (method: string, path: string, body?: unknown) => {
    const { id, key } = suite.target.system.superService;
    const res = await fetch(`${suite.target.url}${path}`, {
      method,
      headers: {
        authorization: await bearer(id, key),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
  };
  const streams = async (room: string) => (await rest('GET', `/v1/rooms/${room}/streams`)).body as Stream[];

  it('camera+mic published as one stream: one REST stream with opus and the real video codec; pause and delete act on it', async () => {
    const [a, b] = await Promise.all([
      openPeer(suite.browser, suite.pages),
      openPeer(suite.browser, suite.pages),
    ]);
    const ana = await join(a, suite.target.url, await suite.target.token('owt-1', 'ana'), {
      oneStream: true,
    });
    await join(b, suite.target.url, await suite.target.token('owt-1', 'ben'), { publish: false });
    const publication = ana.published.stream!;
    // The publication is named by its first track (audio goes first).
    expect(publication).toBe(ana.published.audio);

    // The subscriber hears and sees it, and sees one publication with both tracks.
    const received = await eventually(
      () => b.evaluate(() => window.peer.received()),
      (s) => hearsAndSees(s, [ana.id]),
    );
    expect(hearsAndSees(received, [ana.id])).toBe(true);
    expect(await b.evaluate(() => window.peer.publications())).toEqual([
      {
        id: publication,
        owner: ana.id,
        tracks: expect.arrayContaining([
          { kind: 'audio', id: ana.published.audio, paused: false },
          { kind: 'video', id: ana.published.video, paused: false },
        ]),
      },
    ]);
    expect(await b.evaluate(() => window.peer.trackPublicationIds())).toEqual([
      `audio:${publication}`,
      `video:${publication}`,
    ]);

    // REST: exactly one stream, with the formats the browser really sends.
    const listed = await eventually(
      () => streams('owt-1'),
      (l) => l.length === 1 && !!l[0]!.media.audio && !!l[0]!.media.video,
    );
    expect(listed).toHaveLength(1);
    const stream = listed[0]!;
    const decoded = received
      .find((r) => r.kind === 'video')!
      .codec.replace(/^video\//, '')
      .toLowerCase();
    expect(stream).toMatchObject({
      id: publication,
      type: 'forward',
      media: {
        audio: {
          status: 'active',
          source: 'mic',
          format: { codec: 'opus', sampleRate: 48000, channelNum: 2 },
        },
        video: { status: 'active', source: 'camera', format: { codec: decoded } },
      },
      info: { owner: ana.id, type: 'webrtc', origin: { kind: 'participant', participantId: ana.id } },
    });
    expect(['vp8', 'vp9', 'h264', 'av1']).toContain(decoded);

    // Pausing the video through REST marks it inactive (the audio stays active); subscribers see it paused.
    const patched = await rest('PATCH', `/v1/rooms/owt-1/streams/${publication}`, [
      { op: 'replace', path: '/media/video/status', value: 'inactive' },
    ]);
    expect(patched.status).toBe(200);
    expect(patched.body.media.video.status).toBe('inactive');
    const paused = await eventually(
      () => b.evaluate(() => window.peer.publications()),
      (p) => p[0]?.tracks.some((t) => t.kind === 'video' && t.paused) ?? false,
    );
    expect(paused[0]!.tracks).toEqual(
      expect.arrayContaining([
        { kind: 'video', id: ana.published.video, paused: true },
        { kind: 'audio', id: ana.published.audio, paused: false },
      ]),
    );
    const afterPause = (await rest('GET', `/v1/rooms/owt-1/streams/${publication}`)).body as Stream;
    expect(afterPause.media.video!.status).toBe('inactive');
    expect(afterPause.media.audio!.status).toBe('active');

    // Deleting the stream removes both of its tracks for the other browser, and the record.
    expect((await rest('DELETE', `/v1/rooms/owt-1/streams/${publication}`)).status).toBe(204);
    const events = await eventually(
      () => b.evaluate(() => window.peer.events()),
      (e) => e.includes(`removed:${ana.published.audio}`) && e.includes(`removed:${ana.published.video}`),
    );
    expect(events).toEqual(
      expect.arrayContaining([`removed:${ana.published.audio}`, `removed:${ana.published.video}`]),
    );
    expect(await b.evaluate(() => window.peer.publications())).toEqual([]);
    expect(
      await eventually(
        () => streams('owt-1'),
        (l) => l.length === 0,
      ),
    ).toEqual([]);
  }, 120_000);

  it('tracks published one by one stay a stream each; H.264 names its profile as OWT does', async () => {
    const c = await openPeer(suite.browser, suite.pages);
    const cy = await join(c, suite.target.url, await suite.target.token('owt-2', 'cy'), {
      codec: 'video/H264',
    });
    const listed = await eventually(
      () => streams('owt-2'),
      (l) => l.length === 2,
    );
    const byId = new Map(listed.map((s) => [s.id, s]));
    expect(byId.get(cy.published.audio)?.media).toEqual({
      audio: { status: 'active', source: 'mic', format: { codec: 'opus', sampleRate: 48000, channelNum: 2 } },
    });
    // The router offers H.264 as 42e01f (constrained baseline) and 4d001f (main); the SDK picks the first.
    expect(byId.get(cy.published.video)?.media).toEqual({
      video: { status: 'active', source: 'camera', format: { codec: 'h264', profile: 'CB' } },
    });
    // Leaving ends the participant's streams.
    await c.evaluate(() => window.peer.leave());
    expect(
      await eventually(
        () => streams('owt-2'),
        (l) => l.length === 0,
      ),
    ).toEqual([]);
  }, 90_000);
});

describe('OWT streams across two media nodes: a publication stays one stream over the cascade', () => {
  // One participant per node: the second joiner is on the other node, and gets the stream piped.
  const suite = browserSuite(() =>
    startLocalCluster(['node-1', 'node-2'], { ROOM_PEERS_PER_NODE: '1', REDIS_DB: '8' }),
  );

  it('the subscriber on the other node sees one publication with both tracks; REST lists one stream', async () => {
    const [a, b] = await Promise.all([
      openPeer(suite.browser, suite.pages),
      openPeer(suite.browser, suite.pages),
    ]);
    const { signalingUrl } = suite.target;
    const ana = await join(a, suite.target.url, await suite.target.token('owt-span', 'ana'), {
      signalingUrl,
      oneStream: true,
    });
    await join(b, suite.target.url, await suite.target.token('owt-span', 'ben'), {
      signalingUrl,
      publish: false,
    });
    const publication = ana.published.stream!;
    // One participant on each node.
    const redis = new Redis(suite.target.redisUrl);
    const counts = await new RedisRoomNodes(redis).counts(roomKey('super', 'owt-span'));
    redis.disconnect();
    expect(Object.values(counts)).toEqual([1, 1]);
    const received = await eventually(
      () => b.evaluate(() => window.peer.received()),
      (s) => hearsAndSees(s, [ana.id]),
    );
    expect(hearsAndSees(received, [ana.id])).toBe(true);
    expect(await b.evaluate(() => window.peer.trackPublicationIds())).toEqual([
      `audio:${publication}`,
      `video:${publication}`,
    ]);
    expect((await b.evaluate(() => window.peer.publications())).map((p) => [p.id, p.tracks.length])).toEqual([
      [publication, 2],
    ]);

    // The node that hosts ana records it once; the node it is piped to records nothing.
    const listed = await eventually(
      async () =>
        (await (
          await fetch(`${suite.target.url}/v1/rooms/owt-span/streams`, {
            headers: { authorization: await suite.target.superAuth() },
          })
        ).json()) as Stream[],
      (l) => l.length === 1 && !!l[0]!.media.audio && !!l[0]!.media.video,
    );
    expect(listed.map((s) => [s.id, s.info.owner, s.info.origin])).toEqual([
      [publication, ana.id, { kind: 'participant', participantId: ana.id }],
    ]);

    // The microphone alone goes: the publication keeps its id with its video, on both nodes.
    await a.evaluate(() => window.peer.unpublish('audio'));
    const left = await eventually(
      () => b.evaluate(() => window.peer.publications()),
      (p) => p[0]?.tracks.length === 1,
    );
    expect(left).toEqual([
      { id: publication, owner: ana.id, tracks: [{ kind: 'video', id: ana.published.video, paused: false }] },
    ]);
    const rewritten = await eventually(
      async () =>
        (await (
          await fetch(`${suite.target.url}/v1/rooms/owt-span/streams`, {
            headers: { authorization: await suite.target.superAuth() },
          })
        ).json()) as Stream[],
      (l) => l.length === 1 && !l[0]!.media.audio,
    );
    expect(rewritten.map((s) => [s.id, Object.keys(s.media)])).toEqual([[publication, ['video']]]);
  }, 120_000);
});
