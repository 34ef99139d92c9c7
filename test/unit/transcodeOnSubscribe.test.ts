import { describe, expect, it } from 'vitest';
import { refuseUnimplementedRoomOptions } from '../../functions/services/unimplemented.ts';
import { RtpTimeline, vp8PictureIdAt } from '../../media-node/pipelines/RtpTimeline.ts';
import { startsKeyFrame } from '../../media-node/transcoding/keyFrames.ts';
import { SubscriptionTranscoders } from '../../media-node/transcoding/SubscriptionTranscoders.ts';
import { ErrorCodes, type TesseraError } from '../../shared/errors.ts';
import { checkAudioTranscode } from '../../shared/media/audioOut.ts';
import {
  checkVideoParameters,
  checkVideoTranscode,
  defaultTranscodeKbps,
  resolveVideoTranscode,
} from '../../shared/media/videoOut.ts';
import { RoomOptionsSchema } from '../../shared/protocol/http/room.ts';
import { methodParams } from '../../shared/protocol/signaling.ts';

/** An RTP packet: 12-byte header (optionally with one CSRC and a one-word header extension), then `payload`. */
function rtp(
  payload: number[],
  options: { seq?: number; ts?: number; csrc?: boolean; extension?: boolean } = {},
) {
  const header = Buffer.alloc(12);
  header[0] = 0x80 | (options.csrc ? 1 : 0) | (options.extension ? 0x10 : 0);
  header[1] = 96;
  header.writeUInt16BE(options.seq ?? 1, 2);
  header.writeUInt32BE((options.ts ?? 0) >>> 0, 4);
  header.writeUInt32BE(1234, 8);
  const csrc = options.csrc ? Buffer.alloc(4, 7) : Buffer.alloc(0);
  const extension = options.extension ? Buffer.from([0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0]) : Buffer.alloc(0);
  return Buffer.concat([header, csrc, extension, Buffer.from(payload)]);
}

describe('key-frame starts (where a transcoded subscription may switch encoders)', () => {
  it('H.264: an SPS or an IDR, alone, in a STAP-A, or as the first FU-A fragment', () => {
    expect(startsKeyFrame(rtp([0x67, 0x42]), 'h264')).toBe(true); // SPS
    expect(startsKeyFrame(rtp([0x65, 0x88]), 'h264')).toBe(true); // IDR slice
    expect(startsKeyFrame(rtp([0x41, 0x9a]), 'h264')).toBe(false); // non-IDR slice
    expect(startsKeyFrame(rtp([0x68, 0xce]), 'h264')).toBe(false); // PPS alone
    // STAP-A: [size, NAL] pairs; the SPS is the second unit.
    expect(startsKeyFrame(rtp([0x78, 0, 2, 0x06, 0x05, 0, 2, 0x67, 0x42]), 'h264')).toBe(true);
    expect(startsKeyFrame(rtp([0x78, 0, 2, 0x06, 0x05, 0, 2, 0x41, 0x9a]), 'h264')).toBe(false);
    // FU-A: start bit and the IDR type; a middle fragment of the same IDR is no start.
    expect(startsKeyFrame(rtp([0x7c, 0x85, 0xaa]), 'h264')).toBe(true);
    expect(startsKeyFrame(rtp([0x7c, 0x05, 0xaa]), 'h264')).toBe(false);
    expect(startsKeyFrame(rtp([0x7c, 0x81, 0xaa]), 'h264')).toBe(false);
    // The payload is found after CSRCs and header extensions.
    expect(startsKeyFrame(rtp([0x65, 0x88], { csrc: true, extension: true }), 'h264')).toBe(true);
    expect(startsKeyFrame(rtp([0x41, 0x88], { csrc: true, extension: true }), 'h264')).toBe(false);
  });

  it('VP8: the start of partition 0 with the key-frame bit (P = 0), with or without a picture id', () => {
    expect(startsKeyFrame(rtp([0x10, 0x00, 0x9d]), 'vp8')).toBe(true);
    expect(startsKeyFrame(rtp([0x10, 0x01, 0x9d]), 'vp8')).toBe(false); // inter frame
    expect(startsKeyFrame(rtp([0x00, 0x00, 0x9d]), 'vp8')).toBe(false); // not a start
    // X, I (7-bit picture id 5), then the frame header.
    expect(startsKeyFrame(rtp([0x90, 0x80, 0x05, 0x00]), 'vp8')).toBe(true);
    expect(startsKeyFrame(rtp([0x90, 0x80, 0x05, 0x01]), 'vp8')).toBe(false);
    // 15-bit picture id, TL0PICIDX and TID/KEYIDX.
    expect(startsKeyFrame(rtp([0x90, 0xf0, 0x81, 0x23, 0x07, 0x40, 0x00]), 'vp8')).toBe(true);
  });

  it('VP9: a frame start (B) whose uncompressed header says key frame', () => {
    // ffmpeg's descriptor: B only, then frame_marker 10, profile 0, show_existing 0, frame_type 0.
    expect(startsKeyFrame(rtp([0x08, 0x82, 0x49]), 'vp9')).toBe(true);
    expect(startsKeyFrame(rtp([0x08, 0x86, 0x00]), 'vp9')).toBe(false); // frame_type 1
    expect(startsKeyFrame(rtp([0x04, 0x82, 0x49]), 'vp9')).toBe(false); // E only: not a start
    expect(startsKeyFrame(rtp([0x48, 0x82, 0x49]), 'vp9')).toBe(false); // P: predicted
    // A picture id (I, 15 bits) before the header.
    expect(startsKeyFrame(rtp([0x88, 0x80, 0x01, 0x82, 0x49]), 'vp9')).toBe(true);
  });
});

