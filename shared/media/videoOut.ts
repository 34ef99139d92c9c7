import { ErrorCodes, NotImplementedError, TesseraError } from '../errors.ts';
import type { RoomOptions } from '../protocol/http/room.ts';
import type { VideoTranscodeParameters, VideoTranscodeRequest } from '../protocol/signaling.ts';

/** OWT's named sizes (owt-server source/common/formatUtil.js `NamedResolution`). */
export const NAMED_RESOLUTIONS: Readonly<Record<string, { width: number; height: number }>> = {
  xga: { width: 1024, height: 768 },
  svga: { width: 800, height: 600 },
  vga: { width: 640, height: 480 },
  hvga: { width: 480, height: 320 },
  cif: { width: 352, height: 288 },
  qvga: { width: 320, height: 240 },
  sif: { width: 320, height: 240 },
  qcif: { width: 176, height: 144 },
  hd720p: { width: 1280, height: 720 },
  hd1080p: { width: 1920, height: 1080 },
};

/** The codecs a transcoder encodes (media-node/mcu/Transcoder.ts). */
export const TRANSCODED_CODECS = ['h264', 'vp8', 'vp9'] as const;
export type TranscodedCodec = (typeof TRANSCODED_CODECS)[number];
export const isTranscoded = (codec: string): codec is TranscodedCodec =>
  (TRANSCODED_CODECS as readonly string[]).includes(codec);

/** kbit/s at 30 fps by pixels per frame, linear in between (owt-server source/common/mediaUtil.js). */
const STANDARD_KBPS: readonly [pixels: number, kbps: number][] = [
  [0, 0],
  [76_800, 400],
  [307_200, 800],
  [921_600, 2000],
  [2_073_600, 4000],
  [8_294_400, 16_000],
];
const CODEC_FACTOR: Record<TranscodedCodec, number> = { h264: 1.0, vp8: 1.2, vp9: 0.8 };

/**
 * OWT's default bit rate for a size and frame rate (what `x0.8` multiplies): its piecewise
 * linear table scaled by the codec's efficiency and the motion factor (0.8, OWT's default).
 */
export function defaultTranscodeKbps(
  codec: TranscodedCodec,
  width: number,
  height: number,
  framerate: number,
  motionFactor = 0.8,
): number {
  const size = (width * height * framerate) / 30;
  let kbps = STANDARD_KBPS.at(-1)![1];
  for (let i = 1; i < STANDARD_KBPS.length; i++) {
    const [prevSize, prevKbps] = STANDARD_KBPS[i - 1]!;
    const [nextSize, nextKbps] = STANDARD_KBPS[i]!;
    if (size <= nextSize) {
      kbps = prevKbps + ((nextKbps - prevKbps) * (size - prevSize)) / (nextSize - prevSize);
      break;
    }
  }
  return kbps * CODEC_FACTOR[codec] * motionFactor;
}

/** A video transcode fully resolved: what one shared transcoder makes (null: the source's own). */
export interface ResolvedVideoTranscode {
  codec: TranscodedCodec;
  width: number | null;
  height: number | null;
  framerate: number | null;
  bitrateKbps: number;
  keyFrameIntervalSeconds: number;
}

/** Without a size or rate to go by (the source's), OWT's defaults: 640×480 at 30 fps. */
const ASSUMED_SOURCE = { width: 640, height: 480, framerate: 30 };
/** OWT's default key-frame interval is 100 s; ffmpeg answers no key-frame requests, so 2 s here. */
const DEFAULT_KEY_FRAME_SECONDS = 2;

