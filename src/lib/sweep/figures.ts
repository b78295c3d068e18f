/**
 * A sweep's figures, addressed by swept values: the final images laid out by two parameters (the
 * layout of Gatys et al. 2016, fig. 3), heatmaps of final losses over the same two, and the loss curves
 * of all runs overlaid, coloured and dashed by swept values. `nst report` writes them; notebooks show
 * the same builders' figures.
 */
import { basename, extname, join } from 'node:path';
import { lossValue, overlaidCurves } from '../figures/charts';
import { exportFigure, exportPng } from '../figures/export';
import { formatValue as formatNumber, spansDecades, type BarFigure, type HeatmapFigure, type LineFigure } from '../figures/figure';
import { imageGrid, type GridOptions } from '../figures/grid';
import { NstError } from '../errors';
import { formatValue, sweptAxes, type Sweep } from './expand';
import { styleTaps, type RunRecord } from './report';

export interface FigureOptions {
  /** The two main axes: rows, then columns (default: the first two swept parameters that vary). */
  axes?: string[];
  /** The swept parameter that colours the curves (default: the first axis). */
  color?: string;
  /** The loss shown: total, content, style, tv or a leaf term such as style/conv1_1 (default: the spec's metric, else total). */
  metric?: string;
}

/** Axes with more values than this (random search over a range) make unreadable grids and heatmaps. */
const MAX_CATEGORIES = 12;

export const FIGURES_DIR = 'figures';

/** A layer set as a label: short sets in full, longer ones by their ends (the cumulative sets of the papers). */
export function layerSetLabel(layers: readonly unknown[]): string {
  const names = layers.map(String);
  return names.length <= 2 ? names.join(',') : `${names[0]} … ${names[names.length - 1]} (${names.length})`;
}

