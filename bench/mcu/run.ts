// MCU benchmark (issue #13, acceptance 7): Tessera's mixer against the bare-ffmpeg reference of a grid mix.
// N×N synthetic sources (lavfi, each its own hue, VP8 640x480 over RTP like a browser's camera)
// → ONE ffmpeg that decodes them (-fflags nobuffer -flags low_delay -threads 1), composes them
// with xstack and encodes libx264 ultrafast zerolatency 1280x720 at 30 fps → RTP to a UDP sink
// that only counts. Measures the mixer process's CPU (/proc/<pid>/stat) over a window after a
// warm-up, its output frame rate and bit rate, its first-frame time, the load average and host.
// Tessera's run of the same composition (`runTessera`) alternates with it in one sitting.
// Method and the baseline numbers: ../../../shared/research/mcu-baseline.md.
//
// Usage: npm run bench:mcu -- [--grids 2,4] [--rounds 1] [--warm 6] [--measure 12] [--source testsrc2|color]
//   [--out mcu-YYYY-MM-DDb.json (in bench/results/) or an absolute path]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { types } from 'mediasoup';
import { FFMPEG_MALLOC_ENV } from '../../media-node/ffmpeg/FfmpegProcess.ts';
import { brightnessWatcher, percentile, startProbe, switchLatencies } from './latencyProbe.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = new Map<string, string>();
process.argv.slice(2).forEach((a, i, all) => {
  if (a.startsWith('--')) args.set(a.slice(2), all[i + 1] ?? '');
});
const GRIDS = (args.get('grids') ?? '2').split(',').map(Number);
const WARM_S = Number(args.get('warm') ?? 6);
const MEASURE_S = Number(args.get('measure') ?? 12);
/** testsrc2 (moving pattern: a decode and scale load like a camera's) or color (flat; cheapest). */
const SOURCE = args.get('source') ?? 'testsrc2';
const OUT = { width: 1280, height: 720, fps: 30 };
/**
 * The encoder settings both mixers must use (the CPU ratio compares like with like): what Tessera's
 * VideoMixer runs for TESSERA_VIDEO, checked against its encoder's command line at run time.
 */
// biome-ignore format: ffmpeg arguments read best as option/value pairs
export const ENCODER_ARGS = [
  '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-bf', '0',
  '-pix_fmt', 'yuv420p', '-threads', '1', '-b:v', '1500k', '-maxrate', '1500k', '-bufsize', '1500k',
  '-g', '60', '-keyint_min', '60',
];
/** The Tessera view that runs the same encoder (VideoMixer.ffmpegArgs: bitrate in kbit/s, GOP = key frame interval s × fps). */
const TESSERA_VIDEO = {
  format: { codec: 'h264' },
  parameters: {
    resolution: { width: OUT.width, height: OUT.height },
    framerate: OUT.fps,
    bitrate: 1500,
    keyFrameInterval: 2,
  },
  layout: { templates: { base: 'fluid' } },
};
// A short probe: start-up only (ffmpeg opens its inputs one after another), not the steady state.
// biome-ignore format: ffmpeg arguments read best as option/value pairs
const DECODER_ARGS = [
  '-analyzeduration', '1000000', '-protocol_whitelist', 'file,udp,rtp',
  '-fflags', 'nobuffer', '-flags', 'low_delay', '-threads', '1',
];
const TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK']).toString());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cpuSeconds = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_S;
};

/** An even UDP port on 127.0.0.1 whose RTCP neighbour (+1) is free too. */
async function freeRtpPort(): Promise<number> {
  const canBind = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (;;) {
    const port = 20000 + 2 * Math.floor(Math.random() * 10000);
    if ((await canBind(port)) && (await canBind(port + 1))) return port;
  }
}

