import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BenchmarksDoc, benchmarksDoc, newestResults } from '../../bench/report/benchmarksDoc.ts';
import { barChartSvg } from '../../bench/report/charts.ts';
import { REPORTS } from '../../bench/report/sections.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** How many pixels of a PNG render are (nearly) this colour. */
function pixelsOf(svg: string, hex: string): { width: number; height: number; count: number } {
  const image = new Resvg(svg).render();
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  const px = image.pixels;
  let count = 0;
  for (let i = 0; i < px.length; i += 4)
    if (Math.abs(px[i]! - r!) < 8 && Math.abs(px[i + 1]! - g!) < 8 && Math.abs(px[i + 2]! - b!) < 8) count++;
  return { width: image.width, height: image.height, count };
}

describe('BENCHMARKS.md', () => {
  let doc: BenchmarksDoc;
  beforeAll(async () => {
    doc = await benchmarksDoc(join(root, 'bench', 'results'));
  });

  it('is what `npm run bench:report` makes from bench/results (regenerate it after a bench run)', () => {
    expect(readFileSync(join(root, 'BENCHMARKS.md'), 'utf8')).toBe(doc.markdown);
    for (const plot of doc.plots) expect(readFileSync(join(root, plot.file), 'utf8')).toBe(plot.svg);
  });

  it('has a section, a table and a plot for every benchmark with results', () => {
    expect(doc.plots.map((p) => p.file)).toEqual(
      expect.arrayContaining([
        'docs/benchmarks/mcu.svg',
        'docs/benchmarks/placement.svg',
        'docs/benchmarks/tokens.svg',
      ]),
    );
    for (const plot of doc.plots) expect(doc.markdown).toContain(`](${plot.file})`);
    expect(doc.markdown).toMatch(/\| grid \| bare % of a core \| Tessera % of a core \| ratio/);
  });

  it('plots render as images with their bars drawn', () => {
    for (const plot of doc.plots) {
      const first = pixelsOf(plot.svg, '#4c78a8');
      expect(first.width, plot.file).toBeGreaterThan(300);
      expect(first.height, plot.file).toBeGreaterThan(150);
      expect(first.count, `${plot.file}: pixels of the first series`).toBeGreaterThan(200);
    }
  });

  it('draws bars in proportion to their values', async () => {
    const svg = await barChartSvg({
      title: 't',
      unit: 'u',
      bars: [
        { category: 'a', series: 'one', value: 10 },
        { category: 'a', series: 'two', value: 40 },
      ],
    });
    const one = pixelsOf(svg, '#4c78a8').count;
    const two = pixelsOf(svg, '#f58518').count;
    expect(two / one).toBeGreaterThan(3);
    expect(two / one).toBeLessThan(5);
  });

  it('takes the newest file of a kind, not one-off variants or other kinds', () => {
    const files = [
      'mcu-2026-12-01.json',
      'mcu-2026-12-01e.json',
      'mcu-2026-11-30.json',
      'failover-2026-11-30-control.json',
      'failover-2026-11-29.json',
      'streaming-cpu-2026-12-02.json',
      'streaming-2026-12-01.json',
    ];
    expect(newestResults(files, 'mcu')).toBe('mcu-2026-12-01e.json');
    expect(newestResults(files, 'failover')).toBe('failover-2026-11-29.json');
    expect(newestResults(files, 'streaming')).toBe('streaming-2026-12-01.json');
    expect(newestResults(files, 'ttff-cluster')).toBeUndefined();
  });

  it('refuses a results file of another shape with the field that is wrong', () => {
    const mcu = REPORTS.find((r) => r.kind === 'mcu')!;
    expect(() => mcu.section({ summary: [{ grid: '2x2' }] })).toThrow(/bareCpuPctOfCore/);
  });
});