describe('RtpTimeline', () => {
  const at = (p: Buffer) => [p.readUInt16BE(2), p.readUInt32BE(4)];

  it('a new run continues the sequence and puts its timestamp one wall-clock gap after the last', () => {
    const timeline = new RtpTimeline(90_000);
    const a = rtp([1], { seq: 100, ts: 9000 });
    const b = rtp([1], { seq: 101, ts: 12_000 });
    timeline.place(a, 1000);
    timeline.place(b, 1033);
    expect([at(a), at(b)]).toEqual([
      [100, 9000],
      [101, 12_000],
    ]);
    timeline.newRun();
    const c = rtp([1], { seq: 40_000, ts: 5 });
    const d = rtp([1], { seq: 40_001, ts: 3005 });
    timeline.place(c, 1133); // 100 ms later: 9000 ticks
    timeline.place(d, 1166);
    expect([at(c), at(d)]).toEqual([
      [102, 21_000],
      [103, 24_000],
    ]);
  });

  it('with detectJumps an input that leaps (a restarted encoder) is a new run by itself', () => {
    const timeline = new RtpTimeline(90_000, { detectJumps: true });
    const a = rtp([1], { seq: 7, ts: 1_000_000 });
    timeline.place(a, 0);
    const b = rtp([1], { seq: 30_000, ts: 4_000_000_000 });
    timeline.place(b, 50);
    expect(at(b)).toEqual([8, 1_000_000 + 4500]);
    // Without it, the packet keeps its leap.
    const plain = new RtpTimeline(90_000);
    const c = rtp([1], { seq: 7, ts: 1_000_000 });
    const d = rtp([1], { seq: 30_000, ts: 4_000_000_000 });
    plain.place(c, 0);
    plain.place(d, 50);
    expect(at(d)).toEqual([30_000, 4_000_000_000]);
  });

  it('VP8 picture ids continue across runs', () => {
    const timeline = new RtpTimeline(90_000, { vp8: true });
    const a = rtp([0x90, 0x80, 0x30, 0x00], { seq: 1 });
    timeline.place(a, 0);
    timeline.newRun();
    const b = rtp([0x90, 0x80, 0x00, 0x00], { seq: 9 });
    timeline.place(b, 10);
    expect(b[vp8PictureIdAt(b)!]).toBe(0x31);
  });
});

