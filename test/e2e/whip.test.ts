// WHIP ingest (issue #14, RFC 9725) on the embedded server and the local cluster: a bare RTCPeerConnection in Chromium
// (no SDK) posts its offer with a join token as bearer and becomes a stream another participant
// sees and hears; the session URL's DELETE takes it out; refusals are clear and spend nothing.
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Stream } from '../../shared/protocol/http/liveState.ts';
import { browserSuite, hearsAndSees } from '../harness/browserSuite.ts';
import { startLocalCluster } from '../harness/cluster.ts';
import { bearer } from '../harness/controlPlane.ts';
import { eventually, openPeer, startEmbedded } from '../harness/embedded.ts';
import { createRoom, fluidView, MIXED } from '../harness/mcuScenario.ts';
import { bundleForBrowser, servePages } from '../harness/pageServer.ts';

const join = (page: Page, url: string, token: string, signalingUrl?: string) =>
  page.evaluate(
    ([u, t, s]) =>
      window.peer.join(u, t, { oneStream: true, publish: false, ...(s ? { signalingUrl: s } : {}) }),
    [url, token, signalingUrl] as const,
  );

const whipPage = async () =>
  servePages({
    '/': ['text/html', '<!doctype html><title>whip</title><script type="module" src="/whip.js"></script>'],
    '/whip.js': [
      'text/javascript',
      await bundleForBrowser(fileURLToPath(new URL('./pages/whip.ts', import.meta.url))),
    ],
  });

/** The streams of `room` over REST, with `auth` as the service's Authorization. */
const streamsOf = async (url: string, room: string, auth: string) =>
  (await (
    await fetch(`${url}/v1/rooms/${room}/streams`, { headers: { authorization: auth } })
  ).json()) as Stream[];

/** The one forward stream with audio and video in the room, once it is listed, and its owner. */
const publishedStream = async (list: () => Promise<Stream[]>) => {
  const published = (s: Stream) => s.type === 'forward' && !!s.media.audio && !!s.media.video;
  const stream = (await eventually(list, (l) => l.some(published), 20_000)).find(published)!;
  return { stream, owner: (stream.info as { owner: string }).owner };
};

describe('WHIP ingest and WHEP playback (embedded server, Chromium)', () => {
  const suite = browserSuite(() => startEmbedded());

  const streams = async (room: string) => {
    const { id, key } = suite.target.system.superService;
    return streamsOf(suite.target.url, room, await bearer(id, key));
  };

  it('a browser publishes over WHIP with a join token: a participant and WHEP players (the stream, the mixed view) see and hear it; DELETE ends it', async () => {
    const pages = await whipPage();
    try {
      const endpoint = `${suite.target.url}/whip`;
      // A room with a mixed view: WHEP plays the WHIP stream and the view it is mixed into.
      await createRoom(suite.target, 'whip-1', fluidView);
      const viewer = await openPeer(suite.browser, suite.pages);
      await join(viewer, suite.target.url, await suite.target.token('whip-1', 'viewer'));

      // Refused before anything runs: no token, not SDP, an offer that is not one.
      const post = (headers: Record<string, string>, body: string) =>
        fetch(endpoint, { method: 'POST', headers, body });
      expect((await post({ 'content-type': 'application/sdp' }, 'v=0')).status).toBe(401);
      const token = await suite.target.token('whip-1', 'broadcaster');
      expect(
        (await post({ 'content-type': 'text/plain', authorization: `Bearer ${token}` }, 'v=0')).status,
      ).toBe(415);
      const garbage = await post(
        {
          'content-type': 'application/sdp',
          authorization: `Bearer ${await suite.target.token('whip-1', 'x')}`,
        },
        'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n',
      );
      expect(garbage.status).toBe(400);
      expect(((await garbage.json()) as { error: { code: number } }).error.code).toBe(1301);

      const broadcaster = await (await suite.browser.newContext()).newPage();
      await broadcaster.goto(pages.url);
      await broadcaster.waitForFunction(() => 'whip' in window);
      const published = await broadcaster.evaluate(([e, t]) => window.whip.publish(e, t), [
        endpoint,
        token,
      ] as const);
      expect(published.status, published.body).toBe(201);
      expect(published.location).toMatch(/^\/whip\/[0-9a-f-]{36}$/);
      expect(published.body).toMatch(/^v=0/);
      // The token was spent by this session.
      const again = await post(
        { 'content-type': 'application/sdp', authorization: `Bearer ${token}` },
        published.body,
      );
      expect(again.status).toBe(401);

      const { stream, owner } = await publishedStream(() => streams('whip-1'));
      expect(stream.info).toMatchObject({ type: 'webrtc' });
      const received = await eventually(
        () => viewer.evaluate(() => window.peer.received()),
        (r) => hearsAndSees(r, [owner]),
        30_000,
      );
      console.log(`[whip] the viewer receives ${JSON.stringify(received.filter((r) => r.owner === owner))}`);
      expect(hearsAndSees(received, [owner])).toBe(true);
      expect(
        (await fetch(`${suite.target.url}${published.location}`, { method: 'PATCH', body: 'a=candidate' }))
          .status,
      ).toBe(405);

      // WHEP, from another page: the WHIP stream, then the room's mixed view.
      const player = await (await suite.browser.newContext()).newPage();
      await player.goto(pages.url);
      await player.waitForFunction(() => 'whep' in window);
      // A stream the room does not have is the node's 404, and the token is given back for another try.
      const retried = await suite.target.token('whip-1', 'player-retried');
      const missing = await fetch(`${suite.target.url}/whep/no-such-stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${retried}` },
        body: published.body.replace(/a=sendonly/g, 'a=recvonly'),
      });
      expect(missing.status).toBe(404);
      for (const played of [stream.id, MIXED]) {
        const whepToken =
          played === stream.id ? retried : await suite.target.token('whip-1', `player-${played.slice(0, 8)}`);
        const playing = await player.evaluate(([e, t]) => window.whep.play(e, t), [
          `${suite.target.url}/whep/${played}`,
          whepToken,
        ] as const);
        expect(playing.status, playing.body).toBe(201);
        expect(playing.location).toMatch(/^\/whep\/sessions\/[0-9a-f-]{36}$/);
        const state = await eventually(
          () => player.evaluate(() => window.whep.state()),
          (s) => s.framesDecoded > 10 && s.audioEnergy > 0,
          30_000,
        );
        console.log(
          `[whep] ${played === MIXED ? 'the mixed view' : 'the WHIP stream'} plays: ${JSON.stringify(state)}`,
        );
        expect(state.framesDecoded).toBeGreaterThan(10);
        expect(state.width).toBeGreaterThan(0);
        expect(state.audioEnergy).toBeGreaterThan(0);
        expect(await player.evaluate(() => window.whep.stop())).toBe(200);
      }
      await player.context().close();

      expect(await broadcaster.evaluate(() => window.whip.stop())).toBe(200);
      await eventually(
        () => streams('whip-1'),
        (l) => !l.some((s) => s.id === stream.id),
        15_000,
      );
      expect((await fetch(`${suite.target.url}${published.location}`, { method: 'DELETE' })).status).toBe(
        404,
      );
      await broadcaster.context().close();
    } finally {
      await pages.close();
    }
  }, 90_000);
});

