import { describe, expect, it } from 'vitest';
import { capabilitiesFrom, parseEncoders } from '../../media-node/ffmpeg/capabilities.ts';
import { backoffMs } from '../../media-node/pipelines/Pipelines.ts';
import { NodeCommandSchema, TranscodeParamsSchema } from '../../shared/protocol/commands.ts';

describe('pipeline restart backoff', () => {
  it('doubles from the base up to the cap, jittered to 50–100 %', () => {
    const policy = { baseMs: 500, maxMs: 4000 };
    for (let i = 0; i < 200; i++) {
      for (const [attempt, ceiling] of [
        [1, 500],
        [2, 1000],
        [3, 2000],
        [4, 4000],
        [9, 4000],
      ] as const) {
        const d = backoffMs(attempt, policy);
        expect(d).toBeGreaterThanOrEqual(ceiling / 2);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});

describe('node capabilities from ffmpeg encoders', () => {
  const listing = [
    'Encoders:',
    ' V..... = Video',
    ' A..... = Audio',
    ' .F.... = Frame-level multithreading',
    ' ------',
    ' V....D libx264              libx264 H.264 / AVC',
    ' V....D libvpx               libvpx VP8 (codec vp8)',
    ' A..... aac                  AAC (Advanced Audio Coding)',
    ' A..... libopus              libopus Opus (codec opus)',
  ].join('\n');

  it('parses encoder names and ignores the legend', () => {
    expect([...parseEncoders(listing)].sort()).toEqual(['aac', 'libopus', 'libvpx', 'libx264']);
  });

  it('sfu always; mix needs a video encoder and opus; stream needs H.264 and AAC; record needs ffmpeg', () => {
    expect(capabilitiesFrom(undefined)).toEqual(['sfu']);
    expect(capabilitiesFrom(parseEncoders(listing))).toEqual(['sfu', 'mix', 'stream', 'record']);
    expect(capabilitiesFrom(new Set(['libvpx', 'libopus']))).toEqual(['sfu', 'mix', 'record']);
    expect(capabilitiesFrom(new Set())).toEqual(['sfu', 'record']);
  });
});

describe('pipeline commands', () => {
  const base = { id: crypto.randomUUID(), roomId: 'svc/r', issuedAt: new Date().toISOString() };

  it('pipeline.start carries a known kind, one input and bounded params', () => {
    const ok = NodeCommandSchema.parse({
      ...base,
      type: 'pipeline.start',
      pipelineId: 'p-1',
      kind: 'transcode',
      input: { streamId: 's1' },
    });
    expect(ok).toMatchObject({ type: 'pipeline.start', params: {} });
    const bad = (extra: object) =>
      NodeCommandSchema.safeParse({
        ...base,
        type: 'pipeline.start',
        pipelineId: 'p-1',
        kind: 'transcode',
        input: { streamId: 's1' },
        ...extra,
      }).success;
    expect(bad({ kind: 'shell' })).toBe(false);
    expect(bad({ pipelineId: '../x' })).toBe(false);
    expect(bad({ params: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])) })).toBe(
      false,
    );
    expect(bad({ params: { nested: { a: 1 } } })).toBe(false);
    expect(NodeCommandSchema.safeParse({ ...base, type: 'pipeline.stop', pipelineId: 'p-1' }).success).toBe(
      true,
    );
  });

  it('transcode params have defaults and bounds', () => {
    expect(TranscodeParamsSchema.parse({})).toEqual({
      codec: 'h264',
      width: 320,
      height: 240,
      framerate: 15,
      bitrateKbps: 300,
      keyFrameIntervalSeconds: 1,
    });
    // null: the source's own size or rate (a subscriber asking only for another codec).
    expect(TranscodeParamsSchema.parse({ width: null, height: null, framerate: null })).toMatchObject({
      width: null,
      framerate: null,
    });
    for (const params of [
      { bitrateKbps: 100_000 },
      { width: 4096 },
      { height: 8 },
      { framerate: 120 },
      { codec: 'av1' },
      { width: 321 },
      { keyFrameIntervalSeconds: 0 },
      { extra: 1 },
    ])
      expect(TranscodeParamsSchema.safeParse(params).success, JSON.stringify(params)).toBe(false);
  });
});
