/**
 * Layouts of a mixed view, as OWT defines them (owt-server source/data_access/model/layoutTemplate.js):
 * a view has a list of templates ordered by region count; the mixer uses the smallest template
 * with a region for every input. Regions are fractions of the canvas (OWT writes them as strings
 * such as "1/3"; numbers are accepted too), turned into even pixel rectangles for yuv420p.
 * Pure: no I/O, no clocks.
 */

export type Fraction = string | number;
export interface Area {
  left: Fraction;
  top: Fraction;
  width: Fraction;
  height: Fraction;
}
export interface Region {
  id: string;
  shape: 'rectangle';
  area: Area;
}
export interface Template {
  primary?: string | undefined;
  region: Region[];
}
/** One region of a mixed stream's layout and the input shown in it (none: background). */
export interface LayoutEntry {
  stream?: string | undefined;
  region: Region;
}
/** A rectangle of the canvas in pixels, every edge even (yuv420p chroma is subsampled by 2). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type BaseTemplate = 'fluid' | 'lecture' | 'void';

/** A fraction's value: "1/3", "0.25", 0.5. Throws on anything else. */
export function fractionValue(v: Fraction): number {
  if (typeof v === 'number') return v;
  const [n, d] = v.includes('/') ? v.split('/').map(Number) : [Number(v), 1];
  const value = n! / d!;
  if (!Number.isFinite(value)) throw new Error(`not a fraction: ${v}`);
  return value;
}

/** OWT's notation: "0", "1", "n/d". */
const frac = (n: number, d: number): string => (n === 0 ? '0' : n === d ? '1' : `${n}/${d}`);

const square = (id: number, x: [number, number], y: [number, number], size: [number, number]): Region => ({
  id: String(id),
  shape: 'rectangle',
  area: {
    left: frac(...x),
    top: frac(...y),
    width: frac(...size),
    height: frac(...size),
  },
});

/** 1, 2×2, 3×3 … up to the grid holding maxInput. */
function fluid(maxInput: number): Template[] {
  const maxDiv = Math.ceil(Math.sqrt(maxInput));
  const result: Template[] = [];
  for (let div = 1; div <= maxDiv; div++) {
    const region: Region[] = [];
    let id = 1;
    for (let y = 0; y < div; y++)
      for (let x = 0; x < div; x++) region.push(square(id++, [x, div], [y, div], [1, div]));
    result.push({ region });
  }
  return result;
}

/** OWT's rounding up (x + 1 for a non-integer x, not ceil): kept so the templates are OWT's. */
const owtCeil = (x: number): number => (x > Math.floor(x) ? x + 1 : x);

/** One primary region (top left) and small ones along the right and bottom edges. */
function lecture(maxInput: number): Template[] {
  const result: Template[] = [
    { region: [square(1, [0, 1], [0, 1], [1, 1])] },
    {
      region: [
        square(1, [0, 1], [0, 1], [2, 3]),
        square(2, [2, 3], [0, 1], [1, 3]),
        square(3, [2, 3], [1, 3], [1, 3]),
        square(4, [2, 3], [2, 3], [1, 3]),
        square(5, [1, 3], [2, 3], [1, 3]),
        square(6, [0, 1], [2, 3], [1, 3]),
      ],
    },
  ];
  if (maxInput <= 6) return result;
  // maxInput 8, 10, 12, 14: a (d-1)/d primary and one ring of 1/d regions.
  const maxDiv = Math.min(7, owtCeil(maxInput / 2));
  for (let div = 4; div <= maxDiv; div++) {
    const region = [square(1, [0, 1], [0, 1], [div - 1, div])];
    let id = 2;
    for (let y = 0; y < div; y++) region.push(square(id++, [div - 1, div], [y, div], [1, div]));
    for (let x = div - 2; x >= 0; x--) region.push(square(id++, [x, div], [div - 1, div], [1, div]));
    result.push({ region });
  }
  if (maxInput <= 14) return result;
  // maxInput 17, 21, 25: a (d-2)/d primary and two rings.
  const maxDiv2 = Math.min(7, owtCeil((maxInput + 3) / 4));
  for (let div = 4; div <= maxDiv2; div++) {
    const region = [square(1, [0, 1], [0, 1], [div - 2, div])];
    let id = 2;
    for (let y = 0; y < div - 1; y++) region.push(square(id++, [div - 2, div], [y, div], [1, div]));
    for (let x = div - 3; x >= 0; x--) region.push(square(id++, [x, div], [div - 2, div], [1, div]));
    for (let y = 0; y < div; y++) region.push(square(id++, [div - 1, div], [y, div], [1, div]));
    for (let x = div - 2; x >= 0; x--) region.push(square(id++, [x, div], [div - 1, div], [1, div]));
    result.push({ region });
  }
  return result;
}

