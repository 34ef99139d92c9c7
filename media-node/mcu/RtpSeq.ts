import { randomInt } from 'node:crypto';
import type { types } from 'mediasoup';

/** Ahead of the last count read: covers what was sent since (≤ 0.5 s at up to ~5 Mbit/s). */
const MARGIN = 500;

/**
 * RTP sequence numbers that continue across ffmpeg restarts of one output. ffmpeg starts each run
 * at a random sequence number; a restarted encoder's jump (often backwards) makes receivers drop
 * its packets as "too late". Each run starts instead (`-seq`) past what the producer has received
 * so far, read from its stats every 500 ms: a small forward jump, which receivers take as loss.
 */
export class RtpSeq {
  readonly #producer: types.Producer;
  readonly #first = randomInt(0, 30_000);
  #received = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(producer: types.Producer) {
    this.#producer = producer;
    this.#timer = setInterval(() => void this.#read(), 500);
    this.#timer.unref();
  }

  async #read(): Promise<void> {
    if (this.#producer.closed) return this.close();
    const stats = await this.#producer.getStats().catch(() => []);
    const count = stats.reduce((n, s) => n + (s.packetCount ?? 0), 0);
    if (count > this.#received) this.#received = count;
  }

  /** `-seq N` for the next run (ffmpeg's RTP muxer option). */
  args(): string[] {
    const next = this.#received === 0 ? this.#first : this.#first + this.#received + MARGIN;
    return ['-seq', String(next % 65_536)];
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
