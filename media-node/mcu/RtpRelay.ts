import { createSocket, type Socket } from 'node:dgram';
import type { RtpOutput } from '../pipelines/RtpBridge.ts';

/**
 * Between a mixer's encoder ffmpeg and its output producer: RTP whose sequence numbers and
 * timestamps continue across ffmpeg runs. Each run of ffmpeg starts at a random RTP timestamp
 * (no option sets it) and restarts VP8 picture ids: a receiver takes a restarted encoder's frames
 * for old ones (timestamp behind the last decoded) and drops them for as long as that lasts,
 * so after a crash the mixed video may never resume. The relay shifts each run onto the
 * previous one's timeline (its first packet one wall-clock gap after the last one sent).
 * mediasoup accepts the output's RTP only from the tuple it was connected to: the relay sends
 * from it. ffmpeg's RTCP is not relayed (`-rtpflags skip_rtcp`); mediasoup reports to
 * subscribers itself.
 */
export class RtpRelay {
  readonly #clockRate: number;
  readonly #vp8: boolean;
  readonly #in: Socket;
  readonly #out: Socket;
  readonly #remotePort: number;
  #url = '';
  #newRun = true;
  #seqOffset = 0;
  #tsOffset = 0;
  #lastSeq: number | undefined;
  #lastTs = 0;
  #lastAt = 0;
  #picOffset = 0;
  #lastPic: number | undefined;
  #closed = false;

  private constructor(output: RtpOutput, clockRate: number, vp8: boolean) {
    const url = new URL(output.url);
    this.#remotePort = Number(url.port);
    this.#clockRate = clockRate;
    this.#vp8 = vp8;
    this.#in = createSocket('udp4');
    this.#out = createSocket('udp4');
    this.#in.on('message', (packet) => this.#relay(packet));
    // A send to a port gone (the router closed) is no crash.
    this.#in.on('error', () => {});
    this.#out.on('error', () => {});
  }

  /**
   * A relay for `output` (which must not be used by ffmpeg directly any more). `vp8`: VP8 picture
   * ids continue too (ffmpeg restarts them at 0; mediasoup and browsers drop "older" frames).
   */
  static async open(output: RtpOutput, clockRate: number, vp8 = false): Promise<RtpRelay> {
    const relay = new RtpRelay(output, clockRate, vp8);
    const local = Number(new URL(output.url).searchParams.get('localrtpport'));
    await Promise.all([
      new Promise<void>((resolve) => relay.#in.bind(0, '127.0.0.1', () => resolve())),
      new Promise<void>((resolve) => relay.#out.bind(local, '127.0.0.1', () => resolve())),
    ]);
    relay.#url = `rtp://127.0.0.1:${relay.#in.address().port}?pkt_size=1200`;
    return relay;
  }

  /** ffmpeg's RTP output arguments (before `-f rtp <url>`): no RTCP of its own. */
  get url(): string {
    return this.#url;
  }

  /** A new ffmpeg run starts: its first packet is put right after the last one relayed. */
  newRun(): void {
    this.#newRun = true;
  }

  #relay(packet: Buffer): void {
    if (this.#closed || packet.length < 12 || packet[0]! >> 6 !== 2) return;
    const pt = packet[1]! & 0x7f;
    // RTCP arriving here (payload types 72–76 with the marker bit) is not relayed.
    if (pt >= 72 && pt <= 76) return;
    const seq = packet.readUInt16BE(2);
    const ts = packet.readUInt32BE(4);
    const now = performance.now();
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
    if (this.#lastSeq === undefined || ((outSeq - this.#lastSeq) & 0xffff) < 0x8000) {
      this.#lastSeq = outSeq;
      this.#lastTs = outTs;
      this.#lastAt = now;
    }
    this.#out.send(packet, this.#remotePort, '127.0.0.1');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#in.close();
    this.#out.close();
  }
}

/**
 * Where a VP8 RTP packet's 7-bit picture id is (ffmpeg's packetizer writes one, M = 0), or
 * undefined when it has none.
 */
function vp8PictureIdAt(packet: Buffer): number | undefined {
  let at = 12 + 4 * (packet[0]! & 0x0f);
  if (packet[0]! & 0x10) {
    if (packet.length < at + 4) return undefined;
    at += 4 + 4 * packet.readUInt16BE(at + 2);
  }
  if (packet.length < at + 3) return undefined;
  // X: extended control bits present; I: picture id present; M = 0: 7 bits.
  if (!(packet[at]! & 0x80) || !(packet[at + 1]! & 0x80) || packet[at + 2]! & 0x80) return undefined;
  return at + 2;
}