/** A UDP sink that counts what arrives (the mixed stream goes nowhere else). */
async function udpSink() {
  const socket = createSocket('udp4');
  let packets = 0;
  let bytes = 0;
  socket.on('message', (m) => {
    packets++;
    bytes += m.length;
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return {
    port: socket.address().port,
    counts: () => ({ packets, bytes }),
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

const children: ChildProcess[] = [];
const stopping = new Set<ChildProcess>();
/** Error lines per process: decoders complain until each input's first key frame (normal). */
const errorLines = new Map<ChildProcess, string[]>();
function ffmpeg(argv: string[]): ChildProcess {
  const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // The same glibc malloc settings as Tessera's ffmpeg processes: like with like.
    env: { ...process.env, ...FFMPEG_MALLOC_ENV },
  });
  const lines: string[] = [];
  errorLines.set(child, lines);
  child.stderr!.setEncoding('utf8').on('data', (d: string) => lines.push(...d.split('\n').filter(Boolean)));
  child.once('exit', (code) => {
    if (code && !stopping.has(child))
      console.error(`[bench:mcu] ffmpeg exited ${code}: ${lines.slice(-5).join(' | ')}`);
  });
  children.push(child);
  return child;
}
async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  stopping.add(child);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(3000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
// Only the processes this run started.
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const SOURCE_FILES = 4;
const SOURCE_SECONDS = 20;

/**
 * The participants' media, encoded once to files (VP8 640x480 30 fps 800 kbit/s, a key frame
 * every second, as a browser's camera sends), so replaying them costs ~1 % of a core each and
 * the sources do not compete with the mixer being measured. Input i replays file i % 4.
 */
async function prepareSources(work: string): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < SOURCE_FILES; i++) {
    const file = join(work, `src${i}.webm`);
    const lavfi =
      SOURCE === 'color'
        ? `color=c=0x${((i * 0x3f7a21 + 0x404040) & 0xffffff).toString(16).padStart(6, '0')}:s=640x480:r=30`
        : `testsrc2=s=640x480:r=30,hue=h=${i * 90}`;
    // biome-ignore format: ffmpeg arguments read best as option/value pairs
    const encode = ffmpeg([
      '-f', 'lavfi', '-t', String(SOURCE_SECONDS), '-i', lavfi,
      '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0', '-error-resilient', '1',
      '-b:v', '800k', '-g', '30', file,
    ]);
    await new Promise((r) => encode.once('exit', r));
    if (!existsSync(file)) throw new Error(`could not encode the source ${file}`);
    files.push(file);
  }
  return files;
}

/** One participant: its file replayed in real time, looped, to RTP (no re-encoding). */
function startSource(file: string, port: number, sdp: string) {
  // biome-ignore format: ffmpeg arguments read best as option/value pairs
  return ffmpeg([
    '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy',
    '-f', 'rtp', '-payload_type', '96', '-sdp_file', sdp, `rtp://127.0.0.1:${port}?pkt_size=1200`,
  ]);
}

/**
 * The bare reference: one ffmpeg decoding N×N SDP inputs, each fitted to its cell with the very
 * filter Tessera's decoders run for the view (letterbox, bilinear), xstack, libx264 → RTP.
 */
async function startBareMixer(grid: number, sdps: string[], sinkPort: number, progress: string) {
  const { fitFilter } = await import('../../media-node/mcu/VideoMixer.ts');
  const { ViewsSchema } = await import('../../shared/protocol/mcu.ts');
  const view = ViewsSchema.parse([{ label: 'common', audio: false, video: TESSERA_VIDEO }])[0]!.video;
  if (!view) throw new Error('the bench view has no video');
  const w = OUT.width / grid;
  const h = OUT.height / grid;
  const cell = fitFilter({ width: w, height: h }, view.layout.fitPolicy, view.bgColor);
  const scaled = sdps.map((_, i) => `[${i}:v]${cell}[s${i}]`).join(';');
  const layout = sdps.map((_, i) => `${(i % grid) * w}_${Math.floor(i / grid) * h}`).join('|');
  const stack = `${sdps.map((_, i) => `[s${i}]`).join('')}xstack=inputs=${sdps.length}:layout=${layout}:fill=black[v]`;
  // biome-ignore format: ffmpeg arguments read best as option/value pairs
  return ffmpeg([
    ...sdps.flatMap((sdp) => [...DECODER_ARGS, '-i', sdp]),
    '-filter_complex', `${scaled};${stack}`, '-map', '[v]', '-r', String(OUT.fps), '-fps_mode', 'cfr',
    ...ENCODER_ARGS, '-progress', progress,
    '-f', 'rtp', '-payload_type', '96', `rtp://127.0.0.1:${sinkPort}?pkt_size=1200`,
  ]);
}

/** Output frames so far, from ffmpeg's -progress file (its last `frame=` line). */
const framesOut = (progress: string) => {
  if (!existsSync(progress)) return 0;
  const m = [...readFileSync(progress, 'utf8').matchAll(/^frame=(\d+)$/gm)].at(-1);
  return m ? Number(m[1]) : 0;
};

interface MixerRun {
  mixer: 'bare-ffmpeg' | 'tessera';
  grid: string;
  inputs: number;
  /** Mixer CPU over the window, in % of one core (user + system). */
  cpuPctOfCore: number;
  outFps: number;
  outKbps: number;
  /**
   * From the mixer's start to its first output frame, inputs already flowing. Bare: ffmpeg spawned
   * → its first encoded frame (it opens and probes its inputs one after another first). Tessera:
   * the first input published into the room (view configured) → the first frame decoded by a
   * consumer of the mixed producer (see `tessera` for when inputs show).
   */
  firstFrameMs: number | null;
  /** Added latency (source → output); not measured: the -c copy replays carry no wall-clock stamp. */
  addedLatencyMs: { p50: number; p95: number } | null;
  loadDuring: number[];
  /** ffmpeg error lines during the run (bare: the mixer's, decoders joining mid-GOP log some; tessera: the sources'). */
  errorLines: number;
  /** Tessera's breakdown: cpuPctOfCore = ffmpegs + the Node compositor's share (above idle). */
  tessera?: {
    ffmpegCpuPctOfCore: number;
    ffmpegCpuPctOfCoreByRole: { videoEncoder: number; videoDecoders: number; audio: number };
    nodeCompositorCpuPctOfCore: number;
    nodeIdleCpuPctOfCore: number;
    /** Forwarding the inputs to the decoders and the output on: not in cpuPctOfCore (an SFU carries its inputs anyway). */
    mediasoupWorkerCpuPctOfCore: number;
    processes: number;
    processesGoneInWindow: number;
    encoderRestartsInWindow: number;
    canvasesWrittenPerS: number;
    canvasesDropped: number;
    firstInputShownMs: number | null;
    allInputsShownMs: number | null;
    /** The mixed stream in the room's announcements (a subscriber can subscribe from then). */
    mixedAnnouncedMs: number | null;
    /** The encoder's first RTP at the mixed producer (its first canvases are the background). */
    firstOutputRtpMs: number | null;
    /** Every input's decoder has a frame: the next canvas (≤ 1 tick) composes them all. */
    allInputsDecodedMs: number | null;
    /** The output decoder listening (its consumer resumed): before mixedAnnouncedMs, it caught the first key frame. */
    outputDecoderListeningMs: number;
    encoderArgsMatch: boolean;
    encoderArgs: string[];
    /** The compositor's CPU split: user (JS, copies) and system (pipe reads and writes). */
    nodeUserCpuPctOfCore: number;
    nodeSystemCpuPctOfCore: number;
    /** Live layout changes and an ffmpeg crash, after the CPU window (see `phases`). */
    phases: Phase[];
  };
}

/**
 * A disturbance of the running mix and what a subscriber sees of it: the longest time without an
 * output frame (goal: 200 ms at a layout change, 2 s after a crash), the longest time an input's
 * region went without a new frame, and when every region had one again.
 */
interface Phase {
  name: string;
  outputMaxGapMs: number;
  regionMaxStallMs: number;
  allRegionsRefreshedMs: number | null;
  /** The longest the bench's event loop (the compositor's) was held during the phase. */
  eventLoopMaxMs: number;
  /** The longest time between two canvases written to the encoder. */
  maxWriteGapMs: number;
}

let runCount = 0;
async function runBare(grid: number, work: string, files: string[]): Promise<MixerRun> {
  const n = grid * grid;
  // Fresh names per run: a later round must not read an earlier round's SDPs (old ports) or progress.
  const tag = `${grid}-${++runCount}`;
  const sdps = Array.from({ length: n }, (_, i) => join(work, `in${tag}-${i}.sdp`));
  const sources: ChildProcess[] = [];
  for (const [i, sdp] of sdps.entries())
    sources.push(startSource(files[i % files.length]!, await freeRtpPort(), sdp));
  while (!sdps.every((s) => existsSync(s) && readFileSync(s, 'utf8').includes('m=video'))) await sleep(100);
  const sink = await udpSink();
  const progress = join(work, `progress${tag}.txt`);
  const started = Date.now();
  const mixer = await startBareMixer(grid, sdps, sink.port, progress);
  let firstFrameMs: number | null = null;
  while (Date.now() - started < 60_000) {
    if (framesOut(progress) > 0) {
      firstFrameMs = Date.now() - started;
      break;
    }
    await sleep(50);
  }
  await sleep(WARM_S * 1000);
  const cpu0 = cpuSeconds(mixer.pid!);
  const frames0 = framesOut(progress);
  const bytes0 = sink.counts().bytes;
  const t0 = Date.now();
  await sleep(MEASURE_S * 1000);
  const cpu1 = cpuSeconds(mixer.pid!);
  const seconds = (Date.now() - t0) / 1000;
  const run: MixerRun = {
    mixer: 'bare-ffmpeg',
    grid: `${grid}x${grid}`,
    inputs: n,
    cpuPctOfCore: round((100 * (cpu1 - cpu0)) / seconds),
    outFps: round((framesOut(progress) - frames0) / seconds),
    outKbps: round(((sink.counts().bytes - bytes0) * 8) / 1000 / seconds),
    firstFrameMs,
    addedLatencyMs: null,
    loadDuring: loadavg().map(round),
    errorLines: errorLines.get(mixer)?.length ?? 0,
  };
  await stop(mixer);
  await Promise.all(sources.map(stop));
  await sink.close();
  return run;
}

/*
 * ─── The Tessera mixer's run of the same composition ─────────────────────────────────────────
 * In-process, as test/integration/media-node/ViewMixers.test.ts drives it: one mediasoup worker, a
 * RoomRegistry, Pipelines and ViewMixers. The room's view (TESSERA_VIDEO) is configured first; the
 * same VP8 files are replayed with -c copy into PlainTransport producers and published into the
 * room one after another (the first publish starts the mixer: t0). A consumer of the mixed
 * producer (attached as soon as the producer exists, before the room announces it) feeds an ffmpeg
 * decoder writing 64x36 grey frames: first frame, first frame showing input 0 and every input.
 * CPU over the window: every ffmpeg of the pipeline (decoders + encoder, pipelines.usage()), plus
 * this Node process's CPU (the compositor) minus its idle rate measured just before; the mediasoup
 * worker (forwarding the inputs to the decoders) is reported apart (an SFU carries it anyway).
 */
let tessera: Awaited<ReturnType<typeof startTesseraNode>> | undefined;
async function startTesseraNode() {
  const [{ roomsOnWorker }, { Pipelines }, { roomStreamPublisher }, { ViewMixers }] = await Promise.all([
    // The same room side the media-node integration tests run on.
    import('../../test/harness/roomsOnWorker.ts'),
    import('../../media-node/pipelines/Pipelines.ts'),
    import('../../media-node/pipelines/publisher.ts'),
    import('../../media-node/mcu/ViewMixers.ts'),
  ]);
  const { createLogger } = await import('../../shared/logger.ts');
  const logger = createLogger({ level: 'error' });
  const { pool, rooms } = await roomsOnWorker(logger);
  const pipelines = new Pipelines({ rooms, kinds: {}, publisher: roomStreamPublisher, logger });
  const mixers = new ViewMixers({ rooms, pipelines, logger });
  return {
    pool,
    rooms,
    pipelines,
    mixers,
    close() {
      mixers.close();
      pipelines.close();
      rooms.close();
      pool.close();
    },
  };
}

/** The mixed output as a subscriber decodes it: 64x36 grey frames, with what each grid cell shows. */
function outputWatcher(grid: number, sdpPath: string) {
  const W = 64;
  const H = 36;
  const child = spawn(
    'ffmpeg',
    // biome-ignore format: ffmpeg arguments read best as option/value pairs
    [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-protocol_whitelist', 'file,udp,rtp',
      '-analyzeduration', '1000000', '-fflags', 'nobuffer', '-flags', 'low_delay', '-i', sdpPath,
      '-an', '-vf', `scale=${W}:${H}`, '-pix_fmt', 'gray', '-fps_mode', 'passthrough', '-f', 'rawvideo', 'pipe:1',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  children.push(child);
  const frameBytes = W * H;
  const t = { first: null as number | null, firstInput: null as number | null, all: null as number | null };
  let frames = 0;
  /** Arrival time of every decoded frame (performance.now()), for gaps around a layout change or a crash. */
  const arrivals: number[] = [];
  let pending: Buffer = Buffer.alloc(0);
  /** Mean luma of a cell's middle (the black background and letterbox bars are ~0). */
  const cellShown = (f: Buffer, i: number) => {
    const cw = W / grid;
    const ch = H / grid;
    let sum = 0;
    let n = 0;
    for (let y = Math.floor((Math.floor(i / grid) + 0.25) * ch); y < (Math.floor(i / grid) + 0.75) * ch; y++)
      for (let x = Math.floor(((i % grid) + 0.3) * cw); x < ((i % grid) + 0.7) * cw; x++) {
        sum += f[y * W + x]!;
        n++;
      }
    return n > 0 && sum / n > 30;
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= frameBytes) {
      const f = pending.subarray(0, frameBytes);
      pending = pending.subarray(frameBytes);
      frames++;
      const now = performance.now();
      arrivals.push(now);
      t.first ??= now;
      if (t.all !== null) continue;
      if (t.firstInput === null && cellShown(f, 0)) t.firstInput = now;
      if (Array.from({ length: grid * grid }, (_, i) => cellShown(f, i)).every(Boolean)) t.all = now;
    }
  });
  /** The longest time without a decoded frame between `from` and `to` (the outage, ms). */
  const maxGap = (from: number, to: number) => {
    let last = from;
    let gap = 0;
    for (const at of arrivals) {
      if (at <= from) continue;
      if (at > to) break;
      gap = Math.max(gap, at - last);
      last = at;
    }
    return Math.round(Math.max(gap, to - last));
  };
  return { child, times: t, frames: () => frames, maxGap };
}

async function runTessera(grid: number, work: string, files: string[]): Promise<MixerRun | null> {
  tessera ??= await startTesseraNode();
  const { rooms, pipelines, mixers, pool } = tessera;
  const { ViewsSchema, mixedStreamId } = await import('../../shared/protocol/mcu.ts');
  const { StreamPatchOpSchema } = await import('../../shared/protocol/commands.ts');
  const n = grid * grid;
  const worker = pool.workers[0]!;

  // The bench process's idle CPU rate (worker up, nothing mixing): the compositor's share is above it.
  const idle0 = process.cpuUsage();
  const idleT0 = performance.now();
  await sleep(3000);
  const idleUse = process.cpuUsage(idle0);
  const idleRate = (idleUse.user + idleUse.system) / 1e6 / ((performance.now() - idleT0) / 1000);

  const room = await rooms.open(`bench/mcu-${grid}x${grid}-${Date.now()}`);
  mixers.configure(room.id, ViewsSchema.parse([{ label: 'common', audio: false, video: TESSERA_VIDEO }]));

  const { sources, producers } = await createInputs(room, n, files);

  const t0 = performance.now();
  await publishInputs(room, producers);
  const view = mixers.view(room.id, 'common');
  if (!view) throw new Error('the view was not configured');

  // A consumer of the mixed producer as soon as it exists (it starts with a key frame).
  while (!view.video?.producer && performance.now() - t0 < 30_000) await sleep(5);
  const mixedProducer = view.video?.producer;
  if (!mixedProducer) throw new Error('the mixer did not start');
  const { recv, watcher } = await watchProducer(room, mixedProducer.id, work, (sdp) =>
    outputWatcher(grid, sdp),
  );
  const listeningMs = Math.round(performance.now() - t0);
  let announcedMs: number | null = null;
  let firstOutputMs: number | null = null;
  let composedMs: number | null = null;
  while (
    performance.now() - t0 < 60_000 &&
    (watcher.times.all === null || announcedMs === null || composedMs === null)
  ) {
    if (announcedMs === null && room.streams().some((s) => s.publication === mixedStreamId('common')))
      announcedMs = performance.now() - t0;
    if (firstOutputMs === null && ((await mixedProducer.getStats())[0]?.byteCount ?? 0) > 0)
      firstOutputMs = performance.now() - t0;
    const decoded = Object.values(view.video?.inputFrames() ?? {});
    if (composedMs === null && decoded.length === n && decoded.every((f) => f > 0))
      composedMs = performance.now() - t0;
    await sleep(10);
  }
  await sleep(WARM_S * 1000);

  // The window: the pipeline's processes (by pid, from /proc), this process, the worker.
  const pids = () => pipelines.usage().processes.map((p) => p.pid);
  const cpuOf = (ps: number[]) =>
    new Map(ps.flatMap((pid) => (existsSync(`/proc/${pid}`) ? [[pid, cpuSeconds(pid)] as const] : [])));
  const before = cpuOf(pids());
  const node0 = process.cpuUsage();
  const worker0 = cpuSeconds(worker.pid);
  const frames0 = watcher.frames();
  const bytes0 = (await mixedProducer.getStats())[0]?.byteCount ?? 0;
  const written0 = view.video!.stats.written;
  const restarts0 = view.video!.restarts;
  const w0 = performance.now();
  await sleep(MEASURE_S * 1000);
  const after = cpuOf(pids());
  const seconds = (performance.now() - w0) / 1000;
  const nodeUse = process.cpuUsage(node0);
  const workerCpu = cpuSeconds(worker.pid) - worker0;
  const bytes1 = (await mixedProducer.getStats())[0]?.byteCount ?? 0;
  // A process new in the window counts whole; one gone in it is lost (reported as restarts).
  let ffmpegCpu = 0;
  for (const [pid, cpu] of after) ffmpegCpu += cpu - (before.get(pid) ?? 0);
  const gone = [...before.keys()].filter((pid) => !after.has(pid)).length;
  const nodeCpu = (nodeUse.user + nodeUse.system) / 1e6 - idleRate * seconds;
  const encoderPid = view.video!.process?.pid;
  const encoderArgs = encoderPid ? readFileSync(`/proc/${encoderPid}/cmdline`, 'utf8').split('\0') : [];
  // Where the ffmpeg CPU goes: the video encoder, the video decoders, the audio mixer's processes.
  const byRole = { videoEncoder: 0, videoDecoders: 0, audio: 0 };
  for (const [pid, cpu] of after) {
    const used = cpu - (before.get(pid) ?? 0);
    const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
    if (pid === encoderPid) byRole.videoEncoder += used;
    else if (/opus|s16le|\0-vn\0/.test(cmdline) && !/rawvideo/.test(cmdline)) byRole.audio += used;
    else byRole.videoDecoders += used;
  }
  const ms = (t: number | null) => (t === null ? null : Math.round(t - t0));
  const run: MixerRun = {
    mixer: 'tessera',
    grid: `${grid}x${grid}`,
    inputs: n,
    cpuPctOfCore: round((100 * (ffmpegCpu + Math.max(0, nodeCpu))) / seconds),
    outFps: round((watcher.frames() - frames0) / seconds),
    outKbps: round(((bytes1 - bytes0) * 8) / 1000 / seconds),
    firstFrameMs: ms(watcher.times.first),
    addedLatencyMs: null,
    loadDuring: loadavg().map(round),
    errorLines: sources.reduce((sum, s) => sum + (errorLines.get(s)?.length ?? 0), 0),
    tessera: {
      ffmpegCpuPctOfCore: round((100 * ffmpegCpu) / seconds),
      ffmpegCpuPctOfCoreByRole: {
        videoEncoder: round((100 * byRole.videoEncoder) / seconds),
        videoDecoders: round((100 * byRole.videoDecoders) / seconds),
        audio: round((100 * byRole.audio) / seconds),
      },
      nodeCompositorCpuPctOfCore: round((100 * nodeCpu) / seconds),
      nodeIdleCpuPctOfCore: round(100 * idleRate),
      mediasoupWorkerCpuPctOfCore: round((100 * workerCpu) / seconds),
      processes: after.size,
      processesGoneInWindow: gone,
      encoderRestartsInWindow: view.video!.restarts - restarts0,
      canvasesWrittenPerS: round((view.video!.stats.written - written0) / seconds),
      canvasesDropped: view.video!.stats.dropped,
      firstInputShownMs: ms(watcher.times.firstInput),
      allInputsShownMs: ms(watcher.times.all),
      mixedAnnouncedMs: announcedMs === null ? null : Math.round(announcedMs),
      firstOutputRtpMs: firstOutputMs === null ? null : Math.round(firstOutputMs),
      allInputsDecodedMs: composedMs === null ? null : Math.round(composedMs),
      outputDecoderListeningMs: listeningMs,
      nodeUserCpuPctOfCore: round((100 * (nodeUse.user / 1e6 - idleRate * seconds * 0.5)) / seconds),
      nodeSystemCpuPctOfCore: round((100 * (nodeUse.system / 1e6 - idleRate * seconds * 0.5)) / seconds),
      phases: [],
      encoderArgsMatch: matchesAll(encoderArgs, ENCODER_ARGS),
      encoderArgs: encoderArgs.slice(
        encoderArgs.indexOf('-c:v'),
        encoderArgs.indexOf('-f', encoderArgs.indexOf('-c:v')),
      ),
    },
  };
  run.tessera!.phases = await disturb(
    grid,
    view,
    (layout) =>
      mixers.control(
        room.id,
        mixedStreamId('common'),
        StreamPatchOpSchema.parse({ op: 'replace', path: '/info/layout', value: layout }),
      ),
    watcher,
  );
  await stop(watcher.child);
  recv.close();
  room.close();
  await Promise.all(sources.map(stop));
  return run;
}

type Room = Awaited<ReturnType<NonNullable<typeof tessera>['rooms']['open']>>;

/**
 * The participants' video into PlainTransport producers: the files replayed with -c copy, or
 * (`probe`) input 0 from the latency probe. Returns once media flows into every producer (as the
 * bare side's inputs do before it starts).
 */
async function createInputs(room: Room, n: number, files: string[], probe = false) {
  const sources: ChildProcess[] = [];
  const producers: types.Producer[] = [];
  let probeSource: ReturnType<typeof startProbe> | undefined;
  for (let i = 0; i < n; i++) {
    const transport = await room.router.createPlainTransport({
      listenIp: '127.0.0.1',
      rtcpMux: false,
      comedia: true,
    });
    const ssrc = 30_000_000 + i;
    const producer = await transport.produce({
      kind: 'video',
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }],
        encodings: [{ ssrc }],
      },
    });
    producers.push(producer);
    const { localPort } = transport.tuple;
    const rtcpPort = transport.rtcpTuple!.localPort;
    if (probe && i === 0) {
      probeSource = startProbe(localPort, rtcpPort, ssrc);
      children.push(probeSource.child);
      continue;
    }
    // biome-ignore format: ffmpeg arguments read best as option/value pairs
    sources.push(ffmpeg([
      '-re', '-stream_loop', '-1', '-i', files[i % files.length]!, '-c', 'copy',
      '-f', 'rtp', '-payload_type', '96', '-ssrc', String(ssrc),
      `rtp://127.0.0.1:${localPort}?rtcpport=${rtcpPort}&pkt_size=1200`,
    ]));
  }
  const flowing = () => Promise.all(producers.map(async (p) => (await p.getStats())[0]?.byteCount ?? 0));
  const flowDeadline = Date.now() + 10_000;
  while ((await flowing()).some((b) => b === 0) && Date.now() < flowDeadline) await sleep(100);
  return { sources, producers, probe: probeSource };
}

