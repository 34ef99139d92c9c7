// Added latency without a browser (issue #13, acceptances 2 and 7). A probe source whose picture
// switches between dark and bright every half second (raw frames written by this process,
// VP8-encoded by ffmpeg and sent as RTP, as a camera would) is watched twice: in the mixed output
// (its region) and forwarded on its own. Both paths include the probe's encoder and a watcher's
// decoder, so the mixer's added latency is the difference of the two switch-to-decoded times.
import { type ChildProcess, spawn } from 'node:child_process';

const FPS = 30;
/** Frames between switches (half a second). */
const SWITCH_EVERY = 15;
const PROBE = { width: 160, height: 120 };

export interface Switch {
  at: number;
  bright: boolean;
}

/**
 * The probe: raw grey frames into an ffmpeg VP8 encoder sending RTP to `port` with `ssrc`,
 * switching every half second; or, with `manual`, dark until `flash()` (bright for `ms`), for
 * paths whose latency is longer than a switch (RTMP, HLS).
 */
export function startProbe(port: number, rtcpPort: number, ssrc: number, manual = false) {
  // biome-ignore format: ffmpeg arguments read best as option/value pairs
  const child = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'gray',
    '-s', `${PROBE.width}x${PROBE.height}`, '-r', String(FPS), '-i', 'pipe:0',
    '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '16', '-lag-in-frames', '0',
    '-g', String(SWITCH_EVERY), '-b:v', '200k', '-pix_fmt', 'yuv420p',
    '-payload_type', '96', '-ssrc', String(ssrc), '-f', 'rtp',
    `rtp://127.0.0.1:${port}?rtcpport=${rtcpPort}&pkt_size=1200`,
  ], { stdio: ['pipe', 'ignore', 'ignore'] });
  const frames = [16, 235].map((y) => Buffer.alloc(PROBE.width * PROBE.height, y));
  const switches: Switch[] = [];
  let n = 0;
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let brightUntil = 0;
  const tick = () => {
    const bright = manual ? performance.now() < brightUntil : Math.floor(n / SWITCH_EVERY) % 2 === 1;
    if (!manual && n % SWITCH_EVERY === 0) switches.push({ at: performance.now(), bright });
    if (child.stdin!.writable) child.stdin!.write(frames[bright ? 1 : 0]!);
    n++;
    timer = setTimeout(tick, Math.max(0, t0 + (n * 1000) / FPS - performance.now()));
  };
  child.stdin!.on('error', () => {});
  tick();
  return {
    child,
    switches,
    /** Bright from the next frame on, for `ms` (manual probes); returns when it was asked. */
    flash(ms: number): number {
      const at = performance.now();
      brightUntil = at + ms;
      switches.push({ at, bright: true });
      return at;
    },
    stop() {
      clearTimeout(timer);
      child.kill('SIGKILL');
    },
  };
}

/**
 * Decodes an RTP stream (its SDP file) to small grey frames and records when the mean brightness
 * of `area` (fractions of the picture) turns dark or bright.
 */
export function brightnessWatcher(input: string | string[], area = { x0: 0, y0: 0, x1: 1, y1: 1 }) {
  // An SDP file (RTP), or a player's input arguments (an RTMP or HLS URL with its options).
  const inputArgs = typeof input === 'string' ? ['-protocol_whitelist', 'file,udp,rtp', '-i', input] : input;
  const W = 64;
  const H = 36;
  // biome-ignore format: ffmpeg arguments read best as option/value pairs
  const child: ChildProcess = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-fflags', 'nobuffer', '-flags', 'low_delay', ...inputArgs,
    '-an', '-vf', `scale=${W}:${H}`, '-pix_fmt', 'gray', '-fps_mode', 'passthrough', '-f', 'rawvideo', 'pipe:1',
  ], { stdio: ['ignore', 'pipe', 'ignore'] });
  const transitions: Switch[] = [];
  let state: boolean | undefined;
  let pending: Buffer = Buffer.alloc(0);
  child.stdout!.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= W * H) {
      const f = pending.subarray(0, W * H);
      pending = pending.subarray(W * H);
      let sum = 0;
      let count = 0;
      for (let y = Math.floor(area.y0 * H); y < Math.ceil(area.y1 * H); y++)
        for (let x = Math.floor(area.x0 * W); x < Math.ceil(area.x1 * W); x++) {
          sum += f[y * W + x]!;
          count++;
        }
      const bright = sum / Math.max(1, count) > 128;
      if (bright !== state) transitions.push({ at: performance.now(), bright });
      state = bright;
    }
  });
  return { child, transitions, stop: () => child.kill('SIGKILL') };
}

/** For each switch of the source, the time until the watcher saw it (before the next switch). */
export function switchLatencies(switches: readonly Switch[], seen: readonly Switch[]): number[] {
  const out: number[] = [];
  for (const [i, s] of switches.entries()) {
    const next = switches[i + 1]?.at ?? Number.POSITIVE_INFINITY;
    const t = seen.find((x) => x.bright === s.bright && x.at > s.at && x.at < next + 1000);
    if (t) out.push(t.at - s.at);
  }
  return out;
}

export const percentile = (xs: readonly number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]!) : null;
};
