import { describe, expect, it } from 'vitest';
import { sdpForRtpReceiver } from '../../media-node/ffmpeg/sdp.ts';

describe('sdpForRtpReceiver', () => {
  it('describes the consumer codec with its payload type and fmtp', () => {
    const sdp = sdpForRtpReceiver({
      kind: 'video',
      address: '127.0.0.1',
      port: 5004,
      rtpParameters: {
        codecs: [
          {
            mimeType: 'video/H264',
            payloadType: 107,
            clockRate: 90000,
            parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' },
          },
        ],
      },
    });
    expect(sdp.split('\n')).toEqual(
      expect.arrayContaining([
        'c=IN IP4 127.0.0.1',
        'm=video 5004 RTP/AVP 107',
        'a=rtpmap:107 H264/90000',
        'a=fmtp:107 packetization-mode=1;profile-level-id=42e01f',
      ]),
    );
  });

  it('carries audio channels and IPv6 addresses', () => {
    const sdp = sdpForRtpReceiver({
      kind: 'audio',
      address: '::1',
      port: 6000,
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
      },
    });
    expect(sdp).toContain('a=rtpmap:100 opus/48000/2');
    expect(sdp).toContain('c=IN IP6 ::1');
    expect(sdp).not.toContain('a=fmtp');
  });
});