/** Each producer published into the room as participant `p<i>`'s camera (`pub<i>`), in order. */
async function publishInputs(room: Room, producers: types.Producer[]) {
  for (const [i, producer] of producers.entries())
    await room.addStream(
      producer,
      {
        id: producer.id,
        owner: `p${i}`,
        kind: 'video',
        source: 'camera',
        paused: false,
        publication: `pub${i}`,
      },
      { kind: 'participant', participantId: `p${i}` },
    );
}

/**
 * A PlainTransport consumer of `producerId` feeding an ffmpeg watcher (`start`, given the SDP),
 * resumed once the watcher listens: its first key frame is not lost (ffmpeg answers no PLI).
 */
async function watchProducer<W extends { child: ChildProcess }>(
  room: Room,
  producerId: string,
  work: string,
  start: (sdpPath: string) => W,
) {
  const { sdpForRtpReceiver } = await import('../../media-node/ffmpeg/sdp.ts');
  const recv = await room.router.createPlainTransport({
    listenIp: '127.0.0.1',
    rtcpMux: false,
    comedia: false,
  });
  const port = await freeRtpPort();
  await recv.connect({ ip: '127.0.0.1', port, rtcpPort: port + 1 });
  const consumer = await recv.consume({
    producerId,
    rtpCapabilities: room.router.rtpCapabilities,
    paused: true,
  });
  const sdpPath = join(work, `watch-${++runCount}.sdp`);
  writeFileSync(
    sdpPath,
    sdpForRtpReceiver({ rtpParameters: consumer.rtpParameters, kind: 'video', address: '127.0.0.1', port }),
  );
  const watcher = start(sdpPath);
  children.push(watcher.child);
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const deadline = performance.now() + 30_000;
  while (!readFileSync('/proc/net/udp', 'utf8').includes(hexPort) && performance.now() < deadline)
    await sleep(5);
  await consumer.resume();
  return { recv, watcher };
}

