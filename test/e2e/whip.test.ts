// WHIP ingest (issue #14, RFC 9725) on the embedded server: a bare RTCPeerConnection in Chromium
// (no SDK) posts its offer with a join token as bearer and becomes a stream another participant
// sees and hears; the session URL's DELETE takes it out; refusals are clear and spend nothing.
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Stream } from '../../shared/protocol/http/liveState.ts';
import { browserSuite, hearsAndSees } from '../harness/browserSuite.ts';
import { bearer } from '../harness/controlPlane.ts';
import { eventually, openPeer, startEmbedded } from '../harness/embedded.ts';
import { bundleForBrowser, servePages } from '../harness/pageServer.ts';

const join = (page: Page, url: string, token: string) =>
  page.evaluate(([u, t]) => window.peer.join(u, t, { oneStream: true, publish: false }), [
    url,
    token,
  ] as const);

describe('WHIP ingest (embedded server, Chromium)', () => {
  const suite = browserSuite(() => startEmbedded());

  const streams = async (room: string) => {
    const { id, key } = suite.target.system.superService;
    const res = await fetch(`${suite.target.url}/v1/rooms/${room}/streams`, {
      headers: { authorization: await bearer(id, key) },
    });
    return (await res.json()) as Stream[];
  };

  it('a browser publishes over WHIP with a join token: another participant sees and hears it; DELETE ends it', async () => {
    const pages = await servePages({
      '/': ['text/html', '<!doctype html><title>whip</title><script type="module" src="/whip.js"></script>'],
      '/whip.js': [
        'text/javascript',
        await bundleForBrowser(fileURLToPath(new URL('./pages/whip.ts', import.meta.url))),
      ],
    });
    try {
      const endpoint = `${suite.target.url}/whip`;
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

      const stream = (
        await eventually(
          () => streams('whip-1'),
          (l) => l.some((s) => s.media.audio && s.media.video),
          20_000,
        )
      ).find((s) => s.media.audio && s.media.video)!;
      expect(stream.info).toMatchObject({ type: 'webrtc' });
      const owner = (stream.info as { owner: string }).owner;
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
