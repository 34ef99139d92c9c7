/**
 * One continuous RTP timeline made of several runs of packets (an encoder restarted, another
 * encoder switched to): sequence numbers, timestamps and VP8 picture ids of each run are shifted
 * so that its first packet comes right after the last one sent, its timestamp one wall-clock gap
 * later. Receivers take a run that starts behind the last decoded frame for old frames and drop
 * it for as long as that lasts; a jump ahead stalls their jitter buffer. Packets within a run keep
 * their order and spacing. Works on the packet in place.
 */
export class RtpTimeline {
  readonly #clockRate: number;
  readonly #vp8: boolean;
  /** An input jump this long (in timestamp ticks or sequence numbers) is a new run nobody announced. */
  readonly #jump: { ticks: number; seq: number } | undefined;
  #newRun = true;
  #seqOffset = 0;
  #tsOffset = 0;
  #picOffset = 0;
  #lastInSeq: number | undefined;
  #lastInTs = 0;
  #lastSeq: number | undefined;
  #lastTs = 0;
  #lastAt = 0;
  #lastPic: number | undefined;

  /**
   * `vp8`: picture ids continue too (ffmpeg restarts them at 0). `detectJumps`: an input that
   * leaps (an encoder restarted under the same SSRC) starts a new run by itself.
   */
  constructor(clockRate: number, options: { vp8?: boolean; detectJumps?: boolean } = {}) {
    this.#clockRate = clockRate;
    this.#vp8 = options.vp8 ?? false;
    this.#jump = options.detectJumps ? { ticks: 5 * clockRate, seq: 1000 } : undefined;
  }

  /** Whether any packet went out yet. */
  get started(): boolean {
    return this.#lastSeq !== undefined;
  }

  /** The next packet starts a new run. */
  newRun(): void {
    this.#newRun = true;
  }

  /** Shifts `packet` (an RTP packet) onto the timeline; `now` in milliseconds (performance.now()). */
  place(packet: Buffer, now: number): void {
    const seq = packet.readUInt16BE(2);
    const ts = packet.readUInt32BE(4);
    if (this.#jump && this.#lastInSeq !== undefined && !this.#newRun) {
      const seqDelta = Math.abs(((seq - this.#lastInSeq + 0x8000) & 0xffff) - 0x8000);
      const tsDelta = Math.abs((ts - this.#lastInTs) | 0);
      if (seqDelta > this.#jump.seq || tsDelta > this.#jump.ticks) this.#newRun = true;
    }
    this.#lastInSeq = seq;
    this.#lastInTs = ts;
    const picAt = this.#vp8 ? vp8PictureIdAt(packet) : undefined;
    if (this.#newRun) {
      this.#newRun = false;
      if (this.#lastSeq !== undefined) {
        const gapTicks = Math.max(1, Math.round(((now - this.#lastAt) * this.#clockRate) / 1000));
        this.#seqOffset = (this.#lastSeq + 1 - seq) & 0xffff;
        this.#tsOffset = (this.#lastTs + gapTicks - ts) >>> 0;
      }
      if (picAt !== undefined && this.#lastPic !== undefined)
        this.#picOffset = (this.#lastPic + 1 - (packet[picAt]! & 0x7f)) & 0x7f;
    }
    if (picAt !== undefined) {
      const pic = ((packet[picAt]! & 0x7f) + this.#picOffset) & 0x7f;
      packet[picAt] = pic;
      this.#lastPic = pic;
    }
    const outSeq = (seq + this.#seqOffset) & 0xffff;
    const outTs = (ts + this.#tsOffset) >>> 0;
    packet.writeUInt16BE(outSeq, 2);
    packet.writeUInt32BE(outTs, 4);
    // A late packet (reordered) does not move the timeline's end back.
    if (this.#lastSeq === undefined || ((outSeq - this.#lastSeq) & 0xffff) < 0x8000) {
      this.#lastSeq = outSeq;
      this.#lastTs = outTs;
      this.#lastAt = now;
    }
  }
}

/** Where an RTP packet's payload starts (after CSRCs and header extensions), or undefined if it has none. */
export function rtpPayloadOffset(packet: Buffer): number | undefined {
  if (packet.length < 12) return undefined;
  let at = 12 + 4 * (packet[0]! & 0x0f);
  if (packet[0]! & 0x10) {
    if (packet.length < at + 4) return undefined;
    at += 4 + 4 * packet.readUInt16BE(at + 2);
  }
  return at < packet.length ? at : undefined;
}

/**
 * Where a VP8 RTP packet's 7-bit picture id is (ffmpeg's packetizer writes one, M = 0), or
 * undefined when it has none.
 */
export function vp8PictureIdAt(packet: Buffer): number | undefined {
  const at = rtpPayloadOffset(packet);
  if (at === undefined || packet.length < at + 3) return undefined;
  // X: extended control bits present; I: picture id present; M = 0: 7 bits.
  if (!(packet[at]! & 0x80) || !(packet[at + 1]! & 0x80) || packet[at + 2]! & 0x80) return undefined;
  return at + 2;
}
