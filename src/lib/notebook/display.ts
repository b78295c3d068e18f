/**
 * Notebook output. Each figure goes out as one Jupyter MIME bundle holding the interactive plotly
 * figure and a static PNG of its vega-lite twin: JupyterLab (with plotly's extension) and VS Code draw
 * the interactive chart, while headless runs, GitHub's viewer and nbconvert keep the PNG.
 *
 * tslab's public `display` sends one MIME type per output, so bundles go through the writer tslab
 * itself uses (`tslab/dist/jupyter`'s `lastWriteDisplayData`, tslab 1.0.22). tslab is looked up only
 * when something is shown, and only if a kernel already loaded it, so the library loads anywhere;
 * outside a kernel the text form is printed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { NstError } from '../errors';
import type { Figure } from '../figures/figure';
import { lossCurves } from '../figures/charts';
import { PLOTLY_MIME, toPlotly, type PlotlyFigure } from '../figures/plotly';
import { escapeXml } from '../figures/text';
import { renderSvg, svgSize, svgToPng, toVegaLite } from '../figures/vegalite';
import { projectRoot } from '../paths';
import { formatDuration } from '../run/progress';
import type { RunCallbacks, RunInfo, StepLogs } from '../run/types';

/** MIME type → content: strings as they are (PNG as base64), JSON types as objects. */
export type MimeBundle = Record<string, unknown>;

export interface DisplaySink {
  /** Shows a bundle; a later call with the same `id` replaces that output in place. */
  show(data: MimeBundle, metadata?: Record<string, unknown>, id?: string): void;
}

type WriteDisplayData = (content: { data: MimeBundle; metadata: Record<string, unknown>; transient: { display_id?: string } }, update: boolean) => void;

/** tslab's jupyter module, if this process is a tslab kernel (it loaded it at start-up). */
function tslabJupyter(): { lastWriteDisplayData: WriteDisplayData | null } | undefined {
  const req = createRequire(join(projectRoot(), 'package.json'));
  let path: string;
  try {
    path = req.resolve('tslab/dist/jupyter');
  } catch {
    return undefined;
  }
  return req.cache[path]?.exports as { lastWriteDisplayData: WriteDisplayData | null } | undefined;
}

/** Display ids already shown: their next output is an update in place. */
const shown = new Set<string>();

function tslabSink(jupyter: { lastWriteDisplayData: WriteDisplayData | null }): DisplaySink {
  return {
    show(data, metadata = {}, id) {
      const write = jupyter.lastWriteDisplayData;
      if (!write) throw new NstError('the tslab kernel is not executing a cell', 'show output from inside a notebook cell');
      write({ data, metadata, transient: id ? { display_id: id } : {} }, id !== undefined && shown.has(id));
      if (id) shown.add(id);
    },
  };
}

const textSink: DisplaySink = {
  show(data) {
    if (typeof data['text/plain'] === 'string') console.log(data['text/plain']);
  },
};

let override: DisplaySink | undefined;

/** Replaces where output goes (tests record bundles this way); undefined restores the default. */
export function setDisplaySink(sink: DisplaySink | undefined): void {
  override = sink;
}

export function displaySink(): DisplaySink {
  if (override) return override;
  const jupyter = tslabJupyter();
  return jupyter ? tslabSink(jupyter) : textSink;
}

