import { z } from 'zod';
import { ValidationError } from '../../shared/errors.ts';
import { AUDIO_OUT_FORMATS, type AudioOutCodec } from '../../shared/media/audioOut.ts';
import { OneStreamTranscoder } from '../pipelines/OneStreamTranscoder.ts';
import type { PipelineContext, PipelineSpec } from '../pipelines/Pipeline.ts';

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
export class AudioTranscoder extends OneStreamTranscoder {
  readonly #codec: AudioOutCodec;

  constructor(spec: PipelineSpec, ctx: PipelineContext) {
    super(spec, ctx, 'audio');
    const parsed = AudioTranscodeParamsSchema.safeParse(spec.params ?? {});
    if (!parsed.success)
      throw new ValidationError(
        'invalid audio transcode params',
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    this.#codec = parsed.data.codec;
  }

  protected get outputCodec(): AudioOutCodec {
    return this.#codec;
  }

  /** An opus decode and a G.711/G.722/opus encode: about 1 % of a core. */
  get weight(): number {
    return 0.01;
  }

  protected ffmpegArgs(): string[] {
    const out = this.rtpOutput;
    const { sampleRate, channels } = AUDIO_OUT_FORMATS[this.#codec];
    return [
      ...['-protocol_whitelist', 'file,udp,rtp', '-fflags', 'nobuffer', '-i', this.sdpPath],
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
}