/**
 * The mixer's added latency: the same grid with input 0 replaced by the latency probe, its
 * switches timed in its region of the mixed output and on a consumer of the probe itself.
 */
async function runLatency(grid: number, work: string, files: string[]) {
  tessera ??= await startTesseraNode();
  const { rooms, mixers } = tessera;
  const { ViewsSchema } = await import('../../shared/protocol/mcu.ts');
  const room = await rooms.open(`bench/mcu-latency-${grid}x${grid}-${Date.now()}`);
  mixers.configure(room.id, ViewsSchema.parse([{ label: 'common', audio: false, video: TESSERA_VIDEO }]));
  const { sources, producers, probe } = await createInputs(room, grid * grid, files, true);
  await publishInputs(room, producers);
  const view = mixers.view(room.id, 'common')!;
  const deadline = performance.now() + 30_000;
  while (!view.video?.producer && performance.now() < deadline) await sleep(10);
  // The probe's picture is letterboxed into region 0 (the grid's first cell): its middle.
  const cell = 1 / grid;
  const area = { x0: 0.3 * cell, y0: 0.3 * cell, x1: 0.7 * cell, y1: 0.7 * cell };
  const mixed = await watchProducer(room, view.video!.producer!.id, work, (sdp) =>
    brightnessWatcher(sdp, area),
  );
  const forwarded = await watchProducer(room, producers[0]!.id, work, (sdp) => brightnessWatcher(sdp));
  await sleep(WARM_S * 1000);
  const from = performance.now();
  await sleep(MEASURE_S * 1000);
  const switches = probe!.switches.filter((s) => s.at >= from && s.at < performance.now() - 1000);
  const viaMix = switchLatencies(switches, mixed.watcher.transitions);
  const direct = switchLatencies(switches, forwarded.watcher.transitions);
  for (const w of [mixed, forwarded]) {
    w.watcher.stop();
    w.recv.close();
  }
  probe!.stop();
  room.close();
  await Promise.all(sources.map(stop));
  const p50 = (xs: number[]) => percentile(xs, 0.5);
  const p95 = (xs: number[]) => percentile(xs, 0.95);
  return {
    grid: `${grid}x${grid}`,
    switches: switches.length,
    mixed: { n: viaMix.length, p50: p50(viaMix), p95: p95(viaMix) },
    forwarded: { n: direct.length, p50: p50(direct), p95: p95(direct) },
    addedP50Ms: p50(viaMix) !== null && p50(direct) !== null ? p50(viaMix)! - p50(direct)! : null,
    addedP95Ms: p95(viaMix) !== null && p95(direct) !== null ? p95(viaMix)! - p95(direct)! : null,
  };
}

