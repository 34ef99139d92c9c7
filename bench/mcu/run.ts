// MCU benchmark (issue #13, acceptance 7), skeleton: the bare-ffmpeg reference of a grid mix.
// N×N synthetic sources (lavfi, each its own hue, VP8 640x480 over RTP like a browser's camera)
// → ONE ffmpeg that decodes them (-fflags nobuffer -flags low_delay -threads 1), composes them
// with xstack and encodes libx264 ultrafast zerolatency 1280x720 at 30 fps → RTP to a UDP sink
// that only counts. Measures the mixer process's CPU (/proc/<pid>/stat) over a window after a
// warm-up, its output frame rate and bit rate, its first-frame time, the load average and host.
// The Tessera mixer's run of the same composition plugs in at `runTessera` (HOOK below).
// Method and the baseline numbers: ../../../shared/research/mcu-baseline.md.
//
// Usage: npm run bench:mcu -- [--grids 2,4] [--warm 6] [--measure 12] [--source testsrc2|color]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
/** The encoder settings both mixers must use (the CPU ratio compares like with like). */
// biome-ignore format: ffmpeg arguments read best as option/value pairs
export const ENCODER_ARGS = [
  '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-bf', '0',
  '-b:v', '1500k', '-maxrate', '1500k', '-bufsize', '750k', '-g', '60', '-threads', '1',
];
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

/** The bare reference: one ffmpeg decoding N×N SDP inputs, xstack, libx264 → RTP. */
function startBareMixer(grid: number, sdps: string[], sinkPort: number, progress: string) {
  const w = OUT.width / grid;
  const h = OUT.height / grid;
  const scaled = sdps.map((_, i) => `[${i}:v]scale=${w}:${h}[s${i}]`).join(';');
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
  /** From the mixer's start to its first output frame (inputs already flowing). */
  firstFrameMs: number | null;
  /** Added latency (stamp → output); null until measured with stamped sources (see the HOOK). */
  addedLatencyMs: { p50: number; p95: number } | null;
  loadDuring: number[];
  /** ffmpeg error lines during the run (decoders joining mid-GOP log some before a key frame). */
  errorLines: number;
}

async function runBare(grid: number, work: string, files: string[]): Promise<MixerRun> {
  const n = grid * grid;
  const sdps = Array.from({ length: n }, (_, i) => join(work, `in${grid}-${i}.sdp`));
  const sources: ChildProcess[] = [];
  for (const [i, sdp] of sdps.entries())
    sources.push(startSource(files[i % files.length]!, await freeRtpPort(), sdp));
  while (!sdps.every((s) => existsSync(s) && readFileSync(s, 'utf8').includes('m=video'))) await sleep(100);
  const sink = await udpSink();
  const progress = join(work, `progress${grid}.txt`);
  const started = Date.now();
  const mixer = startBareMixer(grid, sdps, sink.port, progress);
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
 * ─── HOOK (integrator): the Tessera mixer's run of the same composition ──────────────────────
 * Start an embedded media node with a room whose view is `{label:'common', video:{format:{codec:
 * 'h264'}, parameters:{resolution:{width:1280,height:720}, framerate:30}, layout:{templates:{base:
 * 'fluid'}}}}`, publish N×N sources into it (the same lavfi/VP8 RTP as startSource, e.g. through
 * PlainTransports, or synthetic Chromium publishers from test/e2e/pages/instruments.ts), consume
 * `mixed-common` to a UDP sink, and measure the mixer's processes (decoders + compositor + encoder
 * pids, summed) with cpuSeconds over the same WARM_S/MEASURE_S window. Fill the same MixerRun
 * (addedLatencyMs from stamped sources when available). Until then this returns null and the
 * report says the Tessera side was not run.
 */
async function runTessera(_grid: number, _work: string): Promise<MixerRun | null> {
  return null;
}

const round = (x: number) => Math.round(x * 10) / 10;
const ffmpegVersion = execFileSync('ffmpeg', ['-hide_banner', '-version']).toString().split('\n')[0] ?? '';

const work = mkdtempSync(join(tmpdir(), 'bench-mcu-'));
const rows: { grid: string; bare: MixerRun; tessera: MixerRun | null; cpuRatio: number | null }[] = [];
try {
  const files = await prepareSources(work);
  for (const grid of GRIDS) {
    console.log(`[bench:mcu] ${grid}x${grid}: bare ffmpeg (warm ${WARM_S} s, measure ${MEASURE_S} s)`);
    const bare = await runBare(grid, work, files);
    const tessera = await runTessera(grid, work);
    rows.push({
      grid: bare.grid,
      bare,
      tessera,
      cpuRatio: tessera ? round((100 * tessera.cpuPctOfCore) / bare.cpuPctOfCore) / 100 : null,
    });
    console.log(`[bench:mcu] ${JSON.stringify(rows.at(-1))}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

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
    goals: { cpuRatio: '≤ 1.15× bare', grid2CpuPct: '≤ 25 % of a core', grid4CpuPct: '≤ 100 % of a core' },
    tessera: rows.some((r) => r.tessera) ? 'run' : 'not run: the HOOK in bench/mcu/run.ts is not wired yet',
  },
  rows,
};
const out = join(here, '..', 'results', `mcu-${report.date.slice(0, 10)}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`[bench:mcu] wrote ${out}`);
for (const r of rows)
  console.log(
    `${r.grid}: bare ${r.bare.cpuPctOfCore} % of a core, ${r.bare.outFps} fps, ${r.bare.outKbps} kbit/s, ` +
      `first frame ${r.bare.firstFrameMs} ms; tessera ${r.tessera ? `${r.tessera.cpuPctOfCore} %` : 'not run'}`,
  );
