import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserSuite } from '../harness/browserSuite.ts';
import { eventually, openPeer, startEmbedded } from '../harness/embedded.ts';

describe('media features on the embedded server', () => {
  const suite = browserSuite(() => startEmbedded());

  async function pair(room: string, publisher: { codec?: string; simulcast?: boolean } = {}) {
    const [pub, sub] = await Promise.all([
      openPeer(suite.browser, suite.pages),
      openPeer(suite.browser, suite.pages),
    ]);
    const published = await pub.evaluate(([u, t, o]) => window.peer.join(u, t, o), [
      suite.target.url,
      await suite.target.token(room, 'pub'),
      publisher,
    ] as const);
    await sub.evaluate(([u, t]) => window.peer.join(u, t, { publish: false }), [
      suite.target.url,
      await suite.target.token(room, 'sub', 'viewer'),
    ] as const);
    const close = async () => {
      await pub.context().close();
      await sub.context().close();
    };
    return { pub, sub, published, close };
  }

  const videoOf = (page: Page) => async () =>
    (await page.evaluate(() => window.peer.received())).find((s) => s.kind === 'video');

  for (const codec of ['VP8', 'VP9', 'H264', 'AV1']) {
    it(`${codec} published by one browser decodes at another`, async () => {
      const { sub, close } = await pair(`codec-${codec}`, { codec: `video/${codec}` });
      const video = await eventually(videoOf(sub), (v) => (v?.framesDecoded ?? 0) > 5 && (v?.width ?? 0) > 0);
      // (The encoder may start below 640x480 while it adapts; the codec and decoding matter here.)
      expect(video?.codec).toBe(`video/${codec}`);
      expect(video!.framesDecoded).toBeGreaterThan(5);
      expect(video!.width).toBeGreaterThan(0);
      await close();
    });
  }

  it('simulcast: the preferred layer a subscriber picks changes the received resolution', async () => {
    const { sub, published, close } = await pair('simulcast', { simulcast: true });
    const first = await eventually(videoOf(sub), (v) => (v?.framesDecoded ?? 0) > 0);
    expect(first?.framesDecoded).toBeGreaterThan(0);
    // Lowest layer (¼ size), then a higher one: the received frame size follows the choice.
    await sub.evaluate((id) => window.peer.setLayers(id, 0), published.published.video);
    const low = await eventually(videoOf(sub), (v) => v?.width === 160);
    expect([low?.width, low?.height]).toEqual([160, 120]);
    await sub.evaluate((id) => window.peer.setLayers(id, 2), published.published.video);
    const higher = await eventually(videoOf(sub), (v) => (v?.width ?? 0) > 160);
    expect(higher?.width).toBeGreaterThan(160);
    await close();
  });

  it('mute and unmute: the other side sees the stream paused and its frames stop, then resume; a camera switch keeps the stream', async () => {
    const { pub, sub, published, close } = await pair('mute');
    const video = published.published.video;
    await eventually(videoOf(sub), (v) => (v?.framesDecoded ?? 0) > 5);
    const events = () => sub.evaluate(() => window.peer.events());
    /** Frames the subscriber decodes over 600 ms. */
    const advance = async () => {
      const a = (await videoOf(sub)())?.framesDecoded ?? 0;
      await new Promise((r) => setTimeout(r, 600));
      return ((await videoOf(sub)())?.framesDecoded ?? 0) - a;
    };

    await pub.evaluate(() => window.peer.mute('video', true));
    expect(await eventually(events, (e) => e.includes(`updated:${video}:paused`))).toContain(
      `updated:${video}:paused`,
    );
    // Frames in flight drain, then nothing more is decoded.
    expect(await eventually(advance, (n) => n <= 1, 10_000)).toBeLessThanOrEqual(1);
    await pub.evaluate(() => window.peer.mute('audio', true));
    const audio = published.published.audio;
    expect(await eventually(events, (e) => e.includes(`updated:${audio}:paused`))).toContain(
      `updated:${audio}:paused`,
    );

    await pub.evaluate(() => window.peer.mute('video', false));
    expect(await eventually(events, (e) => e.includes(`updated:${video}:live`))).toContain(
      `updated:${video}:live`,
    );
    expect(await eventually(advance, (n) => n >= 5)).toBeGreaterThanOrEqual(5);

    // A new capture in place of the published one: the same stream keeps decoding, no new stream.
    await pub.evaluate(() => window.peer.switchCamera());
    expect(await eventually(advance, (n) => n >= 5)).toBeGreaterThanOrEqual(5);
    const received = await sub.evaluate(() => window.peer.received());
    expect(received.filter((r) => r.kind === 'video').map((r) => r.streamId)).toEqual([video]);
    expect((await events()).filter((e) => e.startsWith('removed:'))).toEqual([]);
    await close();
  });

  it('a data-channel message goes round trip, and text reaches the room', async () => {
    const [a, b] = await Promise.all([
      openPeer(suite.browser, suite.pages),
      openPeer(suite.browser, suite.pages),
    ]);
    const ida = await a.evaluate(([u, t]) => window.peer.join(u, t, { publish: false }), [
      suite.target.url,
      await suite.target.token('data', 'a'),
    ] as const);
    await b.evaluate(([u, t]) => window.peer.join(u, t, { publish: false }), [
      suite.target.url,
      await suite.target.token('data', 'b'),
    ] as const);
    const fromA = await a.evaluate(() => window.peer.openData('a-out'));
    const fromB = await b.evaluate(() => window.peer.openData('b-out'));
    await b.evaluate((id) => window.peer.subscribeData(id, 'echo'), fromA);
    await a.evaluate((id) => window.peer.subscribeData(id), fromB);
    await a.evaluate(() => window.peer.sendData('ping'));
    const texts = await eventually(
      () => a.evaluate(() => window.peer.texts()),
      (t) => t.includes('data:echo:ping'),
    );
    expect(texts).toContain('data:echo:ping');
    expect(await b.evaluate(() => window.peer.texts())).toContain('data:ping');

    await a.evaluate(() => window.peer.sendText('hello room'));
    const heard = await eventually(
      () => b.evaluate(() => window.peer.texts()),
      (t) => t.some((m) => m.endsWith(':hello room')),
    );
    expect(heard).toContain(`${ida.id}:hello room`);
    await a.context().close();
    await b.context().close();
  });
});