type View = NonNullable<ReturnType<NonNullable<typeof tessera>['mixers']['view']>>;
/** Replaces the view's layout as REST `PATCH …/streams/{mixed}` `/info/layout` does. */
type Control = (layout: unknown) => boolean;

/**
 * After the CPU window: the lecture layout, then the grid with its inputs rotated (every region
 * changes source), each applied live over the REST op; then every ffmpeg of the view killed.
 * Each phase watches for PHASE_MS; the input counters are polled every 10 ms.
 */
const PHASE_MS = 4000;
async function disturb(
  grid: number,
  view: View,
  control: Control,
  watcher: ReturnType<typeof outputWatcher>,
): Promise<Phase[]> {
  const { templatesFor, templateFor } = await import('../../media-node/mcu/layout.ts');
  const n = grid * grid;
  const inputs = Array.from({ length: n }, (_, i) => `pub${i}`);
  const regionsOf = (base: 'lecture' | 'fluid') => templateFor(templatesFor(base, n), n)!.region;
  const place = (regions: readonly { id: string; area: unknown }[], order: string[]) =>
    regions.map((region, i) => ({ stream: order[i], region: { ...region, shape: 'rectangle' } }));
  const rotated = [...inputs.slice(1), inputs[0]!];
  const phases: Phase[] = [];
  const watch = async (name: string, act: () => void) => {
    const before = view.video!.inputFrames();
    const last = new Map(Object.entries(before).map(([k, v]) => [k, { frames: v, at: performance.now() }]));
    const refreshed = new Map<string, number>();
    let stall = 0;
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    view.video!.stats.maxWriteGapMs = 0;
    const t0 = performance.now();
    act();
    while (performance.now() - t0 < PHASE_MS) {
      await sleep(10);
      const now = performance.now();
      for (const [k, v] of Object.entries(view.video!.inputFrames())) {
        const seen = last.get(k);
        if (!seen || v === seen.frames) continue;
        stall = Math.max(stall, now - seen.at);
        last.set(k, { frames: v, at: now });
        if (!refreshed.has(k)) refreshed.set(k, now - t0);
      }
    }
    for (const seen of last.values()) stall = Math.max(stall, performance.now() - seen.at);
    phases.push({
      name,
      outputMaxGapMs: watcher.maxGap(t0, t0 + PHASE_MS),
      regionMaxStallMs: Math.round(stall),
      allRegionsRefreshedMs: refreshed.size === n ? Math.round(Math.max(...refreshed.values())) : null,
      eventLoopMaxMs: Math.round(loop.max / 1e6),
      maxWriteGapMs: Math.round(view.video!.stats.maxWriteGapMs),
    });
    loop.disable();
  };
  await watch('layout: lecture', () => control(place(regionsOf('lecture'), inputs)));
  await watch('layout: grid, every input moved', () => control(place(regionsOf('fluid'), rotated)));
  await watch('every ffmpeg killed', () => {
    for (const p of view.video!.processes) if (p.pid !== undefined) process.kill(p.pid, 'SIGKILL');
  });
  return phases;
}

