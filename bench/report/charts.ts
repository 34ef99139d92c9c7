import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One bar of a grouped bar chart: `value` of `series` at `category`. */
export interface Bar {
  category: string;
  series: string;
  value: number;
}

export interface BarChart {
  title: string;
  /** The y axis' title, with its unit. */
  unit: string;
  bars: Bar[];
}

const SERIES_COLOURS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2'];

/**
 * A grouped bar chart as SVG, rendered by Vega-Lite/Vega headless (no canvas: text widths are
 * estimated). The same bars give the same bytes, so the committed plots change only with their data.
 */
export async function barChartSvg(chart: BarChart): Promise<string> {
  const series = [...new Set(chart.bars.map((b) => b.series))];
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    width: 420,
    height: 220,
    background: 'white',
    data: { values: chart.bars },
    mark: { type: 'bar', tooltip: false },
    encoding: {
      x: { field: 'category', type: 'nominal', title: null, sort: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'series', type: 'nominal', sort: series },
      y: { field: 'value', type: 'quantitative', title: chart.unit },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        sort: series,
        scale: { domain: series, range: SERIES_COLOURS.slice(0, series.length) },
        legend: { orient: 'bottom' },
      },
    },
    config: { font: 'sans-serif' },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
