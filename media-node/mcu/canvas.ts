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
 * A frame's rows as views (the Y rows, then the U rows, then the V rows), made once per frame
 * buffer (decoders' buffers are reused): Buffer#copy with offsets makes a new view per call, which
 * at ~90,000 row copies a second for a 2×2 mix was most of the compositor's garbage.
 */
const rowViews = new WeakMap<Buffer, Uint8Array[]>();
function rowsOf(frame: Buffer, w: number, h: number): Uint8Array[] {
  const cached = rowViews.get(frame);
  if (cached?.length === 2 * h && cached[0]!.length === w) return cached;
  const rows: Uint8Array[] = [];
  const { buffer, byteOffset } = frame;
  for (let row = 0; row < h; row++) rows.push(new Uint8Array(buffer, byteOffset + row * w, w));
  const w2 = w / 2;
  const h2 = h / 2;
  for (const plane of [w * h, w * h + w2 * h2])
    for (let row = 0; row < h2; row++) rows.push(new Uint8Array(buffer, byteOffset + plane + row * w2, w2));
  rowViews.set(frame, rows);
  return rows;
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
  const rows = rowsOf(frame, w, h);
  const cw = canvasWidth;
  for (let row = 0; row < h; row++) canvas.set(rows[row]!, (y + row) * cw + x);
  const luma = cw * canvasHeight;
  const cw2 = cw / 2;
  const h2 = h / 2;
  const dstU = luma;
  const dstV = luma + luma / 4;
  for (let row = 0; row < h2; row++) {
    const dst = (y / 2 + row) * cw2 + x / 2;
    canvas.set(rows[h + row]!, dstU + dst);
    canvas.set(rows[h + h2 + row]!, dstV + dst);
  }
}

/**
 * yuv420p frames resized from one size to another by nearest neighbour, with the sample positions
 * computed once: what a region shows while its decoder restarts at the region's new size (a layout
 * change), at ~1 ms per frame instead of a hole or a frozen picture.
 */
export class NearestScaler {
  readonly from: { width: number; height: number };
  readonly to: { width: number; height: number };
  /** Per output plane (Y, U, V): each output row's source row offset, each output column's source column. */
  readonly #planes: { src: number; dst: number; rows: Int32Array; cols: Int32Array }[];

  constructor(from: { width: number; height: number }, to: { width: number; height: number }) {
    this.from = { width: from.width, height: from.height };
    this.to = { width: to.width, height: to.height };
    const { width: sw, height: sh } = from;
    const { width: dw, height: dh } = to;
    const plane = (src: number, pw: number, ph: number, dst: number, qw: number, qh: number) => ({
      src,
      dst,
      rows: Int32Array.from({ length: qh }, (_, y) => Math.min(ph - 1, Math.floor((y * ph) / qh)) * pw),
      cols: Int32Array.from({ length: qw }, (_, x) => Math.min(pw - 1, Math.floor((x * pw) / qw))),
    });
    const luma = sw * sh;
    const dLuma = dw * dh;
    this.#planes = [
      plane(0, sw, sh, 0, dw, dh),
      plane(luma, sw / 2, sh / 2, dLuma, dw / 2, dh / 2),
      plane(luma + luma / 4, sw / 2, sh / 2, dLuma + dLuma / 4, dw / 2, dh / 2),
    ];
  }

  /** `frame` resized; into `out` when given (of the output size), else into a new Buffer. */
  scale(frame: Buffer, out?: Buffer): Buffer {
    const target =
      out && out.length === yuvFrameSize(this.to.width, this.to.height)
        ? out
        : Buffer.allocUnsafe(yuvFrameSize(this.to.width, this.to.height));
    for (const { src, dst, rows, cols } of this.#planes) {
      const width = cols.length;
      for (let y = 0; y < rows.length; y++) {
        const from = src + rows[y]!;
        const to = dst + y * width;
        for (let x = 0; x < width; x++) target[to + x] = frame[from + cols[x]!]!;
      }
    }
    return target;
  }
}

/** A yuv420p frame resized by nearest neighbour (NearestScaler, for one frame). */
export function scaleNearest(frame: Buffer, from: { width: number; height: number }, to: Rect): Buffer {
  return new NearestScaler(from, to).scale(frame);
}
