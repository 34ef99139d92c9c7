import { describe, expect, it } from 'vitest';
import { browserSuite } from '../harness/browserSuite.ts';
import { eventually, openPeer, startEmbedded } from '../harness/embedded.ts';
import {
  joinSynthetic,
  meterTones,
  PARTICIPANTS,
  pageNow,
  percent,
  sampleVideo,
  toneReport,
  videoReport,
} from '../harness/instruments.ts';

// The MCU's acceptance tests (issue #13) read colours, stamps, counters and tones out of the
// mixed stream. Here the same instruments are proven on plain SFU forwarding, where the right
// answer is known: each forwarded track must show its own publisher's colour and tone only.
describe('Instruments: synthetic publishers read back through SFU forwarding (embedded server, Chromium)', () => {
  const suite = browserSuite(() => startEmbedded());

  it('identifies each publisher by colour and tone, decodes its stamps (latency) and counters', async () => {
    const [red, blue] = PARTICIPANTS;
    const [a, b, viewer] = await Promise.all([
      openPeer(suite.browser, suite.pages),
      openPeer(suite.browser, suite.pages),
      openPeer(suite.browser, suite.pages),
    ]);
    const url = suite.target.url;
    const token = (user: string) => suite.target.token('instruments', user);
    const pa = await joinSynthetic(a, url, await token('a'), { colour: red!.colour, toneHz: red!.toneHz });
    const pb = await joinSynthetic(b, url, await token('b'), { colour: blue!.colour, toneHz: blue!.toneHz });
    await joinSynthetic(viewer, url, await token('viewer'), undefined);

    const received = await eventually(
      () =>
        viewer.evaluate(
          (ids) =>
            ids.flatMap((id) => [window.instruments.has(id, 'video'), window.instruments.has(id, 'audio')]),
          [pa.id, pb.id],
        ),
      (r) => r.every(Boolean),
    );
    expect(received).toEqual([true, true, true, true]);
    const tones = [red!.toneHz, blue!.toneHz];
    for (const p of [pa, pb]) {
      await sampleVideo(viewer, p.id);
      await meterTones(viewer, p.id, tones);
    }

    // Measure after the first seconds (the encoders ramp up), over a window of a few seconds.
    const since = (await pageNow(viewer)) + 2000;
    await eventually(
      () => videoReport(viewer, pa.id, since),
      (r) => r.last !== null && r.last - since > 5000,
      20_000,
    );
    const reports = {
      red: await videoReport(viewer, pa.id, since),
      blue: await videoReport(viewer, pb.id, since),
    };
    const heard = {
      red: await toneReport(viewer, pa.id, since),
      blue: await toneReport(viewer, pb.id, since),
    };
    for (const [name, r] of Object.entries(reports)) {
      const region = r.regions[0]!;
      console.log(
        `[instruments] ${name}: ${r.frames} frames (${r.fps.toFixed(1)} fps, rVFC ${r.rvfc}), max gap ${r.maxGapMs} ms, ` +
          `stamps decoded ${percent(region.decodeRate)}, stamp→display latency p50 ${region.latency.p50} ms ` +
          `p95 ${region.latency.p95} ms (n ${region.latency.n}), counter +${region.counterAdvance}, ` +
          `colour ${region.colour} (${region.colourName}, ${percent(region.colourShare)}), ` +
          `tones ${JSON.stringify(heard[name as 'red' | 'blue'])}`,
      );
    }

    for (const [name, r] of Object.entries(reports)) {
      const region = r.regions[0]!;
      // The right publisher's colour, in nearly every frame.
      expect(region.colourName, name).toBe(name);
      expect(region.colourShare, name).toBeGreaterThan(0.9);
      // Frames keep coming and most carry a readable, valid stamp and counter.
      expect(r.frames, name).toBeGreaterThan(25);
      expect(region.decodeRate, name).toBeGreaterThan(0.7);
      expect(region.counterAdvance, name).toBeGreaterThan(25);
      // Loopback forwarding: a stamp shows within a second, never before it was painted.
      expect(region.latency.p50, name).toBeGreaterThanOrEqual(0);
      expect(region.latency.p50, name).toBeLessThan(1000);
      expect(r.maxGapMs, name).not.toBeNull();
    }
    // Each track carries its own publisher's tone, and not the other's.
    expect(heard.red[0]!.presentShare).toBeGreaterThan(0.8);
    expect(heard.red[1]!.presentShare).toBeLessThan(0.1);
    expect(heard.blue[1]!.presentShare).toBeGreaterThan(0.8);
    expect(heard.blue[0]!.presentShare).toBeLessThan(0.1);
  }, 60_000);
});
