import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { types } from 'mediasoup';
import { z } from 'zod';
import { ErrorCodes, NotFoundError, ValidationError } from '../../shared/errors.ts';
import { AUDIO_OUT_FORMATS, type AudioOutCodec } from '../../shared/media/audioOut.ts';
import { Pipeline, type PipelineContext, type PipelineSpec } from '../pipelines/Pipeline.ts';
import { RtpBridge, type RtpOutput } from '../pipelines/RtpBridge.ts';

const AudioTranscodeParamsSchema = z.strictObject({
  codec: z.enum(Object.keys(AUDIO_OUT_FORMATS) as [AudioOutCodec, ...AudioOutCodec[]]),
});

/** ffmpeg's encoder for each codec, at the rate and channels RTP carries it. */
const ENCODERS: Record<AudioOutCodec, string[]> = {
  opus: ['-c:a', 'libopus', '-b:a', '64k', '-application', 'lowdelay', '-frame_duration', '20'],
  pcmu: ['-c:a', 'pcm_mulaw'],
  pcma: ['-c:a', 'pcm_alaw'],
  g722: ['-c:a', 'g722'],
};

/**
 * One audio stream of the room re-encoded into another codec (transcoding on subscribe:
 * media-node/transcoding), kept as a producer of the room's primary router that only its owner
 * consumes. Packets of 20 ms, as the source's.
 */
export class AudioTranscoder extends Pipeline {
  readonly #ctx: PipelineContext;
  readonly #inputId: string;
  readonly #codec: AudioOutCodec;
  readonly #bridge: RtpBridge;
  #dir: string | undefined;
  #output: RtpOutput | undefined;
  readonly #ready: Promise<types.Producer>;
  #settle: { resolve(p: types.Producer): void; reject(e: Error): void } | undefined;

  constructor(spec: PipelineSpec, ctx: PipelineContext) {
    super(spec, ctx.logger);
    this.#ready = new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    this.#ready.catch(() => {});
    const parsed = AudioTranscodeParamsSchema.safeParse(spec.params ?? {});
    if (!parsed.success)
      throw new ValidationError(
        'invalid audio transcode params',
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    if (spec.inputs.length !== 1)
      throw new ValidationError('an audio transcode takes one input', [
        { path: 'inputs', message: 'exactly one' },
      ]);
    this.#ctx = ctx;
    this.#inputId = spec.inputs[0]!;
    this.#codec = parsed.data.codec;
    this.#bridge = new RtpBridge(ctx.room.router);
  }

  get inputs(): readonly string[] {
    return [this.#inputId];
  }

  /** An opus decode and a G.711/G.722/opus encode: about 1 % of a core. */
  get weight(): number {
    return 0.01;
  }

  /** The output producer (on the room's primary router), once allocated; rejects if it never is. */
  output(): Promise<types.Producer> {
    return this.#ready;
  }

  protected async prepare(): Promise<void> {
    const { room } = this.#ctx;
    const stream = room.streams().find((s) => s.id === this.#inputId);
    if (!stream) throw new NotFoundError(ErrorCodes.streamNotFound, `no stream ${this.#inputId} in the room`);
    if (stream.kind !== 'audio')
      throw new ValidationError('an audio transcode takes an audio stream', [
        { path: 'input', message: stream.kind },
      ]);
    await room.ensureOn(this.#inputId, room.router);
    const input = await this.#bridge.input(this.#inputId);
    const gone = () => this.close(room.closed ? 'room closed' : 'input gone');
    input.consumer.once('producerclose', gone);
    input.consumer.once('transportclose', gone);
    if (this.closed) return;
    this.#dir = mkdtempSync(join(tmpdir(), 'tessera-audio-transcode-'));
    writeFileSync(this.#sdpPath, input.sdp);
    this.#output = await this.#bridge.output('audio', this.#codec, {
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
    const out = this.#output!;
    const { sampleRate, channels } = AUDIO_OUT_FORMATS[this.#codec];
    return [
      ...['-protocol_whitelist', 'file,udp,rtp', '-fflags', 'nobuffer', '-i', this.#sdpPath],
      ...[
        '-map',
        '0:a:0',
        '-vn',
        ...ENCODERS[this.#codec],
        '-ar',
        String(sampleRate),
        '-ac',
        String(channels),
      ],
      ...['-payload_type', String(out.payloadType), '-ssrc', String(out.ssrc), '-f', 'rtp', out.url],
    ];
  }

  protected release(): void {
    this.#settle?.reject(new NotFoundError(ErrorCodes.streamNotFound, 'the transcoder closed'));
    this.#settle = undefined;
    this.#bridge.close();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }
}
