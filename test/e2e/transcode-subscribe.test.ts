import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Transcoder } from '../../media-node/mcu/Transcoder.ts';
import { RoomOptionsSchema } from '../../shared/protocol/http/room.ts';
import type { VideoTranscodeRequest } from '../../shared/protocol/signaling.ts';
import { browserSuite, type Received } from '../harness/browserSuite.ts';
import { bearer } from '../harness/controlPlane.ts';
import { eventually, openPeer, startEmbedded } from '../harness/embedded.ts';

const ROOM = 'transcode-sub';

const join = (page: Page, url: string, token: string, options: object) =>
  page.evaluate(([u, t, o]) => window.peer.join(u, t, o), [url, token, options] as const) as Promise<{
    id: string;
    published: { audio: string; video: string };
  }>;

const subscribe = (page: Page, streamId: string, video?: VideoTranscodeRequest) =>
  page.evaluate(([id, v]) => window.peer.subscribe(id, v), [streamId, video] as const);

const videoOf = (streams: Received, streamId: string) =>
  streams.find((s) => s.streamId === streamId && s.kind === 'video');

/** The received video of `streamId` once it has decoded more than `after` frames at `width`×`height`. */
async function decodesAt(page: Page, streamId: string, width: number, height: number, after = 0) {
  const streams = await eventually(
    () => page.evaluate(() => window.peer.received()),
    (s) => {
      const v = videoOf(s, streamId);
      return !!v && v.width === width && v.height === height && v.framesDecoded > after + 5;
    },
    30_000,
  );
  return videoOf(streams, streamId)!;
}

/** Frames decoded per second of `streamId`'s video over `ms`. */
async function decodedPerSecond(page: Page, streamId: string, ms: number): Promise<number> {
  const frames = async () =>
    videoOf(await page.evaluate(() => window.peer.received()), streamId)?.framesDecoded ?? 0;
  const [before, start] = [await frames(), Date.now()];
  await new Promise((r) => setTimeout(r, ms));
  return ((await frames()) - before) / ((Date.now() - start) / 1000);
}