let nextId = 0;
/** A fresh display id for outputs updated in place. */
function newDisplayId(): string {
  return `nst-${process.pid}-${Date.now().toString(36)}-${nextId++}`;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** A PNG shown at `width` CSS pixels (high-DPI PNGs would otherwise show at their pixel size). */
function pngBundle(png: Uint8Array, alt: string, width?: number): { data: MimeBundle; metadata: Record<string, unknown> } {
  return { data: { 'image/png': base64(png), 'text/plain': alt }, metadata: width ? { 'image/png': { width } } : {} };
}

export function showPng(png: Uint8Array, alt = 'image', width?: number): void {
  const { data, metadata } = pngBundle(png, alt, width);
  displaySink().show(data, metadata);
}

/** JSON inside a <script>: `</` would end the script early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/<\//g, '<\\/');
}

let nextChart = 0;

/**
 * A chart as HTML that draws itself with plotly.js (loaded once per notebook by showPlotlyLoader):
 * what nbconvert's HTML and front ends without plotly's renderer show, still interactive.
 */
export function plotlyHtml(fig: PlotlyFigure): string {
  const id = `nst-chart-${process.pid}-${nextChart++}`;
  const layout = fig.layout as { width?: number; height?: number };
  const size = `width:${layout.width ?? 700}px;height:${layout.height ?? 450}px`;
  const draw = `Plotly.newPlot(${JSON.stringify(id)}, ${scriptJson(fig.data)}, ${scriptJson(fig.layout)}, {displaylogo: false})`;
  const missing = `document.getElementById(${JSON.stringify(id)}).textContent = 'plotly.js is not loaded: run the notebook from its setup cell'`;
  return `<div id="${id}" style="${size}"></div><script>(function () { if (window.Plotly) ${draw}; else ${missing}; })();</script>`;
}

/** The plotly.js bundle shipped with the workbench (plotly.js-dist-min), read once. */
let plotlySource: string | undefined;
function plotlyJs(): string {
  const req = createRequire(join(projectRoot(), 'package.json'));
  plotlySource ??= readFileSync(req.resolve('plotly.js-dist-min/plotly.min.js'), 'utf8');
  return plotlySource;
}

/**
 * plotly.js in one output, so that every chart's HTML below draws with it — offline, in nbconvert's
 * HTML too. Hidden from AMD loaders (the classic notebook's RequireJS would take it as a module and
 * leave window.Plotly undefined).
 */
export function showPlotlyLoader(): void {
  const js = plotlyJs().replace(/<\/script/gi, '<\\/script');
  const html = `<script>(function () { var define, module, exports; ${js}\n}).call(window);</script>`;
  displaySink().show({ 'text/html': html, 'text/plain': '(plotly.js for the interactive charts)' });
}

/**
 * Interactive plotly figure + its HTML rendering + static PNG (of the vega-lite twin, already
 * rendered) in one output: each front end shows the richest it can.
 */
export function showFigure(fig: Figure, png: Uint8Array, width: number, id?: string): void {
  const { data, metadata } = pngBundle(png, fig.title, width);
  const plotly = toPlotly(fig);
  displaySink().show({ [PLOTLY_MIME]: plotly, 'text/html': plotlyHtml(plotly), ...data }, metadata, id);
}

/** Renders a figure's static twin at screen resolution and shows both (for figures not exported). */
export async function renderAndShow(fig: Figure, id?: string, dpi = 96): Promise<void> {
  const svg = await renderSvg(toVegaLite(fig));
  showFigure(fig, await svgToPng(svg, dpi), svgSize(svg).width, id);
}

export function showHtml(html: string, text: string, id?: string): void {
  displaySink().show({ 'text/html': html, 'text/plain': text }, {}, id);
}

/** The columns and rows of a table (a danfojs DataFrame is one). */
export interface Table {
  columns: readonly string[];
  values: readonly (readonly unknown[])[];
}

/** Losses are compared across decades: scientific. */
const LOSS_COLUMN = /^(loss_|total$|content$|style$|tv$|content\/|style\/)/;
/** Times in seconds: fixed, two decimals. */
const TIME_COLUMN = /(_s|seconds)$/;

/** One cell as tables show it: losses scientific (3 significant decimals), times fixed, counts whole. */
export function formatCell(column: string, value: unknown): string {
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return '';
  if (typeof value !== 'number') return String(value);
  if (LOSS_COLUMN.test(column)) return value.toExponential(3);
  if (TIME_COLUMN.test(column)) return value.toFixed(2);
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

/** A table as HTML (and text) in one output, numbers right-aligned in consistent formats (formatCell). */
export function showTable(table: Table, caption: string): void {
  const cols = table.columns;
  const cells = table.values.map((r) => cols.map((c, j) => formatCell(c, r[j])));
  const numeric = cols.map((_, j) => table.values.every((r) => typeof r[j] === 'number' || r[j] === null));
  const td = (s: string, j: number) => `<td style="text-align:${numeric[j] ? 'right' : 'left'};font-variant-numeric:tabular-nums">${escapeXml(s)}</td>`;
  const html = [
    `<table><caption style="text-align:left;font-weight:bold">${escapeXml(caption)}</caption>`,
    `<thead><tr>${cols.map((c) => `<th>${escapeXml(c)}</th>`).join('')}</tr></thead><tbody>`,
    ...cells.map((r) => `<tr>${r.map(td).join('')}</tr>`),
    '</tbody></table>',
  ].join('');
  const text = [caption, cols.join('\t'), ...cells.map((r) => r.join('\t'))].join('\n');
  showHtml(html, text);
}

export interface BannerInfo {
  title: string;
  backend: string;
  weights: string;
  randomWeights: boolean;
  smoke: boolean;
  /** Extra lines (parameters, figure folder). */
  details?: string[];
}

/** The first output of every notebook: what computed it, and a loud warning on random weights. */
export function showBanner(b: BannerInfo): void {
  const warn = b.randomWeights
    ? 'RANDOM WEIGHTS — no pretrained VGG-19 was found, so this runs on a randomly initialised network: the pipeline and figures are real, the images are not the paper\'s results. Put VGG-19 weights in models/ (nst models fetch vgg19) for those.'
    : '';
  const scale = b.smoke ? 'SMOKE SCALE (scale smoke, or NST_SMOKE=1): tiny images, few iterations and grid points, to test the notebook' : '';
  const lines = [b.title, `backend: ${b.backend}`, `weights: ${b.weights}`, ...(b.details ?? [])];
  const box = (text: string, color: string) =>
    `<div style="border:2px solid ${color};color:${color};padding:6px 10px;margin:4px 0;font-weight:bold">${escapeXml(text)}</div>`;
  const html = [
    `<div style="font-family:sans-serif"><div style="font-size:1.2em;font-weight:bold">${escapeXml(b.title)}</div>`,
    warn ? box(warn, '#c00') : '',
    scale ? box(scale, '#b60') : '',
    `<pre style="margin:4px 0">${lines.slice(1).map(escapeXml).join('\n')}</pre></div>`,
  ].join('');
  const text = [...(warn ? [`*** ${warn} ***`] : []), ...(scale ? [`*** ${scale} ***`] : []), ...lines].join('\n');
  showHtml(html, text);
}

export interface LiveCurveOptions {
  title?: string;
  /** At most one redraw per this many milliseconds while the run goes (the last step always redraws). */
  everyMs?: number;
}

/**
 * Callbacks for `run()` that draw the loss curve in one output, updated in place as the run goes
 * (tslab display ids), and leave the finished curve behind.
 */
export function liveLossCurve(opts: LiveCurveOptions = {}): RunCallbacks {
  const everyMs = opts.everyMs ?? 1000;
  const id = newDisplayId();
  const history: StepLogs[] = [];
  let last = 0;
  let title = opts.title ?? 'Loss';
  const draw = () => renderAndShow(lossCurves(history, title), id);
  return {
    onRunBegin(info: RunInfo) {
      history.length = 0;
      title = opts.title ?? `Loss — ${info.runId}`;
      showHtml(`<i>${escapeXml(title)}: starting…</i>`, `${title}: starting…`, id);
    },
    async onStepEnd(logs) {
      history.push(logs);
      if (performance.now() - last < everyMs) return;
      await draw();
      last = performance.now();
    },
    async onRunEnd(result) {
      history.splice(0, history.length, ...result.history);
      await draw();
    },
  };
}

/** A run's total loss per iteration as a small inline SVG (log scale): a curve beside a progress line. */
export function sparkline(values: readonly number[], width = 160, height = 36): string {
  const ys = values.filter((v) => v > 0 && Number.isFinite(v)).map(Math.log10);
  if (ys.length < 2) return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"></svg>`;
  const [lo, hi] = [Math.min(...ys), Math.max(...ys)];
  const span = hi - lo || 1;
  const points = ys.map((y, i) => `${((i / (ys.length - 1)) * (width - 4) + 2).toFixed(1)},${(height - 2 - ((y - lo) / span) * (height - 4)).toFixed(1)}`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" style="vertical-align:middle"><rect width="${width}" height="${height}" fill="#f6f6f6"/><polyline fill="none" stroke="#4c78a8" stroke-width="1.5" points="${points.join(' ')}"/></svg>`;
}

export interface ProgressBoard {
  /** Callbacks for one run, labelled (its swept values). */
  run(label: string): RunCallbacks;
  /** The final state of the board. */
  end(): void;
}

/**
 * One output for a whole experiment, updated in place: runs done of those to run, ETA, the current
 * run's iteration and loss, and a small loss curve per run (a notebook of many runs stays one output).
 */
export function progressBoard(title: string, total: number, todo: number, everyMs = 1000): ProgressBoard {
  const id = newDisplayId();
  const started = performance.now();
  const finished: { label: string; totals: number[] }[] = [];
  let current: { label: string; totals: number[]; iteration: number; iterations: number } | undefined;
  let last = 0;
  const before = total - todo;
  const draw = (force = false) => {
    if (!force && performance.now() - last < everyMs) return;
    last = performance.now();
    const done = finished.length;
    const fraction = current ? current.iteration / Math.max(1, current.iterations) : 0;
    const elapsed = performance.now() - started;
    const left = todo - done - fraction;
    const eta = done + fraction > 0 && left > 0 ? `, ETA ${formatDuration((elapsed / (done + fraction)) * left)}` : '';
    const head = todo === 0 ? `${title}: all ${total} runs completed before — nothing to run` : `${title}: ${done}/${todo} runs done in ${formatDuration(elapsed)}${eta}${before > 0 ? ` (${before} of ${total} completed before)` : ''}`;
    const now = current ? `run ${current.label}: iteration ${current.iteration}/${current.iterations}, loss ${current.totals[current.totals.length - 1]?.toExponential(3) ?? '…'}` : '';
    const curves = [...finished, ...(current ? [current] : [])]
      .map((r) => `<span style="display:inline-block;margin:2px 6px 2px 0;font-size:11px">${sparkline(r.totals)}<br>${escapeXml(r.label)}</span>`)
      .join('');
    showHtml(`<div style="font-family:sans-serif"><code>${escapeXml(head)}</code><br><code>${escapeXml(now)}</code><div>${curves}</div></div>`, [head, now].filter(Boolean).join('\n'), id);
  };
  draw(true);
  return {
    run(label) {
      return {
        onRunBegin(info) {
          current = { label, totals: [], iteration: 0, iterations: info.config.iterations };
          draw(true);
        },
        onStepEnd(logs) {
          if (!current) return;
          current.iteration = logs.iteration;
          current.totals.push(logs.total);
          draw();
        },
        onRunEnd(result) {
          finished.push({ label, totals: result.history.map((l) => l.total) });
          current = undefined;
          draw(true);
        },
      };
    },
    end() {
      draw(true);
    },
  };
}