describe('transcoding policy (the room’s transcoding and mediaOut)', () => {
  const room = RoomOptionsSchema.parse({});
  const withHalf = RoomOptionsSchema.parse({
    mediaOut: {
      ...room.mediaOut,
      video: { ...room.mediaOut.video, parameters: { ...room.mediaOut.video.parameters, bitrate: ['x0.5'] } },
    },
  });

  it('allows what the default room lists and refuses the rest with a clear error', () => {
    expect(() =>
      checkVideoTranscode(room, {
        format: { codec: 'h264' },
        parameters: {
          resolution: { width: 320, height: 240 },
          framerate: 15,
          bitrate: 'x0.8',
          keyFrameInterval: 2,
        },
      }),
    ).not.toThrow();
    expect(() => checkVideoTranscode(room, { parameters: { framerate: 13 } })).toThrow(/Framerate 13/);
    expect(() => checkVideoTranscode(room, { parameters: { bitrate: 'x0.5' } })).toThrow(/Bitrate x0.5/);
    expect(() => checkVideoTranscode(withHalf, { parameters: { bitrate: 'x0.5' } })).not.toThrow();
    // x1.0 is no change (OWT's client SDKs send it).
    expect(() => checkVideoTranscode(withHalf, { parameters: { bitrate: 'x1.0' } })).not.toThrow();
    expect(() => checkVideoTranscode(room, { parameters: { keyFrameInterval: 3 } })).toThrow(
      /KeyFrameInterval/,
    );
  });

  it('codecs no transcoder makes are 501, H.264 main/high too; formats not listed are refused', () => {
    expect(() => checkVideoTranscode(room, { format: { codec: 'h265' } })).toThrow(
      expect.objectContaining({ code: 1202 }),
    );
    expect(() => checkVideoTranscode(room, { format: { codec: 'h264', profile: 'H' } })).toThrow(
      expect.objectContaining({ code: 1202 }),
    );
    const vp8Only = RoomOptionsSchema.parse({
      mediaOut: { ...room.mediaOut, video: { ...room.mediaOut.video, format: [{ codec: 'vp8' }] } },
    });
    expect(() => checkVideoTranscode(vp8Only, { format: { codec: 'h264' } })).toThrow(
      expect.objectContaining({ code: 1301 }),
    );
  });

  it('sizes: a named one listed, or any when the list holds a multiplier; transcoding flags switch each off', () => {
    const namedOnly = RoomOptionsSchema.parse({
      mediaOut: {
        ...room.mediaOut,
        video: {
          ...room.mediaOut.video,
          parameters: { ...room.mediaOut.video.parameters, resolution: ['qvga'] },
        },
      },
    });
    expect(() => checkVideoParameters(namedOnly, { resolution: { width: 320, height: 240 } })).not.toThrow();
    expect(() => checkVideoParameters(namedOnly, { resolution: { width: 400, height: 300 } })).toThrow(
      /Resolution/,
    );
    expect(() => checkVideoParameters(room, { resolution: { width: 400, height: 300 } })).not.toThrow();
    const noResize = RoomOptionsSchema.parse({
      transcoding: {
        ...room.transcoding,
        video: {
          ...room.transcoding.video,
          parameters: { ...room.transcoding.video.parameters, resolution: false },
        },
      },
    });
    expect(() => checkVideoParameters(noResize, { resolution: { width: 320, height: 240 } })).toThrow(
      /Resolution/,
    );
    const noFormat = RoomOptionsSchema.parse({
      transcoding: { ...room.transcoding, video: { ...room.transcoding.video, format: false } },
    });
    expect(() => checkVideoTranscode(noFormat, { format: { codec: 'vp8' } })).toThrow(/Format/);
  });

  it('a room with its own mediaOut lists (video and audio) is accepted', () => {
    expect(() => refuseUnimplementedRoomOptions({ mediaOut: withHalf.mediaOut })).not.toThrow();
    expect(() =>
      refuseUnimplementedRoomOptions({
        mediaOut: { ...room.mediaOut, audio: [{ codec: 'opus', sampleRate: 48000, channelNum: 2 }] },
      }),
    ).not.toThrow();
  });

  it("bit rates follow OWT's table: x0.5 is half the default for the size and rate asked for", () => {
    expect(defaultTranscodeKbps('h264', 640, 480, 30)).toBeCloseTo(800 * 0.8);
    expect(defaultTranscodeKbps('vp8', 320, 240, 30)).toBeCloseTo(400 * 1.2 * 0.8);
    const full = resolveVideoTranscode('h264', { resolution: { width: 320, height: 240 }, framerate: 15 });
    const half = resolveVideoTranscode('h264', {
      resolution: { width: 320, height: 240 },
      framerate: 15,
      bitrate: 'x0.5',
    });
    expect(half.bitrateKbps).toBe(Math.round(full.bitrateKbps / 2));
    // An update keeps what it does not name.
    const updated = resolveVideoTranscode('h264', { resolution: { width: 160, height: 120 } }, half);
    expect(updated).toMatchObject({ width: 160, height: 120, framerate: 15, bitrate: 'x0.5' });
    expect(updated.bitrateKbps).toBeLessThan(half.bitrateKbps);
  });

  it('only a request that changes something transcodes; the wire refuses odd sizes and bad multipliers', () => {
    expect(SubscriptionTranscoders.transcodes({ format: { codec: 'vp8' } }, 'vp8')).toBe(false);
    expect(SubscriptionTranscoders.transcodes({ parameters: { bitrate: 'x1' } }, 'vp8')).toBe(false);
    expect(SubscriptionTranscoders.transcodes({ format: { codec: 'h264' } }, 'vp8')).toBe(true);
    expect(SubscriptionTranscoders.transcodes({ parameters: { framerate: 15 } }, 'vp8')).toBe(true);
    const subscribe = methodParams.subscribe;
    expect(
      subscribe.safeParse({
        producerId: 'p',
        video: { parameters: { resolution: { width: 321, height: 240 } } },
      }).success,
    ).toBe(false);
    expect(subscribe.safeParse({ producerId: 'p', video: { parameters: { bitrate: '0.5' } } }).success).toBe(
      false,
    );
    expect(subscribe.safeParse({ producerId: 'p', video: { parameters: { bitrate: 'x0.5' } } }).success).toBe(
      true,
    );
    expect(
      methodParams['subscription.control'].safeParse({
        consumerId: 'c',
        operation: 'update',
        video: { parameters: { framerate: 12 } },
      }).success,
    ).toBe(true);
  });
});

