// Measuring instruments for the mixer's acceptance tests (issue #13), in the page: synthetic
// publishers whose frames and tones can be recognised after scaling, mixing and lossy coding,
// and samplers that read them back from received tracks.

/** A rectangle in fractions of a frame (OWT's region area). */
export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export type Rgb = [number, number, number];

// The synthetic frame (fractions of its height): a solid colour on top, then two codes of
// 2 rows × 16 black/white blocks each (a block is 1/16 of the width, so it stays ≥ 10 px even
// in a 1/16-area region of a 640-wide mix): 24 bits of wall-clock ms + CRC-8, then 24 bits of
// frame counter + CRC-8. Blocks are sampled at their centres, so edge blur does not matter.
const COLOUR_ZONE = { top: 0.08, bottom: 0.42 };
const CODE_TOP = 0.5;
const ROW_HEIGHT = 0.12;
const COLS = 16;
/** The source's aspect (width / height): a decoder needs it to find letterboxed or cropped content. */
export const SOURCE_ASPECT = 4 / 3;

function crc8(value: number): number {
  let crc = 0;
  for (const byte of [(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff]) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  // Non-zero for a value of 0, so an all-black area never validates.
  return crc ^ 0x5a;
}

/** The 32 bits (MSB first) of a 24-bit value with its checksum. */
function codeBits(value: number): number[] {
  const word = ((value & 0xffffff) * 256 + crc8(value & 0xffffff)) >>> 0;
  return Array.from({ length: 32 }, (_, i) => (word >>> (31 - i)) & 1);
}

/** Wall-clock ms in 24 bits (wraps every 4.6 h; differences are taken modulo 2^24). */
const stampNow = () => Date.now() % 0x1000000;
const stampDelta = (later: number, earlier: number) => {
  const d = (later - earlier) & 0xffffff;
  return d > 0x800000 ? d - 0x1000000 : d;
};

export interface SyntheticOptions {
  colour: Rgb;
  toneHz: number;
  fps?: number;
  width?: number;
  height?: number;
  /** The tone's gain (0..1); change it with setGain for "loudest speaker" tests. */
  gain?: number;
}

/** Paints one synthetic frame (colour, stamp code, counter code) into the box x, y, w×h of `g`. */
function paintFrame(
  g: CanvasRenderingContext2D,
  box: { x: number; y: number; w: number; h: number },
  colour: Rgb,
  stamp: number,
  counter: number,
) {
  g.fillStyle = `rgb(${colour.join(',')})`;
  g.fillRect(box.x, box.y, box.w, box.h);
  const bw = box.w / COLS;
  const rh = box.h * ROW_HEIGHT;
  [codeBits(stamp), codeBits(counter)].forEach((bits, c) => {
    bits.forEach((bit, i) => {
      const row = c * 2 + Math.floor(i / COLS);
      g.fillStyle = bit ? '#fff' : '#000';
      g.fillRect(box.x + (i % COLS) * bw, box.y + box.h * CODE_TOP + row * rh, bw, rh);
    });
  });
}

/** A synthetic participant: a painted canvas and an oscillator, as one MediaStream. */
export function createSynthetic(options: SyntheticOptions) {
  const { colour, toneHz, fps = 30, width = 640, height = 480 } = options;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext('2d')!;
  let counter = 0;
  let painting = true;
  const paint = () => {
    if (!painting) return;
    counter++;
    paintFrame(g, { x: 0, y: 0, w: width, h: height }, colour, stampNow(), counter);
  };
  paint();
  // A timer, not requestAnimationFrame: rAF stops in pages that are not shown.
  const timer = setInterval(paint, 1000 / fps);
  const video = canvas.captureStream(fps).getVideoTracks()[0]!;

  const audio = new AudioContext();
  const oscillator = new OscillatorNode(audio, { frequency: toneHz });
  const gain = new GainNode(audio, { gain: options.gain ?? 0.3 });
  const out = new MediaStreamAudioDestinationNode(audio);
  oscillator.connect(gain).connect(out);
  oscillator.start();
  void audio.resume();

  return {
    stream: new MediaStream([out.stream.getAudioTracks()[0]!, video]),
    setGain: (value: number) => gain.gain.setValueAtTime(value, audio.currentTime),
    /** Stops (or restarts) painting: the canvas track then sends no new frames. */
    setPainting: (on: boolean) => {
      painting = on;
    },
    frames: () => counter,
    close() {
      clearInterval(timer);
      video.stop();
      void audio.close();
    },
  };
}

/**
 * A mix made in the page, as a reference for the instruments: sources painted into regions of
 * one canvas (4:3 sources letterboxed into regions of another aspect), each with its own counter
 * and its stamp delayed by `lagMs` (to prove the cross-region spread is measured). Video only.
 */
export function createReferenceMix(options: {
  colours: Rgb[];
  regions: Rect[];
  lagMs?: number[];
  width?: number;
  height?: number;
  fps?: number;
}) {
  const { colours, regions, lagMs = [], width = 640, height = 480, fps = 30 } = options;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext('2d')!;
  let counter = 0;
  const boxes = regions.map((r) => {
    const box = candidates(r, width, height)[1] ?? candidates(r, width, height)[0]!;
    return { x: box.left, y: box.top, w: box.width, h: box.height };
  });
  const paint = () => {
    counter++;
    g.fillStyle = '#000';
    g.fillRect(0, 0, width, height);
    boxes.forEach((box, i) => {
      paintFrame(g, box, colours[i % colours.length]!, stampNow() - (lagMs[i] ?? 0), counter + i * 1000);
    });
  };
  paint();
  const timer = setInterval(paint, 1000 / fps);
  const video = canvas.captureStream(fps).getVideoTracks()[0]!;
  return {
    stream: new MediaStream([video]),
    close() {
      clearInterval(timer);
      video.stop();
    },
  };
}

// ---- Video sampler -------------------------------------------------------------------------

interface RegionSample {
  colour: Rgb;
  stamp: number | null;
  counter: number | null;
  /** PSNR (dB) against the source frame regenerated from the codes read (some frames only). */
  psnr?: number;
}
interface FrameSample {
  /** Wall-clock ms when the frame was handed to the compositor (rVFC) or drawn. */
  at: number;
  regions: RegionSample[];
}

/** The content rectangles a mixer may have put a 4:3 source in, within a region of a w×h frame. */
function candidates(region: Rect, w: number, h: number): Rect[] {
  const px = { x: region.left * w, y: region.top * h, w: region.width * w, h: region.height * h };
  const aspect = px.w / px.h;
  const out: Rect[] = [{ left: px.x, top: px.y, width: px.w, height: px.h }];
  if (Math.abs(aspect - SOURCE_ASPECT) > 0.02) {
    // Letterbox: the whole source inside; crop: the source fills the region, its overflow cut.
    const fitW = aspect > SOURCE_ASPECT ? px.h * SOURCE_ASPECT : px.w;
    const fitH = aspect > SOURCE_ASPECT ? px.h : px.w / SOURCE_ASPECT;
    out.push({ left: px.x + (px.w - fitW) / 2, top: px.y + (px.h - fitH) / 2, width: fitW, height: fitH });
    const fillW = aspect > SOURCE_ASPECT ? px.w : px.h * SOURCE_ASPECT;
    const fillH = aspect > SOURCE_ASPECT ? px.w / SOURCE_ASPECT : px.h;
    out.push({
      left: px.x + (px.w - fillW) / 2,
      top: px.y + (px.h - fillH) / 2,
      width: fillW,
      height: fillH,
    });
  }
  return out;
}

function luma(data: Uint8ClampedArray, w: number, x: number, y: number): number {
  const i = (Math.round(y) * w + Math.round(x)) * 4;
  return 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
}

/** Reads one 32-bit code (2 rows from `row0`) in content rectangle c; null unless clear and valid. */
function readCode(data: Uint8ClampedArray, w: number, h: number, c: Rect, row0: number): number | null {
  let word = 0;
  for (let i = 0; i < 32; i++) {
    const row = row0 + Math.floor(i / COLS);
    const x = c.left + ((i % COLS) + 0.5) * (c.width / COLS);
    const y = c.top + (CODE_TOP + (row + 0.5) * ROW_HEIGHT) * c.height;
    if (x < 0 || y < 0 || x >= w || y >= h) return null;
    const l = luma(data, w, x, y);
    // A grey block is a frame in transition or a wrong guess of the content area: not a reading.
    if (l > 70 && l < 185) return null;
    word = (word * 2 + (l >= 128 ? 1 : 0)) >>> 0;
  }
  const value = word >>> 8;
  return crc8(value) === (word & 0xff) ? value : null;
}

function meanColour(data: Uint8ClampedArray, w: number, c: Rect): Rgb {
  const sum = [0, 0, 0];
  let n = 0;
  const x0 = c.left + c.width * 0.1;
  const x1 = c.left + c.width * 0.9;
  const y0 = c.top + c.height * COLOUR_ZONE.top;
  const y1 = c.top + c.height * COLOUR_ZONE.bottom;
  const step = Math.max(1, Math.floor((x1 - x0) / 24));
  for (let y = Math.ceil(y0); y < y1; y += step)
    for (let x = Math.ceil(x0); x < x1; x += step) {
      const i = (y * w + x) * 4;
      sum[0]! += data[i]!;
      sum[1]! += data[i + 1]!;
      sum[2]! += data[i + 2]!;
      n++;
    }
  return sum.map((s) => Math.round(s / Math.max(1, n))) as Rgb;
}

let reference: CanvasRenderingContext2D | undefined;

/**
 * PSNR of content rectangle c of the frame against the source frame it shows, regenerated at
 * that size from the stamp and counter read: the "scaled source" reference of acceptance 1,
 * without sending references around. The colour is the one measured in the region, not the
 * painted one: browsers' RGB→YUV→RGB shifts saturated colours (red's green 40 → 7) on plain
 * forwarding too, a constant of the measuring chain, not of the mixer.
 */
function regionPsnr(data: Uint8ClampedArray, w: number, h: number, c: Rect, source: RegionSample) {
  const rw = Math.round(c.width);
  const rh = Math.round(c.height);
  if (rw < 16 || rh < 12 || source.stamp === null || source.counter === null) return undefined;
  reference ??= document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;
  if (reference.canvas.width !== rw || reference.canvas.height !== rh)
    Object.assign(reference.canvas, { width: rw, height: rh });
  paintFrame(reference, { x: 0, y: 0, w: rw, h: rh }, source.colour, source.stamp, source.counter);
  const ref = reference.getImageData(0, 0, rw, rh).data;
  const x0 = Math.round(c.left);
  const y0 = Math.round(c.top);
  let se = 0;
  let n = 0;
  for (let y = 0; y < rh; y++) {
    const fy = y0 + y;
    if (fy < 0 || fy >= h) continue;
    for (let x = 0; x < rw; x++) {
      const fx = x0 + x;
      if (fx < 0 || fx >= w) continue;
      const i = (fy * w + fx) * 4;
      const j = (y * rw + x) * 4;
      for (let k = 0; k < 3; k++) se += (data[i + k]! - ref[j + k]!) ** 2;
      n += 3;
    }
  }
  return n ? 10 * Math.log10((255 * 255) / Math.max(se / n, 1e-3)) : undefined;
}

function sampleRegion(
  data: Uint8ClampedArray,
  w: number,
  h: number,
  region: Rect,
  withPsnr: boolean,
): RegionSample {
  const all = candidates(region, w, h);
  for (const c of all) {
    const stamp = readCode(data, w, h, c, 0);
    if (stamp === null) continue;
    const sample: RegionSample = {
      colour: meanColour(data, w, c),
      stamp,
      counter: readCode(data, w, h, c, 2),
    };
    if (withPsnr) {
      const psnr = regionPsnr(data, w, h, c, sample);
      if (psnr !== undefined) sample.psnr = psnr;
    }
    return sample;
  }
  // No code readable: still report the colour where a stretched source would be.
  return { colour: meanColour(data, w, all[0]!), stamp: null, counter: null };
}

/** Largest width frames are analysed at (a 1280-wide mix is halved: blocks stay ≥ 5 px). */
const MAX_WIDTH = 640;
const MAX_SAMPLES = 3000;

/**
 * Samples every frame of a video track: per region colour, stamp and counter, and the PSNR of
 * every third frame's regions.
 */
export function createVideoSampler(track: MediaStreamTrack, initialRegions: Rect[]) {
  let regions = initialRegions;
  const samples: FrameSample[] = [];
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  document.body.append(video);
  void video.play().catch(() => {});
  const canvas = document.createElement('canvas');
  const g = canvas.getContext('2d', { willReadFrequently: true })!;
  let stopped = false;
  let frameNo = 0;
  let size = { width: 0, height: 0 };

  const sample = () => {
    const at = Date.now();
    if (!video.videoWidth) return;
    const scale = Math.min(1, MAX_WIDTH / video.videoWidth);
    const w = Math.round(video.videoWidth * scale);
    const h = Math.round(video.videoHeight * scale);
    if (canvas.width !== w || canvas.height !== h) Object.assign(canvas, { width: w, height: h });
    size = { width: video.videoWidth, height: video.videoHeight };
    g.drawImage(video, 0, 0, w, h);
    const { data } = g.getImageData(0, 0, w, h);
    const withPsnr = ++frameNo % 3 === 0;
    samples.push({ at, regions: regions.map((r) => sampleRegion(data, w, h, r, withPsnr)) });
    if (samples.length > MAX_SAMPLES) samples.splice(0, samples.length - MAX_SAMPLES);
  };
  const hasRvfc = 'requestVideoFrameCallback' in HTMLVideoElement.prototype;
  const onFrame = () => {
    if (stopped) return;
    sample();
    video.requestVideoFrameCallback(onFrame);
  };
  let timer: ReturnType<typeof setInterval> | undefined;
  if (hasRvfc) video.requestVideoFrameCallback(onFrame);
  else timer = setInterval(sample, 1000 / 60);

  return {
    /** Regions to sample from now on (a layout change); returns the time it took effect. */
    setRegions(next: Rect[]) {
      regions = next;
      return Date.now();
    },
    size: () => size,
    /** Summary of the frames sampled at or after `since` (wall-clock ms; all by default). */
    report(since = 0, palette: Record<string, Rgb> = {}) {
      return summarise(
        samples.filter((s) => s.at >= since),
        palette,
        hasRvfc,
      );
    },
    close() {
      stopped = true;
      clearInterval(timer);
      video.remove();
    },
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : Number.NaN;

/** The palette entry nearest to a colour, if near enough to be it (else null). */
export function nearest(colour: Rgb, palette: Record<string, Rgb>, maxDistance = 60): string | null {
  let best: string | null = null;
  let bestD = Number.POSITIVE_INFINITY;
  for (const [name, c] of Object.entries(palette)) {
    const d = Math.hypot(colour[0] - c[0], colour[1] - c[1], colour[2] - c[2]);
    if (d < bestD) [best, bestD] = [name, d];
  }
  return bestD <= maxDistance ? best : null;
}

function summarise(frames: FrameSample[], palette: Record<string, Rgb>, rvfc: boolean) {
  const gaps = frames.slice(1).map((f, i) => f.at - frames[i]!.at);
  const nRegions = frames[0]?.regions.length ?? 0;
  const regions = Array.from({ length: nRegions }, (_, r) => {
    const seen = frames.map((f) => f.regions[r]!).filter(Boolean);
    const decoded = frames.filter((f) => f.regions[r]?.stamp != null);
    // Latency: from the stamp to the first frame that shows it (repeated frames are not new).
    const latencies: number[] = [];
    let last: number | null = null;
    for (const f of decoded) {
      const stamp = f.regions[r]!.stamp!;
      if (stamp !== last) latencies.push(stampDelta(f.at % 0x1000000, stamp));
      last = stamp;
    }
    latencies.sort((a, b) => a - b);
    const counters = seen.map((s) => s.counter).filter((c): c is number => c !== null);
    // The colour named by most frames (robust to a few transition frames).
    const names = new Map<string, number>();
    for (const s of seen) {
      const name = nearest(s.colour, palette) ?? '?';
      names.set(name, (names.get(name) ?? 0) + 1);
    }
    const colourName = [...names.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
    const mid = seen[Math.floor(seen.length / 2)]?.colour ?? null;
    const psnrs = seen.flatMap((s) => (s.psnr === undefined ? [] : [s.psnr])).sort((a, b) => a - b);
    return {
      colour: mid,
      colourName,
      colourShare: colourName ? (names.get(colourName) ?? 0) / Math.max(1, seen.length) : 0,
      decodeRate: decoded.length / Math.max(1, frames.length),
      latency: {
        n: latencies.length,
        p50: percentile(latencies, 0.5),
        p95: percentile(latencies, 0.95),
        max: latencies.at(-1) ?? Number.NaN,
      },
      psnr: {
        n: psnrs.length,
        p50: Math.round(percentile(psnrs, 0.5) * 10) / 10,
        min: Math.round((psnrs[0] ?? Number.NaN) * 10) / 10,
      },
      counterFirst: counters[0] ?? null,
      counterLast: counters.at(-1) ?? null,
      counterAdvance: counters.length ? counters.at(-1)! - counters[0]! : 0,
      newStamps: latencies.length,
    };
  });
  // Cross-region spread: in frames where every region decoded, the largest stamp difference.
  const spreads = frames
    .filter((f) => f.regions.length > 1 && f.regions.every((r) => r.stamp !== null))
    .map((f) => {
      const s = f.regions.map((r) => r.stamp!);
      return Math.max(...s.map((a) => Math.abs(stampDelta(a, s[0]!)))) + 0;
    })
    .sort((a, b) => a - b);
  // The same spread in frames, for a reference mix whose regions share one counter offset by
  // 1000 per region: a timer that slips on a busy machine stretches a frame past 33 ms, not this.
  const counterSpreads = frames
    .filter((f) => f.regions.length > 1 && f.regions.every((r) => r.counter !== null))
    .map((f) => {
      const c = f.regions.map((r) => r.counter! % 1000);
      return Math.max(...c.map((a) => Math.abs(((((a - c[0]! + 500) % 1000) + 1000) % 1000) - 500)));
    })
    .sort((a, b) => a - b);
  return {
    frames: frames.length,
    rvfc,
    first: frames[0]?.at ?? null,
    last: frames.at(-1)?.at ?? null,
    maxGapMs: gaps.length ? Math.max(...gaps) : null,
    fps: frames.length > 1 ? ((frames.length - 1) * 1000) / (frames.at(-1)!.at - frames[0]!.at) : 0,
    regions,
    spread: {
      n: spreads.length,
      p50: percentile(spreads, 0.5),
      p95: percentile(spreads, 0.95),
      max: spreads.at(-1) ?? Number.NaN,
    },
    counterSpread: {
      n: counterSpreads.length,
      p50: percentile(counterSpreads, 0.5),
      p95: percentile(counterSpreads, 0.95),
      max: counterSpreads.at(-1) ?? Number.NaN,
    },
  };
}

export type VideoReport = ReturnType<typeof summarise>;

// ---- Audio tone meter ----------------------------------------------------------------------

/** Level of each tone above the spectrum's median, in dB, sampled every 100 ms. */
export function createToneMeter(track: MediaStreamTrack, tonesHz: number[]) {
  // Chromium feeds a remote track to WebAudio only while a media element plays it.
  const element = new Audio();
  element.muted = true;
  element.srcObject = new MediaStream([track]);
  void element.play().catch(() => {});
  const context = new AudioContext();
  void context.resume();
  const analyser = new AnalyserNode(context, { fftSize: 8192, smoothingTimeConstant: 0 });
  context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  const bins = new Float32Array(analyser.frequencyBinCount);
  const binHz = context.sampleRate / analyser.fftSize;
  const windows: { at: number; levels: number[]; peaks: number[] }[] = [];
  const timer = setInterval(() => {
    analyser.getFloatFrequencyData(bins);
    const sorted = Float32Array.from(bins).sort();
    const floor = Math.max(sorted[Math.floor(sorted.length / 2)]!, -140);
    const peaks = tonesHz.map((hz) => {
      const centre = Math.round(hz / binHz);
      let peak = -Infinity;
      for (let b = centre - 2; b <= centre + 2; b++) peak = Math.max(peak, bins[b] ?? -Infinity);
      return Math.max(peak, -200);
    });
    windows.push({ at: Date.now(), levels: peaks.map((p) => p - floor), peaks });
    if (windows.length > 1200) windows.shift();
  }, 100);
  return {
    /**
     * Per tone over windows since `since`: the share of windows where it stood out (≥ thresholdDb
     * above the median and above an absolute floor), and its median absolute level (dBFS).
     */
    report(since = 0, thresholdDb = 25) {
      const w = windows.filter((x) => x.at >= since);
      return tonesHz.map((hz, i) => {
        const peaks = w.map((x) => x.peaks[i]!).sort((a, b) => a - b);
        return {
          hz,
          windows: w.length,
          presentShare:
            w.filter((x) => x.levels[i]! >= thresholdDb && x.peaks[i]! > -80).length / Math.max(1, w.length),
          medianDb: percentile(peaks, 0.5),
        };
      });
    },
    /** The loudest of the tones in each window since `since` (index into tonesHz, or -1 for none). */
    loudest(since = 0) {
      return windows
        .filter((x) => x.at >= since)
        .map((x) => {
          const best = x.peaks.reduce((b, p, i) => (p > x.peaks[b]! ? i : b), 0);
          return { at: x.at, tone: x.peaks[best]! > -80 ? best : -1 };
        });
    },
    close() {
      clearInterval(timer);
      element.srcObject = null;
      void context.close();
    },
  };
}

export type ToneReport = ReturnType<ReturnType<typeof createToneMeter>['report']>;