describe('transcoding on subscribe (embedded server, three Chromium participants)', () => {
  const suite = browserSuite(() => startEmbedded());

  it('two subscribers asking H.264 320×240 at 15 fps and half the bit rate of a VP8 640×480 camera decode exactly that from one shared transcoder; an update resizes one live; the transcoder goes with its last subscriber', async () => {
    const { system, url } = suite.target;
    // The room lists x0.5 among the bit rates a subscriber may ask for (OWT's default list has not).
    const defaults = RoomOptionsSchema.parse({});
    const mediaOut = {
      ...defaults.mediaOut,
      video: {
        ...defaults.mediaOut.video,
        parameters: { ...defaults.mediaOut.video.parameters, bitrate: ['x0.8', 'x0.5'] },
      },
    };
    const created = await fetch(`${url}/v1/rooms`, {
      method: 'POST',
      headers: {
        authorization: await bearer(system.superService.id, system.superService.key),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ id: ROOM, name: ROOM, options: { views: [], mediaOut } }),
    });
    expect(created.status).toBe(201);

    const [a, b, c] = await Promise.all([
      openPeer(suite.browser, suite.pages),
      openPeer(suite.browser, suite.pages),
      openPeer(suite.browser, suite.pages),
    ]);
    const ana = await join(a, url, await suite.target.token(ROOM, 'ana'), { codec: 'video/VP8' });
    const viewer = { publish: false, autoSubscribe: false };
    await join(b, url, await suite.target.token(ROOM, 'ben'), viewer);
    await join(c, url, await suite.target.token(ROOM, 'cal'), viewer);
    const source = ana.published.video;
    const asked: VideoTranscodeRequest = {
      format: { codec: 'h264' },
      parameters: { resolution: { width: 320, height: 240 }, framerate: 15, bitrate: 'x0.5' },
    };

    // What the room does not allow is refused before any encoder starts, with a stable code.
    expect(await subscribe(b, source, { parameters: { bitrate: 'x0.3' } })).toMatch(/^1301: Bitrate x0.3/);
    expect(await subscribe(b, source, { format: { codec: 'h265' } })).toMatch(/^1202: /);
    expect(await subscribe(b, ana.published.audio, asked)).toMatch(/^1301: only video/);
    expect(suite.target.system.mediaNode.pipelines.list()).toEqual([]);

    const asking = Date.now();
    expect(await subscribe(b, source, asked)).toBe('');
    expect(await subscribe(c, source, asked)).toBe('');
    const [ben, cal] = await Promise.all([decodesAt(b, source, 320, 240), decodesAt(c, source, 320, 240)]);
    console.log(`[transcode] subscribe → 5 frames decoded at 320×240 by both: ${Date.now() - asking} ms`);
    for (const got of [ben, cal]) expect(got.codec).toBe('video/H264');
    // The camera sends 30 fps; what arrives is the 15 asked for, counted over 3 s of decoding.
    const rate = await decodedPerSecond(b, source, 3000);
    console.log(`[transcode] ben decodes ${rate.toFixed(1)} frames/s of the 15 fps transcode`);
    expect(rate).toBeGreaterThan(5);
    expect(rate).toBeLessThanOrEqual(17);
    const { mediaNode } = suite.target.system;
    const transcoders = () =>
      mediaNode.pipelines.list().filter((p) => p.kind === 'transcode') as Transcoder[];
    expect(transcoders()).toHaveLength(1);
    expect(mediaNode.transcoders?.transcoders).toBe(1);
    // Half of OWT's default for 320×240 at 15 fps in H.264 (200 kbit/s × motion factor 0.8).
    expect(transcoders()[0]!.params).toMatchObject({ codec: 'h264', width: 320, height: 240, framerate: 15 });
    expect(transcoders()[0]!.params.bitrateKbps).toBe(80);

    // Ben's update: the same track now shows 160×120, its frames still advancing; Cal's is unchanged.
    const updating = Date.now();
    await b.evaluate(
      ([id]) => window.peer.updateSubscription(id!, { resolution: { width: 160, height: 120 } }),
      [source] as const,
    );
    const resized = await decodesAt(b, source, 160, 120, ben.framesDecoded);
    console.log(`[transcode] update → frames decoded at 160×120: ${Date.now() - updating} ms`);
    expect(resized.codec).toBe('video/H264');
    const benLater = await decodesAt(b, source, 160, 120, resized.framesDecoded);
    expect(benLater.framesDecoded).toBeGreaterThan(resized.framesDecoded + 5);
    const calLater = await decodesAt(c, source, 320, 240, cal.framesDecoded + 10);
    expect(calLater.framesDecoded).toBeGreaterThan(cal.framesDecoded + 10);
    await eventually(
      async () => transcoders().length,
      (n) => n === 2,
    );

    // Cal leaves: the 320×240 transcoder has no subscriber left and stops; Ben's runs on.
    await c.evaluate(() => window.peer.leave());
    const left = await eventually(
      async () => transcoders(),
      (t) => t.length === 1,
    );
    expect(left[0]!.params).toMatchObject({ width: 160, height: 120 });
    const benAfter = await decodesAt(b, source, 160, 120, benLater.framesDecoded + 5);
    expect(benAfter.framesDecoded).toBeGreaterThan(benLater.framesDecoded + 5);
    await b.evaluate(() => window.peer.leave());
    await eventually(
      async () => transcoders().length,
      (n) => n === 0,
    );
    expect(mediaNode.transcoders?.transcoders).toBe(0);
  }, 120_000);

  it('two subscribers asking for PCMU hear the opus microphone through one shared audio transcoder; formats the room does not list or WebRTC does not carry are refused', async () => {
    const { url, system } = suite.target;
    const room = 'transcode-audio';
    const created = await fetch(`${url}/v1/rooms`, {
      method: 'POST',
      headers: {
        authorization: await bearer(system.superService.id, system.superService.key),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ id: room, name: room, options: { views: [] } }),
    });
    expect(created.status).toBe(201);
    const [a, b, c] = await Promise.all([
      openPeer(suite.browser, suite.pages),
      openPeer(suite.browser, suite.pages),
      openPeer(suite.browser, suite.pages),
    ]);
    const ana = await join(a, url, await suite.target.token(room, 'ana'), {});
    const viewer = { publish: false, autoSubscribe: false };
    await join(b, url, await suite.target.token(room, 'ben'), viewer);
    await join(c, url, await suite.target.token(room, 'cal'), viewer);
    const mic = ana.published.audio;
    const subscribeAudio = (page: Page, codec: string) =>
      page.evaluate(([id, f]) => window.peer.subscribeAudio(id, { format: { codec: f as 'pcmu' } }), [
        mic,
        codec,
      ] as const);

    // OWT's default mediaOut.audio lists opus, PCMA, PCMU and AAC: G.722 is not acceptable here,
    // and AAC is listed but not something WebRTC carries.
    expect(await subscribeAudio(b, 'g722')).toMatch(/^1301: Format g722 is not acceptable/);
    expect(await subscribeAudio(b, 'aac')).toMatch(/^1202: /);
    const { mediaNode } = system;
    const audioTranscoders = () => mediaNode.pipelines.list().filter((p) => p.kind === 'transcode-audio');
    expect(audioTranscoders()).toEqual([]);

    const asking = Date.now();
    expect(await subscribeAudio(b, 'pcmu')).toBe('');
    expect(await subscribeAudio(c, 'pcmu')).toBe('');
    const hears = (page: Page) =>
      eventually(
        () => page.evaluate(() => window.peer.received()),
        (r) => r.some((s) => s.streamId === mic && s.audioEnergy > 0),
        30_000,
      );
    const [ben, cal] = await Promise.all([hears(b), hears(c)]);
    console.log(`[transcode] PCMU heard by both ${Date.now() - asking} ms after asking`);
    for (const got of [ben, cal]) expect(got.find((s) => s.streamId === mic)!.codec).toBe('audio/PCMU');
    expect(audioTranscoders()).toHaveLength(1);

    await b.evaluate(() => window.peer.leave());
    await c.evaluate(() => window.peer.leave());
    await eventually(
      async () => audioTranscoders().length,
      (n) => n === 0,
    );
  }, 90_000);
});