describe('audio transcoding policy (mediaOut.audio, transcoding.audio)', () => {
  const room = RoomOptionsSchema.parse({});

  it('accepts a listed WebRTC codec at its RTP rate, and says what the subscriber gets', () => {
    expect(checkAudioTranscode(room, { format: { codec: 'pcmu' } })).toEqual({
      codec: 'pcmu',
      sampleRate: 8000,
      channels: 1,
    });
    expect(
      checkAudioTranscode(room, { format: { codec: 'opus', sampleRate: 48000, channelNum: 2 } }),
    ).toMatchObject({
      codec: 'opus',
    });
  });

  it('refuses what the room does not list, another rate, transcoding turned off, and codecs WebRTC does not carry', () => {
    expect(() => checkAudioTranscode(room, { format: { codec: 'g722' } })).toThrow(
      /Format g722 is not acceptable/,
    );
    expect(() => checkAudioTranscode(room, { format: { codec: 'pcmu', sampleRate: 16000 } })).toThrow(
      /8000 Hz/,
    );
    const noTranscoding = { ...room, transcoding: { ...room.transcoding, audio: false } };
    expect(() => checkAudioTranscode(noTranscoding, { format: { codec: 'pcma' } })).toThrow(
      /transcoding.audio is off/,
    );
    expect(() => checkAudioTranscode(noTranscoding, { format: { codec: 'opus' } })).not.toThrow();
    const aac = (() => {
      try {
        checkAudioTranscode(room, { format: { codec: 'aac' } });
      } catch (error) {
        return error as TesseraError;
      }
    })();
    expect(aac?.code).toBe(ErrorCodes.notImplemented);
  });
});
