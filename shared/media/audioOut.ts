import { NotImplementedError, ValidationError } from '../errors.ts';
import type { RoomOptions } from '../protocol/http/room.ts';
import type { AudioTranscodeRequest } from '../protocol/signaling.ts';
import { notAcceptable } from './videoOut.ts';

/** The audio codecs a WebRTC subscriber receives, at the rate and channels RTP carries them. */
export const AUDIO_OUT_FORMATS = {
  opus: { sampleRate: 48000, channels: 2 },
  pcmu: { sampleRate: 8000, channels: 1 },
  pcma: { sampleRate: 8000, channels: 1 },
  g722: { sampleRate: 16000, channels: 1 },
} as const;
export type AudioOutCodec = keyof typeof AUDIO_OUT_FORMATS;

export interface ResolvedAudioTranscode {
  codec: AudioOutCodec;
  sampleRate: number;
  channels: number;
}

/**
 * OWT's check of a subscription's audio request against the room (conference.js
 * `validateAudioRequest`): the format must be listed in `mediaOut.audio` (its rate and channels,
 * where the list names them), and anything but opus (what every publisher sends) needs
 * `transcoding.audio`. Codecs WebRTC does not carry (AAC, iSAC…) are not implemented here (501).
 * Returns what the subscriber will receive.
 */
export function checkAudioTranscode(
  options: Pick<RoomOptions, 'transcoding' | 'mediaOut'>,
  request: AudioTranscodeRequest,
): ResolvedAudioTranscode {
  const { codec, sampleRate, channelNum } = request.format;
  if (!(codec in AUDIO_OUT_FORMATS))
    throw new NotImplementedError(
      `${codec} is not delivered to WebRTC subscribers (${Object.keys(AUDIO_OUT_FORMATS).join(', ')} are)`,
      { option: 'format' },
    );
  const out = AUDIO_OUT_FORMATS[codec as AudioOutCodec];
  if (
    (sampleRate !== undefined && sampleRate !== out.sampleRate) ||
    (channelNum ?? out.channels) !== out.channels
  )
    throw new ValidationError(`${codec} is carried at ${out.sampleRate} Hz with ${out.channels} channel(s)`, [
      { path: 'audio.format', message: 'another rate or channel count' },
    ]);
  const listed = options.mediaOut.audio.some(
    (f) =>
      f.codec === codec &&
      (f.sampleRate === undefined || sampleRate === undefined || f.sampleRate === sampleRate) &&
      (f.channelNum === undefined || channelNum === undefined || f.channelNum === channelNum),
  );
  if (!listed) throw notAcceptable(`Format ${codec}`);
  if (codec !== 'opus' && !options.transcoding.audio)
    throw notAcceptable('Format (transcoding.audio is off)');
  return { codec: codec as AudioOutCodec, ...out };
}
