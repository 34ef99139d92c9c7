import { describe, expect, it } from 'vitest';
import { parseSpsTrace, passThroughCodec } from '../../media-node/streaming/h264PassThrough.ts';

/** ffmpeg 5.1's trace_headers lines for an SPS, as it prints them. */
const trace = (profile: number, poc: number) =>
  [
    `[trace_headers @ 0x5601e8945e80] 8           profile_idc                                          ${profile.toString(2).padStart(8, '0')} = ${profile}`,
    '[trace_headers @ 0x5601e8945e80] 17          constraint_set1_flag                                        1 = 1',
    `[trace_headers @ 0x5601e8945e80] 34          pic_order_cnt_type                                        ${poc.toString(2)} = ${poc}`,
  ].join('\n');

describe('H.264 pass-through of streaming-ins', () => {
  it("reads the profile and picture order type from ffmpeg's SPS trace", () => {
    expect(parseSpsTrace(trace(77, 0))).toEqual({ profileIdc: 77, picOrderCntType: 0 });
    expect(parseSpsTrace('Stream #0:0: Video: vp8')).toBeUndefined();
  });

  it('forwards Baseline, and Main without B-frames; re-encodes High, Main with B-frames and anything unknown', () => {
    expect(passThroughCodec(parseSpsTrace(trace(66, 2)))).toBe('h264');
    expect(passThroughCodec(parseSpsTrace(trace(77, 2)))).toBe('h264main');
    expect(passThroughCodec(parseSpsTrace(trace(77, 0)))).toBeUndefined();
    expect(passThroughCodec(parseSpsTrace(trace(100, 2)))).toBeUndefined();
    expect(passThroughCodec(undefined)).toBeUndefined();
  });
});