/**
 * A view's templates, OWT's applyTemplate: the base's, with each custom template replacing the
 * base one of the same region count or inserted before the first larger one.
 */
export function templatesFor(
  base: BaseTemplate,
  maxInput: number,
  custom: readonly { primary?: string | undefined; region: readonly Region[] }[] = [],
): Template[] {
  const result = base === 'void' ? [] : base === 'lecture' ? lecture(maxInput) : fluid(maxInput);
  for (const tpl of custom) {
    const own: Template = { primary: tpl.primary, region: [...tpl.region] };
    const pos = result.findIndex((t) => t.region.length >= own.region.length);
    if (pos < 0) result.push(own);
    else if (result[pos]!.region.length === own.region.length) result.splice(pos, 1, own);
    else result.splice(pos, 0, own);
  }
  return result;
}

/** The smallest template with a region per input; the largest when none has enough. */
export function templateFor(templates: readonly Template[], inputs: number): Template | undefined {
  let best: Template | undefined;
  let largest: Template | undefined;
  for (const t of templates) {
    if (t.region.length >= inputs && (!best || t.region.length < best.region.length)) best = t;
    if (!largest || t.region.length > largest.region.length) largest = t;
  }
  return best ?? largest;
}

/**
 * Inputs (in mixing order) placed into the template for their count, at most maxInput. The
 * primary input (the active speaker, when the view keeps it primary) goes to the template's
 * primary region (its `primary` id, else its first region); the others follow in order.
 * Regions left without an input are listed without a stream.
 */
export function layoutFor(
  templates: readonly Template[],
  inputs: readonly string[],
  options: { maxInput: number; primaryInput?: string | undefined },
): LayoutEntry[] {
  const shown = inputs.slice(0, options.maxInput);
  const primary = options.primaryInput;
  if (primary !== undefined && inputs.includes(primary) && !shown.includes(primary))
    shown.splice(-1, 1, primary);
  if (shown.length === 0) return [];
  const template = templateFor(templates, shown.length);
  if (!template) return [];
  const regions = [...template.region];
  const primaryIndex = Math.max(
    0,
    template.primary ? regions.findIndex((r) => r.id === template.primary) : 0,
  );
  if (primaryIndex > 0) regions.unshift(...regions.splice(primaryIndex, 1));
  const order =
    primary !== undefined && shown.includes(primary)
      ? [primary, ...shown.filter((s) => s !== primary)]
      : shown;
  return regions.map((region, i) => ({ ...(order[i] !== undefined ? { stream: order[i] } : {}), region }));
}

/**
 * A layout as REST replaces it (`/info/layout`): regions given by id only keep the area they have
 * in `current`. Throws for a region with no area that `current` does not know.
 */
export function resolveLayout(
  requested: readonly {
    stream?: string | undefined;
    region: { id: string; shape?: 'rectangle'; area?: Area | undefined };
  }[],
  current: readonly LayoutEntry[],
): LayoutEntry[] {
  return requested.map(({ stream, region }) => {
    const area = region.area ?? current.find((e) => e.region.id === region.id)?.region.area;
    if (!area) throw new Error(`region ${region.id} has no area`);
    return {
      ...(stream !== undefined ? { stream } : {}),
      region: { id: region.id, shape: 'rectangle', area },
    };
  });
}

/** A region's rectangle on a width × height canvas: edges rounded down to even pixels, at least 2×2. */
export function pixelRect(area: Area, canvas: { width: number; height: number }): Rect {
  const even = (v: number) => Math.max(0, 2 * Math.floor(v / 2));
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  const left = clamp(fractionValue(area.left));
  const top = clamp(fractionValue(area.top));
  const right = clamp(left + fractionValue(area.width));
  const bottom = clamp(top + fractionValue(area.height));
  const x = Math.min(even(left * canvas.width), even(canvas.width) - 2);
  const y = Math.min(even(top * canvas.height), even(canvas.height) - 2);
  return {
    x,
    y,
    width: Math.max(2, even(right * canvas.width) - x),
    height: Math.max(2, even(bottom * canvas.height) - y),
  };
}