/** The parameters of a request (or of an update on top of the current ones), resolved. */
export function resolveVideoTranscode(
  codec: TranscodedCodec,
  parameters: VideoTranscodeParameters | undefined,
  current?: ResolvedVideoTranscode & { bitrate?: string | undefined },
): ResolvedVideoTranscode & { bitrate?: string | undefined } {
  const width = parameters?.resolution?.width ?? current?.width ?? null;
  const height = parameters?.resolution?.height ?? current?.height ?? null;
  const framerate = parameters?.framerate ?? current?.framerate ?? null;
  const bitrate = parameters?.bitrate ?? current?.bitrate;
  const multiplier = bitrate ? Number(bitrate.slice(1)) : 1;
  const base = defaultTranscodeKbps(
    codec,
    width ?? ASSUMED_SOURCE.width,
    height ?? ASSUMED_SOURCE.height,
    framerate ?? ASSUMED_SOURCE.framerate,
  );
  return {
    codec,
    width,
    height,
    framerate,
    bitrateKbps: Math.min(8000, Math.max(32, Math.round(base * multiplier))),
    keyFrameIntervalSeconds:
      parameters?.keyFrameInterval ?? current?.keyFrameIntervalSeconds ?? DEFAULT_KEY_FRAME_SECONDS,
    ...(bitrate ? { bitrate } : {}),
  };
}

/** OWT's refusal of what a room's `transcoding` and `mediaOut` do not allow (400, 1301). */
export const notAcceptable = (what: string) =>
  new TesseraError(ErrorCodes.invalidRequest, `${what} is not acceptable in this room`);

/**
 * OWT's check of a subscription's video request against the room (conference.js
 * `validateVideoRequest`): each thing asked for must be allowed by `transcoding` and listed in
 * `mediaOut`. Sizes: a named one from the list, or any size when the list holds a multiplier
 * (`x1/2`): the server does not know a source's size to check the product. Bit rates: one of the
 * listed multipliers (`x1.0` is no change, as OWT lets client SDKs send it).
 */
export function checkVideoTranscode(
  options: Pick<RoomOptions, 'transcoding' | 'mediaOut'>,
  request: VideoTranscodeRequest,
): void {
  const allowed = options.transcoding.video;
  const out = options.mediaOut.video;
  if (request.format) {
    const { codec, profile } = request.format;
    if (!(TRANSCODED_CODECS as readonly string[]).includes(codec))
      throw new NotImplementedError(`transcoding to ${codec} is not implemented (h264, vp8, vp9 are)`, {
        option: 'format',
      });
    if (codec === 'h264' && (profile === 'M' || profile === 'H'))
      throw new NotImplementedError('H.264 is transcoded in the constrained baseline profile only (CB, B)', {
        option: 'format',
      });
    if (!allowed.format) throw notAcceptable('Format (transcoding.video.format is off)');
    if (!out.format.some((f) => f.codec === codec && (codec !== 'h264' || !profile || f.profile === profile)))
      throw notAcceptable(`Format ${codec}${profile ? ` ${profile}` : ''}`);
  }
  checkVideoParameters(options, request.parameters ?? {});
}

/** The parameters part of checkVideoTranscode (a subscription update changes only these). */
export function checkVideoParameters(
  options: Pick<RoomOptions, 'transcoding' | 'mediaOut'>,
  parameters: VideoTranscodeParameters,
): void {
  const allowed = options.transcoding.video.parameters;
  const listed = options.mediaOut.video.parameters;
  const { resolution, framerate, bitrate, keyFrameInterval } = parameters;
  if (resolution) {
    const named = listed.resolution.some((r) => {
      const size = NAMED_RESOLUTIONS[r];
      return size ? size.width === resolution.width && size.height === resolution.height : r.startsWith('x');
    });
    if (!allowed.resolution || !named)
      throw notAcceptable(`Resolution ${resolution.width}x${resolution.height}`);
  }
  if (framerate !== undefined && (!allowed.framerate || !listed.framerate.includes(framerate)))
    throw notAcceptable(`Framerate ${framerate}`);
  const unchanged = bitrate === undefined || Number(bitrate.slice(1)) === 1;
  if (!unchanged && (!allowed.bitrate || !listed.bitrate.includes(bitrate)))
    throw notAcceptable(`Bitrate ${bitrate}`);
  if (
    keyFrameInterval !== undefined &&
    (!allowed.keyFrameInterval || !listed.keyFrameInterval.includes(keyFrameInterval))
  )
    throw notAcceptable(`KeyFrameInterval ${keyFrameInterval}`);
}
