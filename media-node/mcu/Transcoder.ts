import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { types } from 'mediasoup';
import { ErrorCodes, NotFoundError, ValidationError } from '../../shared/errors.ts';
import { type TranscodeParams, TranscodeParamsSchema } from '../../shared/protocol/commands.ts';
import type { FfmpegProcess } from '../ffmpeg/FfmpegProcess.ts';
import { exactSizeFilters, videoEncoderArgs } from '../ffmpeg/videoEncoders.ts';
import { Pipeline, type PipelineContext, type PipelineSpec } from '../pipelines/Pipeline.ts';
import { RtpBridge, type RtpInput, type RtpOutput } from '../pipelines/RtpBridge.ts';

/** Until the first output frame, key frames are asked for this often (a PLI may be lost, a sender late). */
const KEY_FRAME_RETRY_MS = 1000;

/**
 * One video stream of the room re-encoded (codec, size, frame rate, bit rate, key-frame interval)
 * and produced back into the room as a new stream, owned by `pipeline:<id>`; or, with `publish:
 * false`, kept as a producer of the room's router that only its owner consumes (transcoding on
 * subscribe: media-node/transcoding).
 */
export class Transcoder extends Pipeline {
  readonly #ctx: PipelineContext;
  readonly #inputId: string;
  readonly #params: TranscodeParams;
  readonly #bridge: RtpBridge;
  /** Holds the receive SDP ffmpeg opens. */
  #dir: string | undefined;
  #input: RtpInput | undefined;
  #output: RtpOutput | undefined;
  /** Stops asking for key frames (at the first frame). */
  #stopKeyFrames: (() => void) | undefined;
  #published = false;
  readonly #publish: boolean;
  readonly #ready: Promise<types.Producer>;
  #settle: { resolve(p: types.Producer): void; reject(e: Error): void } | undefined;

  constructor(spec: PipelineSpec, ctx: PipelineContext, options: { publish?: boolean } = {}) {
    super(spec, ctx.logger);
    this.#publish = options.publish ?? true;
    this.#ready = new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    // Nobody may be waiting: a refusal here is not an unhandled rejection.
    this.#ready.catch(() => {});
    const parsed = TranscodeParamsSchema.safeParse(spec.params ?? {});
    if (!parsed.success)
      throw new ValidationError(
        'invalid transcode params',
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    if (spec.inputs.length !== 1)
      throw new ValidationError('a transcode takes one input', [{ path: 'inputs', message: 'exactly one' }]);
    this.#ctx = ctx;
    this.#inputId = spec.inputs[0]!;
    this.#params = parsed.data;
    this.#bridge = new RtpBridge(ctx.room.router);
  }

  get inputs(): readonly string[] {
    return [this.#inputId];
  }

  get params(): Readonly<TranscodeParams> {
    return this.#params;
  }

  /** The output producer (on the room's primary router), once allocated; rejects if it never is. */
  output(): Promise<types.Producer> {
    return this.#ready;
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

  protected async prepare(): Promise<void> {
    const { room } = this.#ctx;
    const stream = room.streams().find((s) => s.id === this.#inputId);
    if (!stream) throw new NotFoundError(ErrorCodes.streamNotFound, `no stream ${this.#inputId} in the room`);
    if (stream.kind !== 'video')
      throw new ValidationError('a transcode takes a video stream', [
        { path: 'input', message: stream.kind },
      ]);
    // The stream may live on another of the room's routers: the pipeline runs on the primary one.
    await room.ensureOn(this.#inputId, room.router);
    this.#input = await this.#bridge.input(this.#inputId);
    // The router closing with the room closes the consumer's transport first.
    const gone = () => this.close(room.closed ? 'room closed' : 'input gone');
    this.#input.consumer.once('producerclose', gone);
    this.#input.consumer.once('transportclose', gone);
    if (this.closed) return; // stopped meanwhile: release() has run, nothing more to allocate
    this.#dir = mkdtempSync(join(tmpdir(), 'tessera-transcode-'));
    writeFileSync(this.#sdpPath, this.#input.sdp);
    this.#output = await this.#bridge.output('video', this.#params.codec, {
      pipelineId: this.id,
      pipelineKind: this.kind,
    });
    if (this.closed) return;
    await this.#bridge.resumeInputs();
    this.#settle?.resolve(this.#output.producer);
    this.#settle = undefined;
  }

  get #sdpPath(): string {
    return join(this.#dir ?? tmpdir(), 'in.sdp');
  }

  protected ffmpegArgs(): string[] {
    const { width, height, framerate, bitrateKbps, codec, keyFrameIntervalSeconds } = this.#params;
    const out = this.#output!;
    // Exactly the size asked for: scaled to fit, then padded (letterbox), as a subscriber expects.
    const filters = [...exactSizeFilters(width, height), ...(framerate ? [`fps=${framerate}`] : [])];
    // ffmpeg does not answer PLIs: key frames on the clock, so a new subscriber waits at most that.
    const gop = String(Math.ceil((framerate ?? 60) * keyFrameIntervalSeconds));
    return [
      // Low-delay input (research/mcu-baseline.md §2): no demuxer buffering, no frame threading.
      ...['-protocol_whitelist', 'file,udp,rtp', '-fflags', 'nobuffer', '-flags', 'low_delay'],
      ...['-threads', '1', '-reorder_queue_size', '0', '-i', this.#sdpPath],
      ...['-map', '0:v:0', '-an', '-vf', filters.join(',')],
      ...videoEncoderArgs(codec, bitrateKbps),
      ...['-g', gop, '-force_key_frames', `expr:gte(t,n_forced*${keyFrameIntervalSeconds})`],
      ...['-payload_type', String(out.payloadType), '-ssrc', String(out.ssrc), '-f', 'rtp', out.url],
    ];
  }

  protected override onSpawn(_process: FfmpegProcess): void {
    // ffmpeg needs a key frame to start decoding; ask until its first frame is out.
    this.#stopKeyFrames?.();
    this.#stopKeyFrames = this.#bridge.requestKeyFramesUntil(KEY_FRAME_RETRY_MS);
  }

  protected override onFirstFrame(): void {
    this.#stopKeyFrames?.();
    if (!this.#publish || this.#published || !this.#output) return;
    this.#published = true;
    const { room, publisher } = this.#ctx;
    const source = room.streams().find((s) => s.id === this.#inputId)?.source ?? 'camera';
    const producer = this.#output.producer;
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

  protected release(): void {
    this.#settle?.reject(new NotFoundError(ErrorCodes.streamNotFound, 'the transcoder closed'));
    this.#settle = undefined;
    this.#stopKeyFrames?.();
    if (this.#published && this.#output && !this.#ctx.room.closed)
      this.#ctx.publisher.unpublish(this.#ctx.room, this.#output.producer.id);
    this.#bridge.close();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** The factory the composition root registers under the kind `transcode`. */
export const transcoderKind = (spec: PipelineSpec, ctx: PipelineContext) => new Transcoder(spec, ctx);