/** A swept value as figures label it: weights as `1e3`, images by file name, layer sets by their ends. */
export function figureLabel(value: unknown): string {
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string' && /\.(jpe?g|png|webp|tiff?)$/i.test(value)) return basename(value, extname(value));
  if (Array.isArray(value)) return value.every((v) => typeof v === 'string') ? layerSetLabel(value) : value.map(figureLabel).join(',');
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}=${figureLabel(v)}`).join(' ');
  return formatValue(value);
}

/** The style weight β as the ratio α/β the papers label their columns with (α = 1 in their sweeps). */
export function ratioLabel(styleWeight: unknown): string {
  return `α/β = ${formatNumber(1 / Number(styleWeight))}`;
}

/** How each axis's values are labelled (default: `name\nvalue`); e.g. `{ styleWeight: ratioLabel }`. */
export type AxisLabels = Readonly<Record<string, (value: unknown) => string>>;

/** The papers' labels: β as α/β. */
export const RATIO_LABELS: AxisLabels = Object.freeze({ styleWeight: ratioLabel });

/** Fixed values of other swept parameters: the runs a figure shows. */
export type Where = Readonly<Record<string, unknown>>;

function fileSafe(s: string): string {
  return s.replace(/[^\w.-]+/g, '_');
}

function isImagePath(v: unknown): v is string {
  return typeof v === 'string' && /\.(jpe?g|png|webp|tiff?)$/i.test(v);
}

interface Level {
  /** Identity (formatValue): distinct values stay distinct even where their labels would not. */
  key: string;
  value: unknown;
}

/** Distinct values of a parameter across the runs, in run order (for a grid: the spec's order). */
function levels(records: readonly RunRecord[], axis: string | undefined): Level[] {
  if (!axis) return [{ key: '', value: undefined }];
  const seen = new Map<string, unknown>();
  for (const r of records) {
    const v = r.run.params[axis];
    if (!seen.has(formatValue(v))) seen.set(formatValue(v), v);
  }
  return [...seen].map(([key, value]) => ({ key, value }));
}

function axisLabel(axis: string, value: unknown, labels: AxisLabels | undefined): string {
  const custom = labels?.[axis];
  if (custom) return custom(value);
  // A sub-config (linked settings) one setting a line, so that a column stays narrow.
  if (value && typeof value === 'object' && !Array.isArray(value)) return Object.entries(value).map(([k, v]) => `${k}=${figureLabel(v)}`).join('\n');
  return `${axis}\n${figureLabel(value)}`;
}

function matches(r: RunRecord, where: Where | undefined): boolean {
  return !where || Object.entries(where).every(([k, v]) => formatValue(r.run.params[k]) === formatValue(v));
}

function checkAxis(sweep: Sweep, name: string, option: string): void {
  const names = sweep.spec.parameters.map((p) => p.name);
  if (!names.includes(name)) throw new NstError(`${option}: '${name}' is not a parameter of sweep ${sweep.spec.name}`, `parameters: ${names.join(', ')}`);
}

/** The record at a row and column level among `group`. */
function recordAt(group: readonly RunRecord[], rowAxis: string | undefined, colAxis: string | undefined, row: Level, col: Level): RunRecord | undefined {
  return group.find((r) => (!rowAxis || formatValue(r.run.params[rowAxis]) === row.key) && (!colAxis || formatValue(r.run.params[colAxis]) === col.key));
}

export interface GridSpec {
  /** The parameter whose values are the rows (none: one row). */
  rows?: string;
  /** The parameter whose values are the columns (none: one column). */
  cols?: string;
  /** Values of the other swept parameters (a sweep with more than two axes shows one slice). */
  where?: Where;
  labels?: AxisLabels;
  /** Axes whose values are images (style, content) also show them: a leading row or column. */
  inputs?: boolean;
  title?: string;
}

/** The final images by two swept parameters, as image-grid options (missing runs are empty cells). */
export function sweepGrid(sweep: Sweep, records: readonly RunRecord[], spec: GridSpec): GridOptions {
  for (const a of [spec.rows, spec.cols, ...Object.keys(spec.where ?? {})]) if (a) checkAxis(sweep, a, 'grid axis');
  const chosen = records.filter((r) => matches(r, spec.where));
  const rows = levels(chosen, spec.rows);
  const cols = levels(chosen, spec.cols);
  let cells: (string | null)[][] = rows.map((row) => cols.map((col) => recordAt(chosen, spec.rows, spec.cols, row, col)?.image ?? null));
  let rowLabels = spec.rows ? rows.map((l) => axisLabel(spec.rows!, l.value, spec.labels)) : undefined;
  let colLabels = spec.cols ? cols.map((l) => axisLabel(spec.cols!, l.value, spec.labels)) : undefined;
  const rowImages = spec.inputs && spec.rows !== undefined && rows.every((l) => isImagePath(l.value));
  const colImages = spec.inputs && spec.cols !== undefined && cols.every((l) => isImagePath(l.value));
  if (rowImages) {
    cells = cells.map((c, i) => [rows[i]!.value as string, ...c]);
    colLabels = [spec.rows!, ...(colLabels ?? [''])];
  }
  if (colImages) {
    cells = [[...(rowImages ? [null] : []), ...cols.map((l) => l.value as string)], ...cells];
    rowLabels = [spec.cols!, ...(rowLabels ?? [''])];
  }
  return { rows: cells, rowLabels, colLabels, title: spec.title ?? sweep.spec.name };
}

export interface HeatmapSpec {
  rows: string;
  cols?: string;
  /** One panel per loss (each on its own colour scale): total, content, style, tv or a leaf term. */
  metrics: readonly string[];
  where?: Where;
  labels?: AxisLabels;
  title?: string;
}

function heatmapOver(
  title: string,
  axes: { rows: string; cols?: string; labels?: AxisLabels },
  rows: Level[],
  cols: Level[],
  panels: { name: string; records: readonly RunRecord[]; metric: string }[],
  sharedScale: boolean,
): HeatmapFigure {
  const value = (label: AxisLabels | undefined, axis: string | undefined, l: Level) => (axis ? (label?.[axis] ? label[axis]!(l.value) : figureLabel(l.value)) : '');
  const z = panels.map((p) =>
    rows.map((row) =>
      cols.map((col) => {
        const final = recordAt(p.records, axes.rows, axes.cols, row, col)?.final;
        return final ? lossValue(final, p.metric) : NaN;
      }),
    ),
  );
  const metricsShown = [...new Set(panels.map((p) => p.metric))];
  return {
    kind: 'heatmap',
    title,
    x: { title: axes.cols ?? '', categories: cols.map((l) => value(axes.labels, axes.cols, l)) },
    y: { title: axes.rows, categories: rows.map((l) => value(axes.labels, axes.rows, l)) },
    panels: panels.map((p, i) => ({ name: p.name, z: z[i]! })),
    color: { title: metricsShown.length === 1 ? `final ${metricsShown[0]} loss` : 'final loss (dimensionless)', log: spansDecades(z.flat(2), 1) },
    sharedScale,
  };
}

/** Final losses over two swept parameters: one heatmap panel per metric. */
export function sweepHeatmaps(sweep: Sweep, records: readonly RunRecord[], spec: HeatmapSpec): HeatmapFigure {
  for (const a of [spec.rows, spec.cols, ...Object.keys(spec.where ?? {})]) if (a) checkAxis(sweep, a, 'heatmap axis');
  const chosen = records.filter((r) => matches(r, spec.where));
  const panels = spec.metrics.map((metric) => ({ name: `final ${metric}`, records: chosen, metric }));
  return heatmapOver(spec.title ?? `${sweep.spec.name}: final losses`, spec, levels(chosen, spec.rows), levels(chosen, spec.cols), panels, spec.metrics.length === 1);
}

export interface CurvesSpec {
  metric?: string;
  /** The parameter whose values share a colour (default: every run its own colour). */
  color?: string;
  /** The parameter whose values share a dash pattern. */
  dash?: string;
  where?: Where;
  labels?: AxisLabels;
  title?: string;
  /** Each curve divided by its value at iterate 0: losses of different scales (other style losses, networks) on one axis. */
  relative?: boolean;
}

/** A run's swept values as a legend entry, e.g. `styleWeight=1e3, tvWeight=0`. */
function runLabel(sweep: Sweep, r: RunRecord, labels: AxisLabels | undefined): string {
  const axes = sweptAxes(sweep);
  if (axes.length === 0) return `run ${r.run.index}`;
  return axes.map((a) => (labels?.[a] ? labels[a]!(r.run.params[a]) : `${a}=${figureLabel(r.run.params[a])}`)).join(', ');
}

/** Every run's loss per iteration, overlaid (runs with no iterations yet are left out). */
export function sweepCurves(sweep: Sweep, records: readonly RunRecord[], spec: CurvesSpec = {}): LineFigure {
  for (const a of [spec.color, spec.dash, ...Object.keys(spec.where ?? {})]) if (a) checkAxis(sweep, a, 'curves axis');
  const metric = spec.metric ?? sweep.spec.metric?.name ?? 'total';
  const curves = records.filter((r) => matches(r, spec.where) && r.history.length > 0);
  const key = (axis: string | undefined, r: RunRecord) => (axis ? (spec.labels?.[axis] ? spec.labels[axis]!(r.run.params[axis]) : `${axis}=${figureLabel(r.run.params[axis])}`) : undefined);
  const fig = overlaidCurves(
    curves.map((r) => ({ label: runLabel(sweep, r, spec.labels), history: r.history, color: key(spec.color, r), dash: key(spec.dash, r) })),
    { value: metric, title: spec.title ?? `${sweep.spec.name}: ${metric} loss per iteration`, legend: spec.color ?? 'run' },
  );
  if (!spec.relative) return fig;
  return {
    ...fig,
    y: { ...fig.y, title: `${metric} / its value at iterate 0` },
    series: fig.series.map((s) => ({ ...s, y: s.y.map((v) => v / s.y[0]!) })),
  };
}

/** Groups runs by the values of every axis but the shown ones (one grid / heatmap panel per group). */
function groupByOthers(sweep: Sweep, records: readonly RunRecord[], shown: readonly string[]): Map<string, RunRecord[]> {
  const others = sweptAxes(sweep).filter((a) => !shown.includes(a));
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) {
    const key = others.map((a) => `${a}=${figureLabel(r.run.params[a])}`).join(', ');
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return groups;
}

/** Writes the figures into `<out>/<name>/figures/` and returns the paths of their PNGs. */
export async function sweepFigures(sweep: Sweep, records: readonly RunRecord[], options: FigureOptions = {}): Promise<string[]> {
  const dir = join(sweep.dir, FIGURES_DIR);
  const metric = options.metric ?? sweep.spec.metric?.name ?? 'total';
  const axes = (options.axes ?? sweptAxes(sweep)).slice(0, 2);
  axes.forEach((a) => checkAxis(sweep, a, '--axes'));
  const color = options.color ?? axes[0];
  if (color) checkAxis(sweep, color, '--color');
  const [rowAxis, colAxis] = axes;
  const rows = levels(records, rowAxis);
  const cols = levels(records, colAxis);
  const written: string[] = [];

  if (rows.length <= MAX_CATEGORIES && cols.length <= MAX_CATEGORIES) {
    const groups = groupByOthers(sweep, records, axes);
    for (const [others, group] of groups) {
      if (!group.some((r) => r.image)) continue;
      const grid = sweepGrid(sweep, group, { rows: rowAxis, cols: colAxis, title: `${sweep.spec.name}${others ? ` (${others})` : ''}` });
      written.push(await exportPng(await imageGrid(grid), dir, groups.size > 1 ? `grid_${fileSafe(others)}` : 'grid'));
    }
    if (rowAxis && records.some((r) => r.final)) {
      const panels = [...groups].map(([others, group]) => ({ name: others || sweep.spec.name, records: group, metric }));
      const heatmap = heatmapOver(`${sweep.spec.name}: final ${metric} loss`, { rows: rowAxis, cols: colAxis }, rows, cols, panels, true);
      written.push((await exportFigure(heatmap, dir, `heatmap_${fileSafe(metric)}`)).pngPath);
    }
  }

  if (records.some((r) => r.history.length > 0)) {
    const fig = sweepCurves(sweep, records, { metric, color });
    written.push((await exportFigure(fig, dir, `curves_${fileSafe(metric)}`)).pngPath);
  }
  return written;
}

export interface BarsSpec {
  /** The parameter whose values are the categories (default: every run its own). */
  x?: string;
  /** One bar per metric and category: total, content, style, tv or a leaf term. */
  metrics: readonly string[];
  where?: Where;
  labels?: AxisLabels;
  title?: string;
}

/** Final losses as grouped bars (log scale), one category per run or per value of `x`. */
export function sweepBars(sweep: Sweep, records: readonly RunRecord[], spec: BarsSpec): BarFigure {
  if (spec.x) checkAxis(sweep, spec.x, 'bars axis');
  const chosen = records.filter((r) => matches(r, spec.where) && r.final);
  const category = (r: RunRecord) => (spec.x ? (spec.labels?.[spec.x] ? spec.labels[spec.x]!(r.run.params[spec.x]) : figureLabel(r.run.params[spec.x])) : runLabel(sweep, r, spec.labels));
  return {
    kind: 'bar',
    title: spec.title ?? `${sweep.spec.name}: final losses`,
    x: { title: spec.x ?? 'run', categories: chosen.map(category) },
    y: { title: 'final loss (dimensionless)', log: true },
    series: spec.metrics.map((m) => ({ name: m, values: chosen.map((r) => lossValue(r.final!, m)) })),
    legend: 'loss',
  };
}

/**
 * Each run's style terms E_l relative to their value at iterate 0, so runs whose losses differ by decades
 * (other networks, other style losses) share one axis: colour by `label`, dash by layer (`rank`: by the
 * layer's place in the run's set, for runs on different networks).
 */
export function relativeStyleCurves(records: readonly RunRecord[], label: (r: RunRecord) => string, opts: { title: string; legend: string; dash: 'layer' | 'rank' }): LineFigure {
  const series = records.flatMap((r) =>
    styleTaps(r).map((layer, rank) => {
      const key = `style/${layer}`;
      const first = r.history[0]?.terms[key] ?? 1;
      const y = r.history.map((l) => (l.terms[key] ?? NaN) / first);
      return { name: `${label(r)} ${layer}`, x: r.history.map((l) => l.iteration), y, color: label(r), dash: opts.dash === 'layer' ? layer : `style layer ${rank + 1}` };
    }),
  );
  return { kind: 'line', title: opts.title, x: { title: 'iteration', integer: true }, y: { title: 'E_l / E_l at iteration 0', log: true }, series, legend: opts.legend };
}