describe('WHIP ingest and WHEP playback on the local cluster (functions process, SQS, Redis replies, a media node)', () => {
  const suite = browserSuite(() => startLocalCluster(['node-1'], { REDIS_DB: '11' }));

  it("a browser's WHIP offer is answered by the room's node through Redis; a participant and a WHEP player see and hear it", async () => {
    const pages = await whipPage();
    try {
      const { url, signalingUrl } = suite.target;
      const viewer = await openPeer(suite.browser, suite.pages);
      await join(viewer, url, await suite.target.token('whip-c', 'viewer'), signalingUrl);
      const broadcaster = await (await suite.browser.newContext()).newPage();
      await broadcaster.goto(pages.url);
      await broadcaster.waitForFunction(() => 'whip' in window);
      const token = await suite.target.token('whip-c', 'broadcaster');
      const published = await broadcaster.evaluate(([e, t]) => window.whip.publish(e, t), [
        `${url}/whip`,
        token,
      ] as const);
      expect(published.status, published.body).toBe(201);
      const list = async () => streamsOf(url, 'whip-c', await suite.target.superAuth());
      const { stream, owner } = await publishedStream(list);
      const received = await eventually(
        () => viewer.evaluate(() => window.peer.received()),
        (r) => hearsAndSees(r, [owner]),
        30_000,
      );
      expect(hearsAndSees(received, [owner])).toBe(true);

      // WHEP through the same path: the functions process asks the node, which answers in Redis.
      const player = await (await suite.browser.newContext()).newPage();
      await player.goto(pages.url);
      await player.waitForFunction(() => 'whep' in window);
      const playing = await player.evaluate(([e, t]) => window.whep.play(e, t), [
        `${url}/whep/${stream.id}`,
        await suite.target.token('whip-c', 'player'),
      ] as const);
      expect(playing.status, playing.body).toBe(201);
      const state = await eventually(
        () => player.evaluate(() => window.whep.state()),
        (s) => s.framesDecoded > 10 && s.audioEnergy > 0,
        30_000,
      );
      console.log(`[whep] on the cluster, the WHIP stream plays: ${JSON.stringify(state)}`);
      expect(state.framesDecoded).toBeGreaterThan(10);
      expect(state.audioEnergy).toBeGreaterThan(0);
      expect(await player.evaluate(() => window.whep.stop())).toBe(200);
      await player.context().close();

      expect(await broadcaster.evaluate(() => window.whip.stop())).toBe(200);
      await eventually(list, (l) => !l.some((s) => s.id === stream.id), 15_000);
      await broadcaster.context().close();
    } finally {
      await pages.close();
    }
  }, 90_000);
});
