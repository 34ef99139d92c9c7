import { describe, expect, it } from 'vitest';
import { blit, rgbToYuv, scaleNearest, solidFrame, yuvFrameSize } from '../../media-node/mcu/canvas.ts';
import {
  fractionValue,
  layoutFor,
  pixelRect,
  resolveLayout,
  templateFor,
  templatesFor,
} from '../../media-node/mcu/layout.ts';
import { mixInto, rms, toPcm, VoiceActivity } from '../../media-node/mcu/pcm.ts';
import { FrameAssembler } from '../../media-node/mcu/SupervisedFfmpeg.ts';
import { defaultVideoKbps } from '../../media-node/mcu/VideoMixer.ts';

const canvas = { width: 1280, height: 720 };

describe('MCU layouts (OWT templates → pixel rectangles)', () => {
  it('reads fractions as OWT writes them, and numbers', () => {
    expect(fractionValue('1/3')).toBeCloseTo(1 / 3);
    expect(fractionValue('0')).toBe(0);
    expect(fractionValue('0.25')).toBe(0.25);
    expect(fractionValue(0.5)).toBe(0.5);
    expect(() => fractionValue('1/0x')).toThrow();
  });

  it('fluid grows 1, 2×2, 3×3, 4×4 with the inputs, up to maxInput', () => {
    const fluid = templatesFor('fluid', 16);
    expect(fluid.map((t) => t.region.length)).toEqual([1, 4, 9, 16]);
    expect(templateFor(fluid, 1)!.region.length).toBe(1);
    expect(templateFor(fluid, 2)!.region.length).toBe(4);
    expect(templateFor(fluid, 5)!.region.length).toBe(9);
    expect(templatesFor('fluid', 5).map((t) => t.region.length)).toEqual([1, 4, 9]);
    expect(fluid[1]!.region[3]).toEqual({
      id: '4',
      shape: 'rectangle',
      area: { left: '1/2', top: '1/2', width: '1/2', height: '1/2' },
    });
  });

  it('lecture is OWT’s: 1, then a 2/3 primary with five 1/3 regions, then rings for larger maxInput', () => {
    const lecture = templatesFor('lecture', 16);
    expect(lecture[0]!.region.length).toBe(1);
    expect(lecture[1]!.region[0]!.area).toEqual({ left: '0', top: '0', width: '2/3', height: '2/3' });
    expect(lecture[1]!.region.length).toBe(6);
    // OWT's own order (its rounding makes a 13 follow the 14); the choice takes the smallest that fits.
    expect(lecture.map((t) => t.region.length)).toEqual([1, 6, 8, 10, 12, 14, 13, 17]);
    expect(templateFor(lecture, 13)!.region.length).toBe(13);
    expect(templateFor(lecture, 30)!.region.length).toBe(17);
    expect(templatesFor('lecture', 4).map((t) => t.region.length)).toEqual([1, 6]);
  });

  it('void has no template; custom templates replace or slot in by region count', () => {
    expect(templatesFor('void', 16)).toEqual([]);
    const two = {
      primary: '2',
      region: [
        { id: 'a', shape: 'rectangle' as const, area: { left: 0, top: 0, width: 0.5, height: 1 } },
        { id: '2', shape: 'rectangle' as const, area: { left: '1/2', top: 0, width: '1/2', height: 1 } },
      ],
    };
    const t = templatesFor('fluid', 9, [two]);
    expect(t.map((x) => x.region.length)).toEqual([1, 2, 4, 9]);
    const four = { region: templatesFor('fluid', 4)[1]!.region.slice().reverse() };
    expect(templatesFor('fluid', 9, [four])[1]!.region[0]!.id).toBe('4');
    // The custom template's primary region takes the primary input.
    const layout = layoutFor(t, ['x', 'y'], { maxInput: 9, primaryInput: 'y' });
    expect(layout).toEqual([
      { stream: 'y', region: two.region[1] },
      { stream: 'x', region: two.region[0] },
    ]);
  });

  it('places inputs in order, the primary first, leaves spare regions empty, caps at maxInput', () => {
    const fluid = templatesFor('fluid', 16);
    const three = layoutFor(fluid, ['a', 'b', 'c'], { maxInput: 16 });
    expect(three.map((e) => [e.stream, e.region.id])).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
      [undefined, '4'],
    ]);
    const primary = layoutFor(fluid, ['a', 'b', 'c'], { maxInput: 16, primaryInput: 'c' });
    expect(primary.map((e) => e.stream)).toEqual(['c', 'a', 'b', undefined]);
    const capped = layoutFor(fluid, ['a', 'b', 'c', 'd', 'e'], { maxInput: 4, primaryInput: 'e' });
    expect(capped.map((e) => e.stream)).toEqual(['e', 'a', 'b', 'c']);
    expect(layoutFor(fluid, [], { maxInput: 4 })).toEqual([]);
    expect(layoutFor([], ['a'], { maxInput: 4 })).toEqual([]);
  });

  it('turns regions into even pixel rectangles inside the canvas', () => {
    expect(pixelRect({ left: '1/2', top: '1/2', width: '1/2', height: '1/2' }, canvas)).toEqual({
      x: 640,
      y: 360,
      width: 640,
      height: 360,
    });
    const third = pixelRect(
      { left: '2/3', top: '1/3', width: '1/3', height: '1/3' },
      { width: 640, height: 480 },
    );
    expect(third).toEqual({ x: 426, y: 160, width: 214, height: 160 });
    for (const v of Object.values(pixelRect({ left: 0.1, top: 0.13, width: 0.33, height: 0.77 }, canvas)))
      expect(v % 2).toBe(0);
    const tiny = pixelRect({ left: 1, top: 1, width: 0, height: 0 }, canvas);
    expect(tiny.x + tiny.width).toBeLessThanOrEqual(1280);
    expect(tiny.width).toBe(2);
  });

  it('a REST layout keeps the area of regions given by id only, and refuses unknown ones', () => {
    const current = layoutFor(templatesFor('fluid', 4), ['a', 'b'], { maxInput: 4 });
    const next = resolveLayout(
      [
        { stream: 'b', region: { id: '1' } },
        { stream: 'a', region: { id: 'big', area: { left: 0, top: 0, width: 1, height: 1 } } },
      ],
      current,
    );
    expect(next[0]).toEqual({ stream: 'b', region: current[0]!.region });
    expect(next[1]!.region.area.width).toBe(1);
    expect(() => resolveLayout([{ region: { id: 'nope' } }], current)).toThrow(/nope/);
  });
});

