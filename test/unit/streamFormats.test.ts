import { describe, expect, it } from 'vitest';
import { formatOf, h264Profile } from '../../media-node/liveState/streamFormats.ts';

const rtp = (
  ...codecs: {
    mimeType: string;
    clockRate: number;
    channels?: number;
    parameters?: Record<string, unknown>;
  }[]
) => ({
  codecs: codecs.map((c, i) => ({ payloadType: 96 + i, parameters: {}, ...c })),
});

describe('OWT formats read from a producer’s RTP parameters', () => {
  it('audio: codec, sample rate and channels as OWT names them', () => {
    expect(formatOf('audio', rtp({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 }))).toEqual({
      codec: 'opus',
      sampleRate: 48000,
      channelNum: 2,
    });
    expect(formatOf('audio', rtp({ mimeType: 'audio/PCMU', clockRate: 8000 }))).toEqual({
      codec: 'pcmu',
      sampleRate: 8000,
      channelNum: 1,
    });
    expect(formatOf('audio', rtp({ mimeType: 'audio/PCMA', clockRate: 8000 }))).toMatchObject({
      codec: 'pcma',
    });
    // G.722's RTP clock says 8 kHz; it samples at 16 kHz.
    expect(formatOf('audio', rtp({ mimeType: 'audio/G722', clockRate: 8000 }))).toEqual({
      codec: 'g722',
      sampleRate: 16000,
      channelNum: 1,
    });
  });

  it('video: the codec, and H.264 with its profile', () => {
    for (const [mime, codec] of [
      ['video/VP8', 'vp8'],
      ['video/VP9', 'vp9'],
      ['video/H265', 'h265'],
      ['video/AV1', 'av1'],
    ])
      expect(formatOf('video', rtp({ mimeType: mime!, clockRate: 90000 }))).toEqual({ codec });
    expect(
      formatOf(
        'video',
        rtp({ mimeType: 'video/H264', clockRate: 90000, parameters: { 'profile-level-id': '4d001f' } }),
      ),
    ).toEqual({ codec: 'h264', profile: 'M' });
  });

  it('skips retransmission, redundancy and comfort noise to find the media codec', () => {
    expect(
      formatOf(
        'video',
        rtp(
          { mimeType: 'video/rtx', clockRate: 90000 },
          { mimeType: 'video/ulpfec', clockRate: 90000 },
          { mimeType: 'video/VP8', clockRate: 90000 },
        ),
      ),
    ).toEqual({ codec: 'vp8' });
    expect(
      formatOf(
        'audio',
        rtp(
          { mimeType: 'audio/red', clockRate: 48000 },
          { mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
        ),
      ),
    ).toMatchObject({ codec: 'opus' });
    expect(formatOf('audio', rtp({ mimeType: 'audio/CN', clockRate: 8000 }))).toEqual({ codec: 'unknown' });
  });

  it('H.264 profile-level-id → OWT profile names (CB, B, M, E, H)', () => {
    const table: [unknown, string | undefined][] = [
      ['42e01f', 'CB'], // what browsers send: constraint_set1 on Baseline
      ['42c01f', 'CB'],
      ['42401f', 'CB'],
      ['42001f', 'B'],
      ['42801f', 'B'],
      ['4d001f', 'M'],
      ['4d801f', 'CB'], // Main constrained to what Baseline decoders take
      ['58c01f', 'CB'],
      ['58801f', 'B'],
      ['58001f', 'E'],
      ['64001f', 'H'],
      ['640c1f', 'H'], // constrained high is OWT's High
      ['6e001f', 'H'],
      ['F4001F', 'H'],
      [undefined, 'B'], // RFC 6184's default, 420010
      ['2a001f', undefined],
      ['42e0', undefined],
      ['zzzzzz', undefined],
      [640032, 'H'], // sdp-transform turns an all-digit fmtp value into a number
    ];
    for (const [value, profile] of table) expect(h264Profile(value), String(value)).toBe(profile);
  });
});
