import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { types } from 'mediasoup';
import { ErrorCodes, NotFoundError, ValidationError } from '../../shared/errors.ts';
import { Pipeline, type PipelineContext, type PipelineSpec } from './Pipeline.ts';
import { type OutputCodec, RtpBridge, type RtpInput, type RtpOutput } from './RtpBridge.ts';

/**
 * A pipeline re-encoding one stream of the room into a producer of the room's primary router
 * (Transcoder: video; AudioTranscoder: audio). This holds what they share: the one input consumed
 * into a receive SDP ffmpeg opens, the output producer (`output()` once it exists), closing when
 * the input or the room goes, and the release of all of it.
 */
export abstract class OneStreamTranscoder extends Pipeline {
  protected readonly ctx: PipelineContext;
  protected readonly bridge: RtpBridge;
  readonly #inputId: string;
  readonly #kind: types.MediaKind;
  /** Holds the receive SDP ffmpeg opens. */
  #dir: string | undefined;
  #input: RtpInput | undefined;
  #output: RtpOutput | undefined;
  readonly #ready: Promise<types.Producer>;
  #settle: { resolve(p: types.Producer): void; reject(e: Error): void } | undefined;

  constructor(spec: PipelineSpec, ctx: PipelineContext, kind: types.MediaKind) {
    super(spec, ctx.logger);
    this.#ready = new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    // Nobody may be waiting: a refusal here is not an unhandled rejection.
    this.#ready.catch(() => {});
    if (spec.inputs.length !== 1)
      throw new ValidationError(`a ${spec.kind} takes one input`, [
        { path: 'inputs', message: 'exactly one' },
      ]);
    this.ctx = ctx;
    this.#inputId = spec.inputs[0]!;
    this.#kind = kind;
    this.bridge = new RtpBridge(ctx.room.router);
  }

  /** The codec its ffmpeg sends (an OUTPUT_CODECS key). */
  protected abstract get outputCodec(): OutputCodec;

  get inputs(): readonly string[] {
    return [this.#inputId];
  }

  /** The output producer (on the room's primary router), once allocated; rejects if it never is. */
  output(): Promise<types.Producer> {
    return this.#ready;
  }

  /** The RTP ffmpeg sends its output to (after prepare). */
  protected get rtpOutput(): RtpOutput {
    return this.#output!;
  }

  /** The receive SDP of the input, for ffmpeg's `-i`. */
  protected get sdpPath(): string {
    return join(this.#dir ?? tmpdir(), 'in.sdp');
  }

  protected async prepare(): Promise<void> {
    const { room } = this.ctx;
    const stream = room.streams().find((s) => s.id === this.#inputId);
    if (!stream) throw new NotFoundError(ErrorCodes.streamNotFound, `no stream ${this.#inputId} in the room`);
    if (stream.kind !== this.#kind)
      throw new ValidationError(`a ${this.kind} takes a ${this.#kind} stream`, [
        { path: 'input', message: stream.kind },
      ]);
    // The stream may live on another of the room's routers: the pipeline runs on the primary one.
    await room.ensureOn(this.#inputId, room.router);
    this.#input = await this.bridge.input(this.#inputId);
    // The router closing with the room closes the consumer's transport first.
    const gone = () => this.close(room.closed ? 'room closed' : 'input gone');
    this.#input.consumer.once('producerclose', gone);
    this.#input.consumer.once('transportclose', gone);
    if (this.closed) return; // stopped meanwhile: release() has run, nothing more to allocate
    this.#dir = mkdtempSync(join(tmpdir(), `tessera-${this.kind}-`));
    writeFileSync(this.sdpPath, this.#input.sdp);
    this.#output = await this.bridge.output(this.#kind, this.outputCodec, {
      pipelineId: this.id,
      pipelineKind: this.kind,
    });
    if (this.closed) return;
    await this.bridge.resumeInputs();
    this.#settle?.resolve(this.#output.producer);
    this.#settle = undefined;
  }

  protected release(): void {
    this.#settle?.reject(new NotFoundError(ErrorCodes.streamNotFound, 'the transcoder closed'));
    this.#settle = undefined;
    this.bridge.close();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }
}
