/**
 * A small, renderer-neutral description of the workbench's figures. Each figure is described once
 * (by the builders in charts.ts) and rendered twice: as a vega-lite spec for report files and static
 * images (vega.ts), and as a plotly figure for interactive notebook views (plotly.ts) — so the two
 * cannot drift apart, and every figure shares one style.
 */

export interface Axis {
  /** With units, e.g. `iteration`, `loss (weighted, dimensionless)`, `time (s)`. */
  title: string;
  log?: boolean;
  /** Whole-number values (iterations): no fractional ticks. */
  integer?: boolean;
}

export interface Series {
  name: string;
  x: readonly number[];
  y: readonly number[];
  /** Series sharing a colour key share a colour (default: the name). */
  color?: string;
  /** Series sharing a dash key share a dash pattern; absent: solid. */
  dash?: string;
}

export interface LineFigure {
  kind: 'line';
  title: string;
  x: Axis;
  y: Axis;
  series: Series[];
  /** Title of the colour legend. */
  legend?: string;
  /** Points instead of lines (scatter plots). */
  points?: boolean;
  /** Draws y = x, for plots of one quantity against its target. */
  diagonal?: boolean;
}

export interface HeatmapPanel {
  name: string;
  /** Rows follow y.categories, columns x.categories. */
  z: readonly (readonly number[])[];
}

export interface HeatmapFigure {
  kind: 'heatmap';
  title: string;
  x: { title: string; categories: readonly string[] };
  y: { title: string; categories: readonly string[] };
  /** One or more panels side by side over the same axes. */
  panels: HeatmapPanel[];
  /** Colour legend title, with units. */
  color: Axis;
  /** One colour scale across panels (comparable values) or one per panel. */
  sharedScale: boolean;
}

export interface BarFigure {
  kind: 'bar';
  title: string;
  x: { title: string; categories: readonly string[] };
  y: Axis;
  /** Grouped bars: one value per category per series. */
  series: { name: string; values: readonly number[] }[];
  legend?: string;
}

export type Figure = LineFigure | HeatmapFigure | BarFigure;

/** Log scale when the positive values span more than two decades (losses, spectra), else linear. */
export function spansDecades(values: Iterable<number>, decades = 2): boolean {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!(v > 0) || !Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return max > 0 && Math.log10(max / min) > decades;
}

/** Whether a value can be drawn on the axis (log axes drop zeros and negatives). */
export function drawable(v: number, log?: boolean): boolean {
  return Number.isFinite(v) && (!log || v > 0);
}

/** Values a figure's log scales cannot show (zeros, negatives): they are left out, and the title says how many. */
export function droppedByLog(fig: Figure): number {
  const bad = (v: number, log?: boolean) => Number.isFinite(v) && log === true && v <= 0;
  if (fig.kind === 'line') return fig.series.reduce((n, s) => n + s.x.filter((x, i) => bad(x, fig.x.log) || bad(s.y[i]!, fig.y.log)).length, 0);
  if (fig.kind === 'heatmap') return fig.panels.reduce((n, p) => n + p.z.flat().filter((v) => bad(v, fig.color.log)).length, 0);
  return fig.series.reduce((n, s) => n + s.values.filter((v) => bad(v, fig.y.log)).length, 0);
}

/** The title as both renderers show it: with the number of values a log scale dropped, if any. */
export function shownTitle(fig: Figure): string {
  const n = droppedByLog(fig);
  return n === 0 ? fig.title : `${fig.title} (${n} value${n === 1 ? '' : 's'} ≤ 0 not shown on the log scale)`;
}

/** Whole-number tick spacing for an integer axis up to `max`: 1, 2, 5, 10, 20, 50, … about eight ticks. */
export function integerStep(max: number): number {
  const rough = Math.max(1, max / 8);
  const decade = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * decade).find((s) => s >= rough)!;
}

/** Ticks for a log colour scale: evenly spaced in log between the smallest and largest positive values. */
export function logTicks(values: Iterable<number>, count = 5): number[] {
  const pos = [...values].filter((v) => v > 0 && Number.isFinite(v));
  if (pos.length === 0) return [];
  const [lo, hi] = [Math.log10(Math.min(...pos)), Math.log10(Math.max(...pos))];
  if (hi - lo < 1e-12) return [10 ** lo];
  return Array.from({ length: count }, (_, i) => Number((10 ** (lo + ((hi - lo) * i) / (count - 1))).toPrecision(2)));
}

/** Compact tick/category labels for weights: 1000 → `1e3`, 0.5 → `0.5`. */
export function formatValue(v: number): string {
  if (v === 0) return '0';
  const exp = Math.log10(Math.abs(v));
  if (Number.isInteger(exp)) return `${v < 0 ? '-' : ''}${exp === 0 ? '1' : `1e${exp}`}`;
  if (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3) return v.toExponential(1).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}
