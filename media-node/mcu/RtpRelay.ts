import { createSocket, type Socket } from 'node:dgram';
import type { RtpOutput } from '../pipelines/RtpBridge.ts';
import { RtpTimeline } from '../pipelines/RtpTimeline.ts';

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
 *
 * With `wallClock`, a frame's timestamp is the wall-clock time its first packet left the encoder
 * (on the clock rate), not ffmpeg's frame count: a mixer's frames are written on a Node timer
 * that a busy machine delays or skips, and frame-count timestamps then fall behind the frames'
 * arrival. Receivers read that as network delay and grow their jitter buffers, for good (the
 * latency ratchets up with every stall). Wall-clock timestamps keep the arrival jitter at zero.
 */
export class RtpRelay {
  readonly #clockRate: number;
  readonly #timeline: RtpTimeline;
  readonly #in: Socket;
  readonly #out: Socket;
  readonly #remotePort: number;
  #url = '';
  readonly #wallClock: boolean;
  /** wallClock: the input timestamp of the frame being relayed, and the output one it maps to. */
  #frameIn: number | undefined;
  #frameOut = 0;
  #newFrameRun = true;
  #closed = false;

  private constructor(output: RtpOutput, clockRate: number, vp8: boolean, wallClock: boolean) {
    const url = new URL(output.url);
    this.#remotePort = Number(url.port);
    this.#clockRate = clockRate;
    this.#timeline = new RtpTimeline(clockRate, { vp8 });
    this.#wallClock = wallClock;
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
   * `wallClock`: timestamps from the wall clock (see the class comment).
   */
  static async open(output: RtpOutput, clockRate: number, vp8 = false, wallClock = false): Promise<RtpRelay> {
    const relay = new RtpRelay(output, clockRate, vp8, wallClock);
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
    this.#timeline.newRun();
    this.#newFrameRun = true;
  }

  #relay(packet: Buffer): void {
    if (this.#closed || packet.length < 12 || packet[0]! >> 6 !== 2) return;
    const pt = packet[1]! & 0x7f;
    // RTCP arriving here (payload types 72–76 with the marker bit) is not relayed.
    if (pt >= 72 && pt <= 76) return;
    const now = performance.now();
    const ts = packet.readUInt32BE(4);
    const first = !this.#timeline.started;
    this.#timeline.place(packet, now);
    if (this.#wallClock) packet.writeUInt32BE(this.#wallClockTs(ts, now, first), 4);
    this.#out.send(packet, this.#remotePort, '127.0.0.1');
  }

  /** A frame's packets share one timestamp: the first packet's arrival, always ahead of the last frame's. */
  #wallClockTs(ts: number, now: number, first: boolean): number {
    if (ts !== this.#frameIn || this.#newFrameRun) {
      this.#newFrameRun = false;
      this.#frameIn = ts;
      const clock = Math.round((now * this.#clockRate) / 1000) >>> 0;
      // Two frames within one tick of the clock (a burst) still get increasing timestamps.
      this.#frameOut = first || ((clock - this.#frameOut) | 0) > 0 ? clock : (this.#frameOut + 1) >>> 0;
    }
    return this.#frameOut;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#in.close();
    this.#out.close();
  }
}
