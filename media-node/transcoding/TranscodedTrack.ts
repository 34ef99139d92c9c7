import { randomInt } from 'node:crypto';
import type { types } from 'mediasoup';
import type { ResolvedVideoTranscode } from '../../shared/media/videoOut.ts';
import { RtpTimeline } from '../pipelines/RtpTimeline.ts';
import { type KeyFrameCodec, startsKeyFrame } from './keyFrames.ts';
import type { PacketListener, SharedTranscoder } from './SharedTranscoder.ts';

/**
 * What one transcoded subscription receives (video, or audio in another codec): a producer on the subscriber's router, fed from a
 * shared transcoder's output with its own SSRC and one continuous timeline, so that an update
 * (another transcoder) is the same track to the subscriber, not a new one to negotiate. The
 * switch is made before the old output is let go, at the new output's first key frame: the
 * picture changes size without a gap a decoder could not bridge.
 */
export class TranscodedTrack<P = ResolvedVideoTranscode> {
  readonly sourceId: string;
  readonly producer: types.Producer;
  readonly #sink: types.DirectTransport;
  /** Video: switches wait for a key frame; audio switches at once (it is never updated today). */
  readonly #codec: KeyFrameCodec | undefined;
  readonly #ssrc: number;
  readonly #timeline: RtpTimeline;
  #current: SharedTranscoder<P>;
  #pending: SharedTranscoder<P> | undefined;
  #closed = false;
  readonly #onPacket: PacketListener<P> = (packet, from) => this.#forward(packet, from);
  readonly #onSourceClose = () => this.close();
  readonly #onPendingClose = () => this.#dropPending();

  private constructor(
    sourceId: string,
    source: SharedTranscoder<P>,
    sink: types.DirectTransport,
    producer: types.Producer,
    ssrc: number,
  ) {
    this.sourceId = sourceId;
    this.#current = source;
    this.#sink = sink;
    this.producer = producer;
    this.#ssrc = ssrc;
    this.#codec = keyFrameCodecOf(source.codec.mimeType);
    this.#timeline = new RtpTimeline(source.codec.clockRate, {
      vp8: this.#codec === 'vp8',
      detectJumps: true,
    });
    source.add(this.#onPacket);
    source.once('close', this.#onSourceClose);
  }

  /** A track of `source` on `router` (the subscriber's), for the stream `sourceId`. */
  static async create<P>(
    router: types.Router,
    sourceId: string,
    source: SharedTranscoder<P>,
  ): Promise<TranscodedTrack<P>> {
    const sink = await router.createDirectTransport();
    const ssrc = randomInt(1_000_000, 0x7fffffff);
    try {
      const producer = await sink.produce({
        kind: source.codec.mimeType.toLowerCase().startsWith('audio/') ? 'audio' : 'video',
        rtpParameters: {
          codecs: [source.codec],
          encodings: [{ ssrc }],
          headerExtensions: [],
          rtcp: { cname: `transcode-${ssrc}`, reducedSize: true },
        },
        appData: { transcodedFrom: sourceId },
      });
      const track = new TranscodedTrack(sourceId, source, sink, producer, ssrc);
      if (source.closed) track.close();
      return track;
    } catch (error) {
      sink.close();
      throw error;
    }
  }

  /** The parameters of the switch waiting for a key frame, if any (else the current ones). */
  get target(): P {
    return (this.#pending ?? this.#current).params;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Moves to `next` at its next key frame; the previous target, if still pending, is let go. */
  switchTo(next: SharedTranscoder<P>): void {
    if (this.#closed || next === this.#pending) return;
    this.#dropPending();
    if (next === this.#current) return;
    this.#pending = next;
    next.add(this.#onPacket);
    next.once('close', this.#onPendingClose);
  }

  #forward(packet: Buffer, from: SharedTranscoder<P>): void {
    if (this.#closed) return;
    if (from === this.#pending) {
      if (this.#codec && !startsKeyFrame(packet, this.#codec)) return;
      const previous = this.#current;
      this.#current = from;
      this.#pending = undefined;
      from.off('close', this.#onPendingClose);
      from.once('close', this.#onSourceClose);
      previous.off('close', this.#onSourceClose);
      previous.remove(this.#onPacket);
      this.#timeline.newRun();
    } else if (from !== this.#current) return;
    const copy = Buffer.from(packet);
    copy.writeUInt32BE(this.#ssrc, 8);
    this.#timeline.place(copy, performance.now());
    this.producer.send(copy);
  }

  #dropPending(): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = undefined;
    pending.off('close', this.#onPendingClose);
    pending.remove(this.#onPacket);
  }

  /** Closes its producer (the subscriber's consumer follows) and leaves its transcoders. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#dropPending();
    this.#current.off('close', this.#onSourceClose);
    this.#current.remove(this.#onPacket);
    this.#sink.close();
  }
}

function keyFrameCodecOf(mimeType: string): KeyFrameCodec | undefined {
  const [kind, codec] = mimeType.toLowerCase().split('/');
  if (kind === 'audio') return undefined;
  if (codec === 'h264' || codec === 'vp8' || codec === 'vp9') return codec;
  throw new Error(`no key-frame detection for ${mimeType}`);
}