/** Every option/value pair of `want` appears in `argv` (as a pair). */
function matchesAll(argv: string[], want: string[]): boolean {
  for (let i = 0; i < want.length; i += 2)
    if (!argv.some((a, j) => a === want[i] && argv[j + 1] === want[i + 1])) return false;
  return true;
}

const round = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;
const ffmpegVersion = execFileSync('ffmpeg', ['-hide_banner', '-version']).toString().split('\n')[0] ?? '';

const ROUNDS = Number(args.get('rounds') ?? 1);
const work = mkdtempSync(join(tmpdir(), 'bench-mcu-'));
type Row = { round: number; grid: string; bare: MixerRun; tessera: MixerRun | null; cpuRatio: number | null };
const rows: Row[] = [];
const latency: Awaited<ReturnType<typeof runLatency>>[] = [];
try {
  const files = await prepareSources(work);
  for (let round = 1; round <= ROUNDS; round++)
    for (const grid of GRIDS) {
      // Alternated: bare first in odd rounds, Tessera first in even ones (drifting load hits both).
      const order = round % 2 === 1 ? (['bare', 'tessera'] as const) : (['tessera', 'bare'] as const);
      const got: { bare?: MixerRun; tessera?: MixerRun | null } = {};
      for (const which of order) {
        console.log(
          `[bench:mcu] round ${round} ${grid}x${grid}: ${which} (warm ${WARM_S} s, measure ${MEASURE_S} s)`,
        );
        if (which === 'bare') got.bare = await runBare(grid, work, files);
        else got.tessera = await runTessera(grid, work, files);
      }
      const bare = got.bare!;
      const tessera = got.tessera ?? null;
      rows.push({
        round,
        grid: bare.grid,
        bare,
        tessera,
        cpuRatio: tessera ? round2(tessera.cpuPctOfCore / bare.cpuPctOfCore) : null,
      });
      console.log(`[bench:mcu] ${JSON.stringify(rows.at(-1))}`);
    }
  for (const grid of GRIDS) {
    console.log(`[bench:mcu] ${grid}x${grid}: added latency (warm ${WARM_S} s, measure ${MEASURE_S} s)`);
    latency.push(await runLatency(grid, work, files));
    console.log(`[bench:mcu] ${JSON.stringify(latency.at(-1))}`);
  }
} finally {
  tessera?.close();
  rmSync(work, { recursive: true, force: true });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return null;
  return round2(s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2);
};
const summary = GRIDS.map((g) => {
  const rs = rows.filter((r) => r.grid === `${g}x${g}`);
  const ts = rs.flatMap((r) => (r.tessera ? [r.tessera] : []));
  const med = (f: (r: MixerRun) => number | null, of: MixerRun[]) =>
    median(of.flatMap((r) => (f(r) === null ? [] : [f(r)!])));
  return {
    grid: `${g}x${g}`,
    runs: rs.length,
    bareCpuPctOfCore: med(
      (r) => r.cpuPctOfCore,
      rs.map((r) => r.bare),
    ),
    tesseraCpuPctOfCore: med((r) => r.cpuPctOfCore, ts),
    cpuRatio: median(rs.flatMap((r) => (r.cpuRatio === null ? [] : [r.cpuRatio]))),
    bareOutFps: med(
      (r) => r.outFps,
      rs.map((r) => r.bare),
    ),
    tesseraOutFps: med((r) => r.outFps, ts),
    bareFirstFrameMs: med(
      (r) => r.firstFrameMs,
      rs.map((r) => r.bare),
    ),
    tesseraFirstFrameMs: med((r) => r.firstFrameMs, ts),
    tesseraAllInputsShownMs: med((r) => r.tessera?.allInputsShownMs ?? null, ts),
    phases: [...new Set(ts.flatMap((t) => t.tessera?.phases.map((p) => p.name) ?? []))].map((name) => {
      const of = ts.flatMap((t) => t.tessera?.phases.filter((p) => p.name === name) ?? []);
      return {
        name,
        outputMaxGapMs: of.map((p) => p.outputMaxGapMs),
        regionMaxStallMs: of.map((p) => p.regionMaxStallMs),
        allRegionsRefreshedMs: of.map((p) => p.allRegionsRefreshedMs),
      };
    }),
  };
});

