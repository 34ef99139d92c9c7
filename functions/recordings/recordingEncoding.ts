import { NotImplementedError, ValidationError } from '../../shared/errors.ts';
import {
  checkVideoTranscode,
  isTranscoded,
  notAcceptable,
  resolveVideoTranscode,
  type TranscodedCodec,
} from '../../shared/media/videoOut.ts';
import type { RecordParams } from '../../shared/protocol/commands.ts';
import type { RecordingRequest } from '../../shared/protocol/http/recording.ts';
import type { RoomOptions } from '../../shared/protocol/http/room.ts';
import {
  VideoTranscodeParametersSchema,
  type VideoTranscodeRequest,
} from '../../shared/protocol/signaling.ts';

/** Audio codecs a recording re-encodes to (ffmpeg's encoders: media-node/recording/Recorder.ts). */
const RECORDED_AUDIO = ['opus', 'aac', 'pcmu', 'pcma', 'g722'] as const;

/**
 * The recorder's video encoding when the request asks for another codec or for video parameters
 * (OWT's recording `media.video.format` and `parameters`), checked against the room as a
 * subscription's (`transcoding.video`, `mediaOut.video`); undefined: the video is copied.
 */
export function videoEncoding(
  options: RoomOptions,
  video: Exclude<RecordingRequest['media']['video'], false>,
  sourceCodec: string,
): Partial<RecordParams> | undefined {
  const asked = VideoTranscodeParametersSchema.safeParse(video.parameters ?? {});
  if (!asked.success)
    throw new ValidationError(
      'invalid media.video.parameters',
      asked.error.issues.map((i) => ({
        path: ['media', 'video', 'parameters', ...i.path].join('.'),
        message: i.message,
      })),
    );
  const parameters = asked.data;
  const codec = video.format?.codec.toLowerCase();
  const otherCodec = codec !== undefined && codec !== sourceCodec;
  if (!otherCodec && Object.keys(parameters).length === 0) return undefined;
  checkVideoTranscode(options, {
    ...(otherCodec
      ? { format: { codec, ...(video.format?.profile ? { profile: video.format.profile } : {}) } }
      : {}),
    parameters,
  } as VideoTranscodeRequest);
  const target: TranscodedCodec =
    codec && isTranscoded(codec) ? codec : isTranscoded(sourceCodec) ? sourceCodec : 'h264';
  const framerate = parameters.framerate ?? 30;
  const resolved = resolveVideoTranscode(target, { ...parameters, framerate });
  return {
    videoCodec: target,
    ...(resolved.width && resolved.height ? { width: resolved.width, height: resolved.height } : {}),
    framerate,
    keyFrameSeconds: resolved.keyFrameIntervalSeconds,
    // Without a size to go by, 2 Mbit/s times the multiplier (as a streaming-out).
    videoKbps:
      resolved.width && resolved.height
        ? resolved.bitrateKbps
        : Math.min(8000, Math.max(32, Math.round(2000 * Number(parameters.bitrate?.slice(1) ?? 1)))),
  };
}

/**
 * The recorder's audio codec when the request asks for another than the source's (OWT's
 * `media.audio.format`): listed in the room's `mediaOut.audio` and allowed by `transcoding.audio`,
 * as OWT checks every audio request; undefined: the audio is copied.
 */
export function audioEncoding(
  options: RoomOptions,
  audio: Exclude<RecordingRequest['media']['audio'], false>,
  sourceCodec: string,
): Partial<RecordParams> | undefined {
  const codec = audio.format?.codec.toLowerCase();
  if (codec === undefined || codec === sourceCodec) return undefined;
  if (!(RECORDED_AUDIO as readonly string[]).includes(codec))
    throw new NotImplementedError(
      `media.audio.format: recording ${codec} is not implemented (${RECORDED_AUDIO.join(', ')} are)`,
      { options: ['media.audio.format'] },
    );
  if (!options.mediaOut.audio.some((f) => f.codec === codec) || !options.transcoding.audio)
    throw notAcceptable(`Format ${codec}`);
  return { audioCodec: codec as (typeof RECORDED_AUDIO)[number] };
}