describe('MCU compositor and audio mix (pure parts)', () => {
  it('fills the background and copies a region’s Y, U and V rows into its rectangle', () => {
    expect(rgbToYuv({ r: 0, g: 0, b: 0 })).toEqual([16, 128, 128]);
    expect(rgbToYuv({ r: 255, g: 255, b: 255 })).toEqual([235, 128, 128]);
    const canvas = solidFrame(8, 4, { r: 0, g: 0, b: 0 });
    const tile = solidFrame(4, 2, { r: 255, g: 0, b: 0 });
    const [ty, tu, tv] = rgbToYuv({ r: 255, g: 0, b: 0 });
    blit(canvas, 8, 4, tile, { x: 4, y: 2, width: 4, height: 2 });
    const luma = [...canvas.subarray(0, 32)];
    expect(luma.slice(0, 8)).toEqual(Array(8).fill(16));
    expect(luma.slice(16, 24)).toEqual([16, 16, 16, 16, ty, ty, ty, ty]);
    expect(luma.slice(24, 32)).toEqual([16, 16, 16, 16, ty, ty, ty, ty]);
    // U and V: 4×2 planes, the tile's 2×1 at (2, 1).
    expect([...canvas.subarray(32, 40)]).toEqual([128, 128, 128, 128, 128, 128, tu, tu]);
    expect([...canvas.subarray(40, 48)]).toEqual([128, 128, 128, 128, 128, 128, tv, tv]);
    // A frame of the wrong size is not drawn.
    const before = Buffer.from(canvas);
    blit(canvas, 8, 4, solidFrame(2, 2, { r: 0, g: 255, b: 0 }), { x: 0, y: 0, width: 4, height: 2 });
    expect(canvas.equals(before)).toBe(true);
    const scaled = scaleNearest(tile, { width: 4, height: 2 }, { x: 0, y: 0, width: 8, height: 4 });
    expect(scaled.length).toBe(yuvFrameSize(8, 4));
    expect(scaled.equals(solidFrame(8, 4, { r: 255, g: 0, b: 0 }))).toBe(true);
  });

  it('assembles fixed-size frames from chunks of any size', () => {
    const frames: number[][] = [];
    const a = new FrameAssembler(3, (f) => frames.push([...f]));
    a.push(Buffer.from([1]));
    a.push(Buffer.from([2, 3, 4, 5, 6, 7]));
    a.push(Buffer.from([8, 9]));
    expect(frames).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
  });

  it('mixes with clipping, and a mix minus one input is the sum of the others', () => {
    const sum = new Int32Array(3);
    mixInto(sum, Int16Array.from([30000, -30000, 5]), 1);
    mixInto(sum, Int16Array.from([10000, -10000, 7]), 1);
    const pcm = toPcm(sum);
    expect([pcm.readInt16LE(0), pcm.readInt16LE(2), pcm.readInt16LE(4)]).toEqual([32767, -32768, 12]);
    mixInto(sum, Int16Array.from([30000, -30000, 5]), -1);
    expect([...sum]).toEqual([10000, -10000, 7]);
    expect(rms(Int16Array.from([3, -3, 3, -3]))).toBe(3);
  });

  it('voice activity: the loudest takes over only when clearly louder for a while', () => {
    const vad = new VoiceActivity({ threshold: 100, ratio: 1.5, holdTicks: 5, alpha: 1 });
    expect(vad.update(new Map([['a', 50]]))).toBeUndefined();
    expect(
      vad.update(
        new Map([
          ['a', 1000],
          ['b', 500],
        ]),
      ),
    ).toBe('a');
    // b slightly louder: no flapping.
    for (let i = 0; i < 20; i++)
      expect(
        vad.update(
          new Map([
            ['a', 1000],
            ['b', 1200],
          ]),
        ),
      ).toBe('a');
    // b clearly louder: takes over after holdTicks.
    const seen = Array.from({ length: 5 }, () =>
      vad.update(
        new Map([
          ['a', 1000],
          ['b', 2000],
        ]),
      ),
    );
    expect(seen).toEqual(['a', 'a', 'a', 'a', 'b']);
    vad.forget('b');
    expect(vad.active).toBeUndefined();
  });
});

describe('a view without a bit rate', () => {
  it('gets one by pixels per second, scaled by its motionFactor (OWT), never under 200 kbit/s', () => {
    expect(defaultVideoKbps(1280, 720, 30, 0.8)).toBe(1659);
    expect(defaultVideoKbps(1280, 720, 30, 0.4)).toBe(829);
    expect(defaultVideoKbps(1280, 720, 30, 1)).toBeGreaterThan(defaultVideoKbps(1280, 720, 30, 0.8));
    expect(defaultVideoKbps(160, 120, 5, 0.8)).toBe(200);
  });
});
