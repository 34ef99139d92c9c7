import type { Rect } from './layout.ts';

/** yuv420p frames as one Buffer: the Y plane, then U and V at half width and height. */
export const yuvFrameSize = (width: number, height: number): number => (width * height * 3) / 2;

/** An RGB colour in BT.601 limited-range YUV (what x264/libvpx and browsers assume). */
export function rgbToYuv({ r, g, b }: { r: number; g: number; b: number }): [number, number, number] {
  const y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
  const u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255;
  const v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255;
  const byte = (x: number) => Math.max(0, Math.min(255, Math.round(x)));
  return [byte(y), byte(u), byte(v)];
}

/** A width × height frame of one colour. */
export function solidFrame(width: number, height: number, rgb: { r: number; g: number; b: number }): Buffer {
  const [y, u, v] = rgbToYuv(rgb);
  const frame = Buffer.allocUnsafe(yuvFrameSize(width, height));
  const luma = width * height;
  frame.fill(y, 0, luma);
  frame.fill(u, luma, luma + luma / 4);
  frame.fill(v, luma + luma / 4);
  return frame;
}

/**
 * Copies a `rect.width × rect.height` yuv420p frame into `canvas` (canvasWidth × canvasHeight) at
 * the rectangle, plane by plane, row by row. The rectangle's edges are even (layout.pixelRect).
 */
export function blit(
  canvas: Buffer,
  canvasWidth: number,
  canvasHeight: number,
  frame: Buffer,
  rect: Rect,
): void {
  const { x, y, width: w, height: h } = rect;
  if (frame.length !== yuvFrameSize(w, h)) return;
  const cw = canvasWidth;
  for (let row = 0; row < h; row++) frame.copy(canvas, (y + row) * cw + x, row * w, row * w + w);
  const luma = cw * canvasHeight;
  const cw2 = cw / 2;
  const w2 = w / 2;
  const h2 = h / 2;
  const srcU = w * h;
  const srcV = srcU + w2 * h2;
  const dstU = luma;
  const dstV = luma + luma / 4;
  for (let row = 0; row < h2; row++) {
    const dst = (y / 2 + row) * cw2 + x / 2;
    frame.copy(canvas, dstU + dst, srcU + row * w2, srcU + row * w2 + w2);
    frame.copy(canvas, dstV + dst, srcV + row * w2, srcV + row * w2 + w2);
  }
}

/**
 * A yuv420p frame resized by nearest neighbour (cheap, once per layout change): what a region
 * shows between a resize and its decoder's first frame at the new size, instead of a hole.
 */
export function scaleNearest(frame: Buffer, from: { width: number; height: number }, to: Rect): Buffer {
  const out = Buffer.allocUnsafe(yuvFrameSize(to.width, to.height));
  const plane = (src: number, sw: number, sh: number, dst: number, dw: number, dh: number) => {
    for (let y = 0; y < dh; y++) {
      const sy = Math.min(sh - 1, Math.floor((y * sh) / dh));
      for (let x = 0; x < dw; x++)
        out[dst + y * dw + x] = frame[src + sy * sw + Math.min(sw - 1, Math.floor((x * sw) / dw))]!;
    }
  };
  const { width: sw, height: sh } = from;
  const { width: dw, height: dh } = to;
  plane(0, sw, sh, 0, dw, dh);
  plane(sw * sh, sw / 2, sh / 2, dw * dh, dw / 2, dh / 2);
  plane(sw * sh + (sw * sh) / 4, sw / 2, sh / 2, dw * dh + (dw * dh) / 4, dw / 2, dh / 2);
  return out;
}
