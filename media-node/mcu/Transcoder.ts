import { ValidationError } from '../../shared/errors.ts';
import { type TranscodeParams, TranscodeParamsSchema } from '../../shared/protocol/commands.ts';
import type { FfmpegProcess } from '../ffmpeg/FfmpegProcess.ts';
import { exactSizeFilters, videoEncoderArgs } from '../ffmpeg/videoEncoders.ts';
import { OneStreamTranscoder } from '../pipelines/OneStreamTranscoder.ts';
import type { PipelineContext, PipelineSpec } from '../pipelines/Pipeline.ts';

/** Until the first output frame, key frames are asked for this often (a PLI may be lost, a sender late). */
const KEY_FRAME_RETRY_MS = 1000;

/**
 * One video stream of the room re-encoded (codec, size, frame rate, bit rate, key-frame interval)
 * and produced back into the room as a new stream, owned by `pipeline:<id>`; or, with `publish:
 * false`, kept as a producer of the room's router that only its owner consumes (transcoding on
 * subscribe: media-node/transcoding).
 */
export class Transcoder extends OneStreamTranscoder {
  readonly #params: TranscodeParams;
  readonly #inputId: string;
  /** Stops asking for key frames (at the first frame). */
  #stopKeyFrames: (() => void) | undefined;
  #published = false;
  readonly #publish: boolean;

  constructor(spec: PipelineSpec, ctx: PipelineContext, options: { publish?: boolean } = {}) {
    super(spec, ctx, 'video');
    this.#publish = options.publish ?? true;
    const parsed = TranscodeParamsSchema.safeParse(spec.params ?? {});
    if (!parsed.success)
      throw new ValidationError(
        'invalid transcode params',
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    this.#inputId = spec.inputs[0]!;
    this.#params = parsed.data;
  }

  protected get outputCodec(): TranscodeParams['codec'] {
    return this.#params.codec;
  }

  get params(): Readonly<TranscodeParams> {
    return this.#params;
  }

  /**
   * From the MCU baseline: x264 ultrafast ≈ 12 % of a core at 640x480 30 fps, VP8 and VP9 about
   * three times that; the source's own size and rate counted as 640x480 at 30 fps.
   */
  get weight(): number {
    const { width, height, framerate, codec } = this.#params;
    const pixelsPerSecond = (width ?? 640) * (height ?? 480) * (framerate ?? 30);
    return ((codec === 'h264' ? 0.12 : 0.4) * pixelsPerSecond) / (640 * 480 * 30);
  }

  protected ffmpegArgs(): string[] {
    const { width, height, framerate, bitrateKbps, codec, keyFrameIntervalSeconds } = this.#params;
    const out = this.rtpOutput;
    // Exactly the size asked for: scaled to fit, then padded (letterbox), as a subscriber expects.
    const filters = [...exactSizeFilters(width, height), ...(framerate ? [`fps=${framerate}`] : [])];
    // ffmpeg does not answer PLIs: key frames on the clock, so a new subscriber waits at most that.
    const gop = String(Math.ceil((framerate ?? 60) * keyFrameIntervalSeconds));
    return [
      // Low-delay input (research/mcu-baseline.md §2): no demuxer buffering, no frame threading.
      ...['-protocol_whitelist', 'file,udp,rtp', '-fflags', 'nobuffer', '-flags', 'low_delay'],
      ...['-threads', '1', '-reorder_queue_size', '0', '-i', this.sdpPath],
      ...['-map', '0:v:0', '-an', '-vf', filters.join(',')],
      ...videoEncoderArgs(codec, bitrateKbps),
      ...['-g', gop, '-force_key_frames', `expr:gte(t,n_forced*${keyFrameIntervalSeconds})`],
      ...['-payload_type', String(out.payloadType), '-ssrc', String(out.ssrc), '-f', 'rtp', out.url],
    ];
  }

  protected override onSpawn(_process: FfmpegProcess): void {
    // ffmpeg needs a key frame to start decoding; ask until its first frame is out.
    this.#stopKeyFrames?.();
    this.#stopKeyFrames = this.bridge.requestKeyFramesUntil(KEY_FRAME_RETRY_MS);
  }

  protected override onFirstFrame(): void {
    this.#stopKeyFrames?.();
    if (!this.#publish || this.#published) return;
    this.#published = true;
    const { room, publisher } = this.ctx;
    const source = room.streams().find((s) => s.id === this.#inputId)?.source ?? 'camera';
    const producer = this.rtpOutput.producer;
    this.addOutput({ streamId: producer.id, kind: 'video' });
    void publisher
      .publish(
        room,
        producer,
        { id: producer.id, owner: `pipeline:${this.id}`, kind: 'video', source, paused: false },
        { kind: 'pipeline', pipelineId: this.id, pipelineKind: this.kind },
      )
      .catch((error) => this.fail(`publishing the output failed: ${String(error)}`));
  }

  protected override release(): void {
    this.#stopKeyFrames?.();
    if (this.#published && !this.ctx.room.closed)
      this.ctx.publisher.unpublish(this.ctx.room, this.rtpOutput.producer.id);
    super.release();
  }
}

/** The factory the composition root registers under the kind `transcode`. */
export const transcoderKind = (spec: PipelineSpec, ctx: PipelineContext) => new Transcoder(spec, ctx);