const report = {
  date: new Date().toISOString(),
  machine: {
    host: hostname(),
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? '',
    load: readFileSync('/proc/loadavg', 'utf8').trim(),
    ffmpeg: ffmpegVersion,
  },
  method: {
    warmSeconds: WARM_S,
    measureSeconds: MEASURE_S,
    sources: `${SOURCE} 640x480 30 fps VP8 800 kbit/s (key frame every 1 s), encoded once, replayed to RTP with -c copy (input i: file i % ${SOURCE_FILES})`,
    output: `${OUT.width}x${OUT.height} ${OUT.fps} fps cfr, ${ENCODER_ARGS.join(' ')}`,
    decoders: DECODER_ARGS.join(' '),
    ffmpegEnv: `both mixers' ffmpeg processes: ${Object.entries(FFMPEG_MALLOC_ENV)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    bare:
      "one ffmpeg: every input fitted to its cell with Tessera's decoder filter for the view (VideoMixer's " +
      'fitFilter: bilinear, letterboxed), xstack, the encoder above (since 2026-12-03 evening; before, a bicubic stretch)',
    goals: { cpuRatio: '≤ 1.15× bare', grid2CpuPct: '≤ 25 % of a core', grid4CpuPct: '≤ 100 % of a core' },
    rounds: ROUNDS,
    tessera:
      'in-process media node (1 mediasoup worker, RoomRegistry, Pipelines, ViewMixers), view ' +
      `${JSON.stringify(TESSERA_VIDEO)}; inputs into PlainTransport producers; CPU = decoders + encoder ` +
      '(/proc/<pid>/stat) + this process above its idle rate (the compositor); the worker apart',
    addedLatency:
      'Tessera only (latency[]): the grid with input 0 replaced by a probe switching dark/bright every 0.5 s ' +
      '(raw frames from this process → VP8 → RTP), each switch timed in its region of the mixed output and on a ' +
      'consumer of the probe itself, both decoded by ffmpeg (64x36 grey): added = mixed − forwarded. The CPU ' +
      "rows' addedLatencyMs stay null (their -c copy replays carry no switch to follow).",
    phases:
      'after the CPU window, each watched 4 s: the lecture layout, the grid with every input moved, ' +
      'every ffmpeg of the view killed (SIGKILL); outputMaxGapMs = longest time without a decoded ' +
      'output frame, regionMaxStallMs = longest time an input went without a new frame in the compositor',
  },
  summary,
  latency,
  rows,
};
// --out NAME: a second run of the day must not overwrite the first's file.
const out = resolve(here, '..', 'results', args.get('out') ?? `mcu-${report.date.slice(0, 10)}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`[bench:mcu] wrote ${out}`);
for (const r of rows)
  console.log(
    `round ${r.round} ${r.grid}: bare ${r.bare.cpuPctOfCore} % of a core, ${r.bare.outFps} fps, ${r.bare.outKbps} kbit/s, ` +
      `first frame ${r.bare.firstFrameMs} ms; tessera ${r.tessera ? `${r.tessera.cpuPctOfCore} % (${JSON.stringify(r.tessera.tessera)}), ${r.tessera.outFps} fps, ${r.tessera.outKbps} kbit/s, first frame ${r.tessera.firstFrameMs} ms` : 'not run'}; ratio ${r.cpuRatio}`,
  );
