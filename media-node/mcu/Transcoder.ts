import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, NotFoundError, ValidationError } from '../../shared/errors.ts';
import { type TranscodeParams, TranscodeParamsSchema } from '../../shared/protocol/commands.ts';
import type { FfmpegProcess } from '../ffmpeg/FfmpegProcess.ts';
import { Pipeline, type PipelineContext, type PipelineSpec } from '../pipelines/Pipeline.ts';
import { RtpBridge, type RtpInput, type RtpOutput } from '../pipelines/RtpBridge.ts';

/** Until the first output frame, key frames are asked for this often (a PLI may be lost, a sender late). */
const KEY_FRAME_RETRY_MS = 1000;

/**
 * One video stream of the room re-encoded (codec, size, frame rate, bit rate) and produced back
 * into the room as a new stream, owned by `pipeline:<id>`. The first pipeline kind; mixers,
 * streaming and recording follow the same shape.
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

  constructor(spec: PipelineSpec, ctx: PipelineContext) {
    super(spec, ctx.logger);
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

  /** From the MCU baseline: x264 ultrafast ≈ 12 % of a core at 640x480 30 fps, VP8 about three times that. */
  get weight(): number {
    const { width, height, framerate, codec } = this.#params;
    const pixelsPerSecond = width * height * framerate;
    return ((codec === 'vp8' ? 0.4 : 0.12) * pixelsPerSecond) / (640 * 480 * 30);
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
  }

  get #sdpPath(): string {
    return join(this.#dir ?? tmpdir(), 'in.sdp');
  }

  protected ffmpegArgs(): string[] {
    const { width, height, framerate, bitrateKbps, codec } = this.#params;
    const out = this.#output!;
    const rate = `${bitrateKbps}k`;
    const encoder =
      codec === 'h264'
        ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline']
        : ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0'];
    return [
      // Low-delay input (research/mcu-baseline.md §2): no demuxer buffering, no frame threading.
      ...['-protocol_whitelist', 'file,udp,rtp', '-fflags', 'nobuffer', '-flags', 'low_delay'],
      ...['-threads', '1', '-reorder_queue_size', '0', '-i', this.#sdpPath],
      ...['-map', '0:v:0', '-an'],
      '-vf',
      `scale=${width}:${height}:force_original_aspect_ratio=decrease:force_divisible_by=2,fps=${framerate}`,
      ...encoder,
      ...['-pix_fmt', 'yuv420p', '-threads', '1', '-b:v', rate, '-maxrate', rate, '-bufsize', rate],
      // A key frame every second: ffmpeg does not answer PLIs, so a new subscriber waits at most that.
      ...['-g', String(framerate), '-keyint_min', String(framerate)],
      ...(codec === 'h264' ? ['-bf', '0'] : ['-error-resilient', '1', '-auto-alt-ref', '0']),
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
    if (this.#published || !this.#output) return;
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
    this.#stopKeyFrames?.();
    if (this.#published && this.#output && !this.#ctx.room.closed)
      this.#ctx.publisher.unpublish(this.#ctx.room, this.#output.producer.id);
    this.#bridge.close();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** The factory the composition root registers under the kind `transcode`. */
export const transcoderKind = (spec: PipelineSpec, ctx: PipelineContext) => new Transcoder(spec, ctx);
