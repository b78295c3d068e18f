/**
 * A sweep's figures, through the notebooks' figure module: the final images laid out by the two main
 * axes (the layout of Gatys et al. 2016, fig. 3), a heatmap of a final loss over the same axes, and
 * the loss curves of all runs overlaid, coloured by a swept value.
 */
import { basename, extname, join } from 'node:path';
import { lossValue, overlaidCurves } from '../figures/charts';
import { exportFigure, exportPng } from '../figures/export';
import { formatValue as formatNumber, spansDecades, type HeatmapFigure } from '../figures/figure';
import { imageGrid } from '../figures/grid';
import { NstError } from '../errors';
import { formatValue, sweptAxes, type Sweep } from './expand';
import type { RunRecord } from './report';

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

/** A swept value as figures label it: weights as `1e3`, images by file name. */
export function figureLabel(value: unknown): string {
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string' && /\.(jpe?g|png|webp|tiff?)$/i.test(value)) return basename(value, extname(value));
  if (Array.isArray(value)) return value.map(figureLabel).join(',');
  return formatValue(value);
}

function fileSafe(s: string): string {
  return s.replace(/[^\w.-]+/g, '_');
}

interface Level {
  /** Identity (formatValue): distinct values stay distinct even where their labels would not. */
  key: string;
  label: string;
}

/** Distinct values of a parameter across the runs, in run order (for a grid: the spec's order). */
function levels(records: readonly RunRecord[], axis: string | undefined): Level[] {
  if (!axis) return [{ key: '', label: '' }];
  const seen = new Map<string, string>();
  for (const r of records) {
    const v = r.run.params[axis];
    if (!seen.has(formatValue(v))) seen.set(formatValue(v), figureLabel(v));
  }
  return [...seen].map(([key, label]) => ({ key, label }));
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

function checkAxis(sweep: Sweep, name: string, option: string): void {
  const names = sweep.spec.parameters.map((p) => p.name);
  if (!names.includes(name)) throw new NstError(`${option}: '${name}' is not a parameter of sweep ${sweep.spec.name}`, `parameters: ${names.join(', ')}`);
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
  const at = (group: readonly RunRecord[], row: Level, col: Level) =>
    group.find((r) => (!rowAxis || formatValue(r.run.params[rowAxis]) === row.key) && (!colAxis || formatValue(r.run.params[colAxis]) === col.key));
  const written: string[] = [];

  if (rows.length <= MAX_CATEGORIES && cols.length <= MAX_CATEGORIES) {
    const groups = groupByOthers(sweep, records, axes);
    for (const [others, group] of groups) {
      if (!group.some((r) => r.image)) continue;
      const png = await imageGrid({
        rows: rows.map((row) => cols.map((col) => at(group, row, col)?.image ?? null)),
        rowLabels: rowAxis ? rows.map((l) => `${rowAxis}\n${l.label}`) : undefined,
        colLabels: colAxis ? cols.map((l) => `${colAxis}\n${l.label}`) : undefined,
        title: `${sweep.spec.name}${others ? ` (${others})` : ''}`,
      });
      written.push(await exportPng(png, dir, groups.size > 1 ? `grid_${fileSafe(others)}` : 'grid'));
    }

    const panels = [...groups].map(([others, group]) => ({
      name: others || sweep.spec.name,
      z: rows.map((row) =>
        cols.map((col) => {
          const final = at(group, row, col)?.final;
          return final ? lossValue(final, metric) : NaN;
        }),
      ),
    }));
    if (rowAxis && panels.some((p) => p.z.flat().some(Number.isFinite))) {
      const heatmap: HeatmapFigure = {
        kind: 'heatmap',
        title: `${sweep.spec.name}: final ${metric} loss`,
        x: { title: colAxis ?? '', categories: cols.map((l) => l.label) },
        y: { title: rowAxis, categories: rows.map((l) => l.label) },
        panels,
        color: { title: `final ${metric} loss`, log: spansDecades(panels.flatMap((p) => p.z.flat()), 1) },
        sharedScale: true,
      };
      written.push((await exportFigure(heatmap, dir, `heatmap_${fileSafe(metric)}`)).pngPath);
    }
  }

  const curves = records.filter((r) => r.history.length > 0);
  if (curves.length > 0) {
    const fig = overlaidCurves(
      curves.map((r) => ({ label: `run ${r.run.index}`, history: r.history })),
      { value: metric, title: `${sweep.spec.name}: ${metric} loss per iteration`, legend: color },
    );
    // One line per run, one colour per value of the colour parameter.
    fig.series = fig.series.map((s, k) => ({ ...s, color: color ? figureLabel(curves[k]!.run.params[color]) : s.name }));
    written.push((await exportFigure(fig, dir, `curves_${fileSafe(metric)}`)).pngPath);
  }
  return written;
}
