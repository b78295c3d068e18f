/**
 * The workbench's figures, built from run histories and analysis results. Losses are positive and
 * span decades, so loss axes are logarithmic; other axes switch to log when their values do.
 */
import { logGroups, type StepLogs } from '../run/types';
import { spansDecades, type Axis, type HeatmapFigure, type LineFigure, type Series } from './figure';

const ITERATION: Axis = { title: 'iteration', integer: true };
/** Labels of the standard groups; other groups (a region's `style/sky`) are labelled by name. */
const GROUP_LABELS: Record<string, string> = {
  total: 'total',
  content: 'content (α·L_content)',
  style: 'style (β·L_style)',
  tv: 'total variation',
};

/** A loss value of a step: `total`, a group (`content`, `style`, `style/sky`, `tv`) or a leaf term (`style/conv1_1`). */
export function lossValue(logs: StepLogs, key: string): number {
  if (key === 'total') return logs.total;
  return logGroups(logs)[key] ?? logs.terms[key] ?? NaN;
}

function seriesOf(history: readonly StepLogs[], key: string, name: string, extra: Partial<Series> = {}): Series {
  return { name, x: history.map((l) => l.iteration), y: history.map((l) => lossValue(l, key)), ...extra };
}

/**
 * The total loss and its weighted parts (Gatys et al. 2016, eq. 7; and whatever groups the objective
 * nests, such as regions) per iteration; all-zero parts are left out.
 */
export function lossCurves(history: readonly StepLogs[], title = 'Loss'): LineFigure {
  // The total solid, its parts dashed: where style is nearly all of the total, the total still shows between the dashes.
  const parts = Object.keys(history[0] ? logGroups(history[0]) : {}).filter((g) => history.some((l) => lossValue(l, g) > 0));
  const series = [seriesOf(history, 'total', GROUP_LABELS.total!, { dash: 'total' }), ...parts.map((g) => seriesOf(history, g, GROUP_LABELS[g] ?? g, { dash: 'weighted part' }))];
  return { kind: 'line', title, x: ITERATION, y: { title: 'loss (weighted, dimensionless)', log: true }, series };
}

/**
 * Leaf terms unweighted (`style/conv1_1`, `content/conv4_2`, `tv`): colour by layer, dash by kind.
 * `prefix` keeps only some (`style/`: the per-layer Gram distances E_l of the paper's eq. 4).
 */
export function termCurves(history: readonly StepLogs[], title = 'Loss terms (unweighted)', prefix = ''): LineFigure {
  const names = Object.keys(history[0]?.terms ?? {}).filter((n) => n.startsWith(prefix));
  const series = names.map((n) => {
    // `style/sky/conv1_1`: the layer is the last part, the kind (dash) what it is under.
    const cut = n.lastIndexOf('/');
    const [kind, layer] = cut >= 0 ? [n.slice(0, cut), n.slice(cut + 1)] : [n, n];
    return seriesOf(history, n, n, { color: layer, dash: kind });
  });
  return { kind: 'line', title, x: ITERATION, y: { title: 'term value (unweighted, dimensionless)', log: true }, series, legend: 'layer' };
}

export interface LabelledHistory {
  label: string;
  history: readonly StepLogs[];
  /** Runs sharing a colour key share a colour (e.g. one swept value); default: the label. */
  color?: string;
  /** Runs sharing a dash key share a dash pattern (e.g. the other swept value). */
  dash?: string;
}

/** One loss (a group or a leaf term) of several runs, overlaid: runs of a sweep, seeds, inits. */
export function overlaidCurves(runs: readonly LabelledHistory[], opts: { value?: string; title: string; legend?: string }): LineFigure {
  const value = opts.value ?? 'total';
  const label = GROUP_LABELS[value] ?? value;
  return {
    kind: 'line',
    title: opts.title,
    x: ITERATION,
    y: { title: `${label} loss (dimensionless)`, log: true },
    series: runs.map((r) => seriesOf(r.history, value, r.label, { color: r.color, dash: r.dash })),
    legend: opts.legend,
  };
}

export interface Spectrum {
  name: string;
  values: ArrayLike<number>;
  color?: string;
  dash?: string;
}

/** Eigenvalues below this fraction of the largest are float32 rounding of zero (rank-deficient Grams). */
const SPECTRUM_FLOOR = 1e-6;

/**
 * Eigenvalue spectra, largest first, against rank: how many directions a Gram matrix really uses.
 * Eigenvalues under 10⁻⁶ of a spectrum's largest are left out: a Gram matrix from float32 features
 * holds no information below that, and a Gram over fewer positions than channels has exact zeros.
 */
export function spectraChart(spectra: readonly Spectrum[], title = 'Gram eigenvalue spectra'): LineFigure {
  const series = spectra.map((s) => {
    const values = Array.from(s.values);
    const floor = Math.max(...values) * SPECTRUM_FLOOR;
    const kept = values.filter((v) => v > floor);
    return { name: s.name, x: kept.map((_, i) => i + 1), y: kept, color: s.color, dash: s.dash };
  });
  return {
    kind: 'line',
    title,
    x: { title: 'rank', log: true },
    y: { title: 'eigenvalue of G/M (activation²)', log: true },
    series,
    legend: 'layer',
  };
}

/** A square matrix over labelled items, e.g. pairwise distances between results. */
export function matrixHeatmap(opts: { title: string; labels: readonly string[]; matrix: readonly (readonly number[])[]; color: Axis; axisTitle?: string }): HeatmapFigure {
  const axis = { title: opts.axisTitle ?? '', categories: opts.labels };
  return { kind: 'heatmap', title: opts.title, x: axis, y: axis, panels: [{ name: opts.title, z: opts.matrix }], color: opts.color, sharedScale: true };
}

export interface GramPanel {
  name: string;
  /** c×c row-major. */
  gram: ArrayLike<number>;
  channels: number;
}

/** The top-left n×n block of Gram matrices side by side on one colour scale (style vs result). */
export function gramHeatmaps(layer: string, panels: readonly GramPanel[], n = 32): HeatmapFigure {
  const k = Math.min(n, ...panels.map((p) => p.channels));
  const idx = Array.from({ length: k }, (_, i) => String(i));
  const values = panels.flatMap((p) => idx.flatMap((_, i) => idx.map((__, j) => p.gram[i * p.channels + j]!)));
  return {
    kind: 'heatmap',
    title: `Gram matrix G/M at ${layer} (first ${k} channels)`,
    x: { title: 'channel j', categories: idx },
    y: { title: 'channel i', categories: idx },
    panels: panels.map((p) => ({ name: p.name, z: idx.map((_, i) => idx.map((__, j) => p.gram[i * p.channels + j]!)) })),
    color: { title: 'G_ij / M (activation²)', log: spansDecades(values, 3) },
    sharedScale: true,
  };
}

/**
 * Per-channel statistics of the result's features against the style image's: points on the
 * diagonal are channels whose statistic the result reproduces.
 */
export function channelStatsChart(
  layers: readonly { layer: string; style: ArrayLike<number>; result: ArrayLike<number> }[],
  opts: { statistic: string; title: string },
): LineFigure {
  const series = layers.map((l) => ({ name: l.layer, x: Array.from(l.style), y: Array.from(l.result) }));
  const log = spansDecades(series.flatMap((s) => [...s.x, ...s.y]), 2);
  return {
    kind: 'line',
    title: opts.title,
    x: { title: `style image: channel ${opts.statistic} (activation)`, log },
    y: { title: `result: channel ${opts.statistic} (activation)`, log },
    series,
    legend: 'layer',
    points: true,
    diagonal: true,
  };
}
