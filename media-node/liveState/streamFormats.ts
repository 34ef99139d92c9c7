import type { types } from 'mediasoup';

/** OWT's media format of a track: `{codec, sampleRate, channelNum}` for audio, `{codec, profile}` for video. */
export interface OwtFormat {
  codec: string;
  sampleRate?: number;
  channelNum?: number;
  profile?: string;
}

/** Codecs that travel beside the media codec and say nothing about the format. */
const AUXILIARY = new Set(['rtx', 'red', 'ulpfec', 'flexfec-03', 'cn', 'telephone-event']);

/**
 * The OWT format of a producer's media, read from its RTP parameters (the first codec that is
 * not retransmission, redundancy or comfort noise). OWT's codec names are mediasoup's mime
 * subtypes in lower case (opus, pcmu, pcma, g722, vp8, vp9, h264, h265, av1).
 */
export function formatOf(kind: 'audio' | 'video', rtp: Pick<types.RtpParameters, 'codecs'>): OwtFormat {
  const codec = rtp.codecs.find((c) => !AUXILIARY.has(subtype(c.mimeType)));
  if (!codec) return { codec: 'unknown' };
  const name = subtype(codec.mimeType);
  if (kind === 'audio') {
    return {
      codec: name,
      // G.722's RTP clock is 8 kHz for historical reasons; it samples at 16 kHz (RFC 3551).
      sampleRate: name === 'g722' ? 16_000 : codec.clockRate,
      channelNum: codec.channels ?? 1,
    };
  }
  if (name === 'h264') {
    const profile = h264Profile(codec.parameters?.['profile-level-id']);
    return profile ? { codec: name, profile } : { codec: name };
  }
  return { codec: name };
}

const subtype = (mimeType: string) => mimeType.slice(mimeType.indexOf('/') + 1).toLowerCase();

/**
 * OWT's name of the H.264 profile in an SDP `profile-level-id` (RFC 6184: profile_idc,
 * profile_iop, level_idc as hex): CB (constrained baseline), B, M, E (extended) or H (every
 * High variant). The constraint flags decide as in libwebrtc: constraint_set1 on Baseline (or
 * set0 on Main, set0+set1 on Extended) means a constrained-baseline stream. Undefined when the
 * value is absent or not a profile-level-id (RFC 6184's default, 420010, is Baseline).
 */
export function h264Profile(profileLevelId: unknown): string | undefined {
  const value = profileLevelId === undefined ? '420010' : String(profileLevelId);
  if (!/^[0-9a-f]{6}$/i.test(value)) return undefined;
  const idc = Number.parseInt(value.slice(0, 2), 16);
  const iop = Number.parseInt(value.slice(2, 4), 16);
  const set0 = (iop & 0x80) !== 0;
  const set1 = (iop & 0x40) !== 0;
  switch (idc) {
    case 0x42:
      return set1 ? 'CB' : 'B';
    case 0x4d:
      return set0 ? 'CB' : 'M';
    case 0x58:
      return set0 && set1 ? 'CB' : set0 ? 'B' : 'E';
    case 0x64:
    case 0x6e:
    case 0x7a:
    case 0xf4:
      return 'H';
    default:
      return undefined;
  }
}
