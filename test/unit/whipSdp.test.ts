// The WHIP/WHEP offer readers on offers shaped like a browser's: what they take, and what they
// refuse with a clear 1301 before any media object is made.
import { getSupportedRtpCapabilities, type types } from 'mediasoup';
import { describe, expect, it } from 'vitest';
import { readWhepOffer, sessionCodecs } from '../../media-node/whip/whepSdp.ts';
import { readWhipOffer } from '../../media-node/whip/whipSdp.ts';
import { ValidationError } from '../../shared/errors.ts';

// Every codec mediasoup supports, each with its payload type: a router that takes anything.
const router = getSupportedRtpCapabilities() as unknown as types.RtpCapabilities;
const FINGERPRINT = `sha-256 ${Array.from({ length: 32 }, () => 'AB').join(':')}`;

const section = (kind: 'audio' | 'video', mid: string, direction: string, extra: string[] = []) => {
  const [pt, codec] = kind === 'audio' ? [111, 'opus/48000/2'] : [96, 'VP8/90000'];
  return [
    `m=${kind} 9 UDP/TLS/RTP/SAVPF ${pt}`,
    'c=IN IP4 0.0.0.0',
    'a=ice-ufrag:abcd',
    'a=ice-pwd:abcdefghijklmnopqrstuvwx',
    `a=fingerprint:${FINGERPRINT}`,
    'a=setup:actpass',
    `a=mid:${mid}`,
    `a=${direction}`,
    'a=rtcp-mux',
    `a=rtpmap:${pt} ${codec}`,
    ...(kind === 'video' ? [`a=rtcp-fb:${pt} nack`, `a=rtcp-fb:${pt} nack pli`] : []),
    ...(direction === 'sendonly' ? [`a=ssrc:${kind === 'audio' ? 1111 : 2222} cname:whip`] : []),
    ...extra,
  ];
};
const offer = (...sections: string[][]) =>
  [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    `a=group:BUNDLE ${sections.map((_, i) => i).join(' ')}`,
    ...sections.flat(),
    '',
  ].join('\r\n');

const refused = (read: () => unknown) => {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).publicMessage;
  }
  throw new Error('not refused');
};

describe('readWhipOffer', () => {
  it("takes a browser's sendonly audio and video: its payload types, SSRCs and CNAME, the DTLS client role", () => {
    const read = readWhipOffer(
      offer(section('audio', '0', 'sendonly'), section('video', '1', 'sendonly')),
      router,
    );
    expect(read.dtlsParameters.role).toBe('client');
    expect(read.tracks.map((t) => [t.kind, t.mid])).toEqual([
      ['audio', '0'],
      ['video', '1'],
    ]);
    const video = read.tracks[1]!.rtpParameters;
    expect(video.codecs[0]).toMatchObject({ mimeType: 'video/VP8', payloadType: 96 });
    expect(video.encodings).toEqual([expect.objectContaining({ ssrc: 2222 })]);
    expect(video.rtcp?.cname).toBe('whip');
  });

  it('refuses what it cannot publish', () => {
    expect(refused(() => readWhipOffer('not sdp at all', router))).toMatch(/no audio or video/);
    expect(refused(() => readWhipOffer(offer(section('video', '0', 'recvonly')), router))).toMatch(
      /does not send/,
    );
    expect(
      refused(() =>
        readWhipOffer(offer(section('video', '0', 'sendonly'), section('video', '1', 'sendonly')), router),
      ),
    ).toMatch(/more than one video/);
    const simulcast = section('video', '0', 'sendonly', [
      'a=rid:h send',
      'a=rid:l send',
      'a=simulcast:send h;l',
    ]);
    expect(refused(() => readWhipOffer(offer(simulcast), router))).toMatch(/simulcast/);
    const g729 = section('audio', '0', 'sendonly').map((l) =>
      l.replace('opus/48000/2', 'G729/8000').replace(' 111', ' 18').replace(':111', ':18'),
    );
    expect(refused(() => readWhipOffer(offer(g729), router))).toMatch(/no audio codec in common/);
  });
});

describe('readWhepOffer and sessionCodecs', () => {
  it("takes a player's recvonly offer and gives the session router the player's payload types", () => {
    const read = readWhepOffer(offer(section('audio', 'a', 'recvonly'), section('video', 'v', 'recvonly')));
    expect(read.sections).toEqual([
      { kind: 'audio', mid: 'a' },
      { kind: 'video', mid: 'v' },
    ]);
    const producer = (kind: 'audio' | 'video', mimeType: string, clockRate: number, payloadType: number) =>
      ({
        kind,
        rtpParameters: {
          codecs: [{ mimeType, clockRate, payloadType, ...(kind === 'audio' ? { channels: 2 } : {}) }],
        },
      }) as unknown as types.Producer;
    const codecs = sessionCodecs(
      [producer('audio', 'audio/opus', 48000, 100), producer('video', 'video/VP8', 90000, 101)],
      read.capabilities,
    );
    expect(codecs.map((c) => [c.mimeType, c.preferredPayloadType])).toEqual([
      ['audio/opus', 111],
      ['video/VP8', 96],
    ]);
    expect(
      refused(() => sessionCodecs([producer('video', 'video/H264', 90000, 102)], read.capabilities)),
    ).toMatch(/does not decode video\/H264/);
    expect(refused(() => readWhepOffer(offer(section('video', 'v', 'sendonly'))))).toMatch(
      /does not receive/,
    );
  });
});
