/** Pure PCM helpers of the audio mixer: 16-bit mono samples, mixed in 32 bits, limited back. */

/** Adds `samples` × sign (1 or −1) into `sum`. */
export function mixInto(sum: Int32Array, samples: Int16Array, sign: 1 | -1): void {
  const n = Math.min(sum.length, samples.length);
  for (let i = 0; i < n; i++) sum[i]! += sign * samples[i]!;
}

/** A mix as s16le bytes, clipped to the 16-bit range. */
export function toPcm(sum: Int32Array): Buffer {
  const out = Buffer.allocUnsafe(sum.length * 2);
  for (let i = 0; i < sum.length; i++) out.writeInt16LE(Math.max(-32768, Math.min(32767, sum[i]!)), 2 * i);
  return out;
}

/** The limiter's ceiling: a mix's peaks are brought down to this (≈ −1 dBFS). */
const LIMIT = 29_000;
/** Per 20 ms tick, how far the gain recovers towards 1 (≈ 1 s time constant). */
const RELEASE = 0.02;

/**
 * A peak limiter for one mix output. Summed inputs exceed the 16-bit range; clipping them would
 * add intermodulation products (for tones, at exactly the frequencies other inputs use: a
 * mix-minus would seem to carry the listener's own voice). The gain drops at once for a tick
 * whose peak is over the ceiling and recovers slowly, ramped sample by sample, so it changes far
 * more slowly than the audio does (as OWT's audio mixer, webrtc's, limits rather than clips).
 */
export class Limiter {
  #gain = 1;

  get gain(): number {
    return this.#gain;
  }

  /** One tick of a mix as s16le bytes, limited (and, for safety, clipped). */
  process(sum: Int32Array): Buffer {
    let peak = 0;
    for (let i = 0; i < sum.length; i++) {
      const v = Math.abs(sum[i]!);
      if (v > peak) peak = v;
    }
    const target = peak > LIMIT ? LIMIT / peak : 1;
    const from = Math.min(target, this.#gain);
    const to = target < this.#gain ? target : this.#gain + (target - this.#gain) * RELEASE;
    this.#gain = to;
    if (from === 1 && to === 1) return toPcm(sum);
    const out = Buffer.allocUnsafe(sum.length * 2);
    const step = (to - from) / Math.max(1, sum.length);
    for (let i = 0; i < sum.length; i++) {
      const v = Math.round(sum[i]! * (from + step * (i + 1)));
      out.writeInt16LE(Math.max(-32768, Math.min(32767, v)), 2 * i);
    }
    return out;
  }
}

/** Root mean square of the samples (0 … 32768). */
export function rms(samples: Int16Array): number {
  let acc = 0;
  for (let i = 0; i < samples.length; i++) acc += samples[i]! * samples[i]!;
  return samples.length ? Math.sqrt(acc / samples.length) : 0;
}

export interface VoiceActivityOptions {
  /** RMS below this is not speech (≈ −44 dBFS). */
  threshold: number;
  /** A challenger must be this many times louder than the active input … */
  ratio: number;
  /** … for this many ticks in a row (20 ms each) before it takes over. */
  holdTicks: number;
  /** Smoothing of each input's level per tick (exponential moving average weight of the new value). */
  alpha: number;
}

const DEFAULT_VAD: VoiceActivityOptions = { threshold: 200, ratio: 1.5, holdTicks: 10, alpha: 0.3 };

/**
 * Voice activity by energy with hysteresis: each input's RMS is smoothed; the loudest input above
 * the threshold becomes active once it has been clearly louder than the active one for a while
 * (200 ms by default), so that the active speaker does not flap between close levels.
 */
export class VoiceActivity {
  readonly #o: VoiceActivityOptions;
  readonly #levels = new Map<string, number>();
  #active: string | undefined;
  #challenger: string | undefined;
  #held = 0;

  constructor(options: Partial<VoiceActivityOptions> = {}) {
    this.#o = { ...DEFAULT_VAD, ...options };
  }

  get active(): string | undefined {
    return this.#active;
  }

  forget(id: string): void {
    this.#levels.delete(id);
    if (this.#active === id) this.#active = undefined;
    if (this.#challenger === id) this.#challenger = undefined;
  }

  /** One tick's RMS per input; returns the active input after it. */
  update(levels: ReadonlyMap<string, number>): string | undefined {
    let loudest: string | undefined;
    let loudestLevel = 0;
    for (const [id, value] of levels) {
      const level = (this.#levels.get(id) ?? value) * (1 - this.#o.alpha) + value * this.#o.alpha;
      this.#levels.set(id, level);
      if (level > loudestLevel) {
        loudest = id;
        loudestLevel = level;
      }
    }
    if (loudest === undefined || loudestLevel < this.#o.threshold || loudest === this.#active) {
      this.#challenger = undefined;
      this.#held = 0;
      return this.#active;
    }
    const activeLevel = this.#active !== undefined ? (this.#levels.get(this.#active) ?? 0) : 0;
    if (loudestLevel < activeLevel * this.#o.ratio) {
      this.#challenger = undefined;
      this.#held = 0;
      return this.#active;
    }
    if (this.#challenger !== loudest) {
      this.#challenger = loudest;
      this.#held = 0;
    }
    this.#held++;
    if (this.#active === undefined || this.#held >= this.#o.holdTicks) {
      this.#active = loudest;
      this.#challenger = undefined;
      this.#held = 0;
    }
    return this.#active;
  }
}
