/**
 * Figures as vega-lite specs, rendered headlessly: SVG through vega's own renderer, PNG from that SVG
 * through sharp (librsvg) at a chosen DPI. One theme for every figure of the workbench.
 *
 * vega 5 / vega-lite 5 on purpose: version 6 of both is ESM with top-level await, which tslab's
 * CommonJS output cannot load. (This file is not called vega.ts because tslab resolves `require('vega')`
 * from a compiled file to a sibling `vega.js` first.)
 */
import sharp from 'sharp';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { drawable, logTicks, shownTitle, type Axis, type BarFigure, type Figure, type HeatmapFigure, type LineFigure } from './figure';
import { vegaTextWidth } from './text';

// vega's documented hook for text measurement without a canvas (not in its typings).
(vega as unknown as { textMetrics: { width: typeof vegaTextWidth } }).textMetrics.width = vegaTextWidth;

export type VegaLiteSpec = TopLevelSpec;

/** Report figures default to print resolution. */
export const DEFAULT_DPI = 200;

/** The first installed family wins when librsvg rasterises the SVG (DejaVu ships with most Linux systems). */
export const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

export const SIZE = { width: 420, height: 260 } as const;

/** The workbench's one style: fonts, sizes, grid, colours. */
export const THEME = {
  font: FONT,
  background: 'white',
  padding: 8,
  view: { stroke: '#bbb' },
  title: { fontSize: 14, fontWeight: 'bold', anchor: 'start', offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#e8e8e8', tickColor: '#888', domainColor: '#888', labelOverlap: true },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', labelLimit: 220, titleLimit: 300 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  range: { category: { scheme: 'tableau10' }, ramp: { scheme: 'viridis' }, heatmap: { scheme: 'viridis' } },
  line: { strokeWidth: 1.8 },
  point: { size: 36, filled: true, opacity: 0.75 },
} as const;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

function scale(log?: boolean): Record<string, unknown> {
  return log ? { type: 'log' } : { zero: false };
}

/** Tick labels: 1e+6 on log axes rather than 1000000, whole numbers only on integer axes. */
function axisFormat(axis: Axis): Record<string, unknown> {
  if (axis.log) return { format: '~e' };
  return axis.integer ? { format: 'd', tickMinStep: 1 } : {};
}

/** Slanted category labels when they would not fit side by side. */
function categoryAxis(categories: readonly string[]): Record<string, unknown> {
  const longest = Math.max(0, ...categories.map((c) => c.length));
  return longest * categories.length > 40 ? { labelAngle: -35, labelAlign: 'right' } : { labelAngle: 0 };
}

function lineSpec(fig: LineFigure): Record<string, unknown> {
  const rows = fig.series.flatMap((s) =>
    s.x
      .map((x, i) => ({ x, y: s.y[i]!, series: s.name, color: s.color ?? s.name, dash: s.dash ?? '' }))
      .filter((r) => drawable(r.x, fig.x.log) && drawable(r.y, fig.y.log)),
  );
  const colors = [...new Set(fig.series.map((s) => s.color ?? s.name))];
  const dashes = [...new Set(fig.series.map((s) => s.dash ?? ''))];
  const encoding: Record<string, unknown> = {
    x: { field: 'x', type: 'quantitative', title: fig.x.title, scale: scale(fig.x.log), axis: axisFormat(fig.x) },
    y: { field: 'y', type: 'quantitative', title: fig.y.title, scale: scale(fig.y.log), axis: axisFormat(fig.y) },
    color: { field: 'color', type: 'nominal', title: fig.legend ?? null, sort: colors },
    detail: { field: 'series', type: 'nominal' },
  };
  if (dashes.length > 1) encoding[fig.points ? 'shape' : 'strokeDash'] = { field: 'dash', type: 'nominal', title: null, sort: dashes };
  const main = { data: { values: rows }, mark: fig.points ? { type: 'point' } : { type: 'line', clip: true }, encoding };
  if (!fig.diagonal) return main;
  const all = rows.flatMap((r) => [r.x, r.y]);
  const ends = [Math.min(...all), Math.max(...all)].map((v) => ({ x: v, y: v }));
  const diagonal = {
    data: { values: ends },
    mark: { type: 'line', color: '#999', strokeDash: [4, 3], strokeWidth: 1 },
    encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
  };
  return { layer: [diagonal, main] };
}

function heatmapSpec(fig: HeatmapFigure): Record<string, unknown> {
  const rows = fig.panels.flatMap((p) =>
    fig.y.categories.flatMap((y, i) => fig.x.categories.map((x, j) => ({ panel: p.name, x, y, z: p.z[i]![j]! }))).filter((r) => drawable(r.z, fig.color.log)),
  );
  // Cells stay square and the panel near the line charts' width.
  const cell = Math.max(4, Math.min(48, Math.floor(360 / Math.max(fig.x.categories.length, fig.y.categories.length))));
  const inner = {
    width: cell * fig.x.categories.length,
    height: cell * fig.y.categories.length,
    mark: { type: 'rect' },
    encoding: {
      // Explicit domains keep rows and columns whose cells are all undrawable (zeros on a log scale).
      x: { field: 'x', type: 'ordinal', scale: { domain: fig.x.categories }, title: fig.x.title, axis: categoryAxis(fig.x.categories) },
      y: { field: 'y', type: 'ordinal', scale: { domain: fig.y.categories }, title: fig.y.title },
      // Log colour bars get ticks spread over their range: vega puts them only at powers of ten, one or none within a decade.
      color: { field: 'z', type: 'quantitative', title: fig.color.title, scale: { type: fig.color.log ? 'log' : 'linear', scheme: 'viridis' }, legend: fig.color.log ? { format: '.2~e', values: logTicks(rows.map((r) => r.z)) } : { format: '~g', tickCount: 5 } },
      tooltip: [{ field: 'panel' }, { field: 'x' }, { field: 'y' }, { field: 'z', format: '.3~g' }],
    },
  };
  if (fig.panels.length === 1) return { data: { values: rows }, ...inner };
  return {
    data: { values: rows },
    facet: { column: { field: 'panel', type: 'nominal', sort: fig.panels.map((p) => p.name), title: null } },
    spec: inner,
    resolve: { scale: { color: fig.sharedScale ? 'shared' : 'independent' } },
  };
}

function barSpec(fig: BarFigure): Record<string, unknown> {
  const rows = fig.series.flatMap((s) => fig.x.categories.map((c, i) => ({ category: c, series: s.name, y: s.values[i]! }))).filter((r) => drawable(r.y, fig.y.log));
  const names = fig.series.map((s) => s.name);
  // Bars start at 0, which a log scale cannot show: start them at the decade strictly below the smallest value.
  const smallest = Math.min(...rows.map((r) => r.y));
  const base = fig.y.log && rows.length > 0 ? { y2: { datum: 10 ** (Math.ceil(Math.log10(smallest)) - 1) } } : {};
  return {
    data: { values: rows },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'category', type: 'nominal', scale: { domain: fig.x.categories }, title: fig.x.title, axis: categoryAxis(fig.x.categories) },
      xOffset: { field: 'series', type: 'nominal', sort: names },
      y: { field: 'y', type: 'quantitative', title: fig.y.title, scale: fig.y.log ? { type: 'log' } : {}, axis: axisFormat(fig.y) },
      ...base,
      color: { field: 'series', type: 'nominal', title: fig.legend ?? null, sort: names },
    },
  };
}

/** The vega-lite spec of a figure, with the workbench theme inlined (so it renders the same anywhere). */
export function toVegaLite(fig: Figure): VegaLiteSpec {
  const body = fig.kind === 'line' ? lineSpec(fig) : fig.kind === 'heatmap' ? heatmapSpec(fig) : barSpec(fig);
  const sized = fig.kind === 'heatmap' ? {} : SIZE;
  return { $schema: SCHEMA, title: shownTitle(fig), ...sized, ...body, config: THEME } as unknown as VegaLiteSpec;
}

/** Renders a vega-lite spec to SVG headlessly (no browser, no canvas). */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises an SVG at `dpi` (the SVG's own units are CSS pixels at 72 DPI, as librsvg reads them). */
export async function svgToPng(svg: string, dpi = DEFAULT_DPI): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: dpi }).png().toBuffer();
}

/** The SVG's size in CSS pixels: what a notebook shows a PNG of it at, whatever its DPI. */
export function svgSize(svg: string): { width: number; height: number } {
  const tag = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const num = (name: string) => Number(new RegExp(`\\b${name}="([\\d.]+)"`).exec(tag)?.[1] ?? NaN);
  return { width: num('width'), height: num('height') };
}
