/**
 * The figure pipeline without a kernel: vega-lite export to valid SVG/PNG at the asked DPI, plotly
 * twins, image grids, the eigenvalue solver, distances, notebook parameters, display bundles and the
 * kernelspec.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { main } from '../src/cli/main';
import { gramDistance, pairwise, rmsDistance } from '../src/lib/analysis/distance';
import { symmetricEigenvalues } from '../src/lib/analysis/eigen';
import type { LayerStats } from '../src/lib/analysis/features';
import { initBackend } from '../src/lib/backend';
import { NstError } from '../src/lib/errors';
import { channelStatsChart, gramHeatmaps, lossCurves, overlaidCurves, spectraChart, termCurves } from '../src/lib/figures/charts';
import { exportFigure, exportPng, figuresDir } from '../src/lib/figures/export';
import { formatValue, spansDecades, type Figure } from '../src/lib/figures/figure';
import { imageGrid } from '../src/lib/figures/grid';
import { PLOTLY_MIME, toPlotly } from '../src/lib/figures/plotly';
import { renderSvg, svgSize, toVegaLite } from '../src/lib/figures/vegalite';
import { formatCell, liveLossCurve, progressBoard, setDisplaySink, showBanner, showFigure, showTable, type MimeBundle } from '../src/lib/notebook/display';
import { installKernel, KERNEL_NAME, userJupyterDataDir } from '../src/lib/notebook/kernel';
import { configOf, isSmoke, notebookParams } from '../src/lib/notebook/params';
import type { RunInfo, RunResult, StepLogs } from '../src/lib/run/types';

const dir = mkdtempSync(join(tmpdir(), 'nst-figures-'));

before(async () => {
  await initBackend('wasm');
});

/** A loss history with known values: total = content + style, decaying over decades. */
function history(n: number, scale = 1): StepLogs[] {
  return Array.from({ length: n }, (_, i) => {
    const content = scale * 10 * 0.5 ** i;
    const style = scale * 1e4 * 0.1 ** i;
    return {
      iteration: i + 1,
      elapsedMs: 10 * i,
      evaluations: i + 1,
      total: content + style,
      content,
      style,
      tv: 0,
      terms: { 'content/conv4_2': content, 'style/conv1_1': style / 2, 'style/conv2_1': style / 2 },
    };
  });
}

function isPng(b: Uint8Array): boolean {
  return Buffer.from(b.subarray(0, 8)).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
}

describe('figure model', () => {
  it('switches to log scales only when values span decades', () => {
    assert.equal(spansDecades([1, 50]), false);
    assert.equal(spansDecades([1, 50, 1e3]), true);
    assert.equal(spansDecades([0, -5, 2, 3]), false, 'non-positive values are ignored');
    assert.equal(spansDecades([]), false);
  });

  it('labels weights compactly', () => {
    assert.deepEqual([1e3, 1e-3, 1, 0.5, 0, -100, 2.5e-5, 12345].map(formatValue), ['1e3', '1e-3', '1', '0.5', '0', '-1e2', '2.5e-5', '1.2e4']);
  });

  it('builds loss curves from the history, leaving out all-zero parts', () => {
    const h = history(5);
    const fig = lossCurves(h);
    assert.deepEqual(fig.series.map((s) => s.name), ['total', 'content (α·L_content)', 'style (β·L_style)']);
    assert.deepEqual(fig.series[0]!.y, h.map((l) => l.content + l.style));
    assert.equal(fig.y.log, true);
    const terms = termCurves(h);
    assert.deepEqual(terms.series.map((s) => [s.name, s.color, s.dash]), [
      ['content/conv4_2', 'conv4_2', 'content'],
      ['style/conv1_1', 'conv1_1', 'style'],
      ['style/conv2_1', 'conv2_1', 'style'],
    ]);
    const over = overlaidCurves([{ label: 'a', history: h }, { label: 'b', history: history(5, 2) }], { value: 'style/conv1_1', title: 't' });
    assert.deepEqual(over.series[1]!.y, history(5, 2).map((l) => l.terms['style/conv1_1']));
  });

  it('takes the top-left block of Gram matrices', () => {
    const c = 3;
    const g = Float32Array.from({ length: c * c }, (_, i) => i);
    const fig = gramHeatmaps('conv1_1', [{ name: 'style', gram: g, channels: c }], 2);
    assert.deepEqual(fig.panels[0]!.z, [
      [0, 1],
      [3, 4],
    ]);
  });
});

describe('vega-lite export', () => {
  const figures: Figure[] = [
    lossCurves(history(6)),
    termCurves(history(6)),
    spectraChart([{ name: 'conv1_1', values: [100, 10, 1, 0.1], color: 'conv1_1', dash: 'style' }, { name: 'conv1_1 result', values: [90, 12, 2, 0.05], color: 'conv1_1', dash: 'result' }]),
    gramHeatmaps('conv1_1', [{ name: 'style', gram: Float32Array.from({ length: 16 }, (_, i) => i + 1), channels: 4 }, { name: 'result', gram: Float32Array.from({ length: 16 }, (_, i) => 16 - i), channels: 4 }]),
    channelStatsChart([{ layer: 'conv1_1', style: [1, 2, 3], result: [1.1, 1.9, 3.2] }], { statistic: 'mean', title: 'means' }),
    { kind: 'bar', title: 'bars', x: { title: 'init', categories: ['noise', 'content'] }, y: { title: 'loss', log: true }, series: [{ name: 'total', values: [10, 1000] }] },
  ];

  it('renders every kind of figure to an SVG with its axis titles', async () => {
    for (const fig of figures) {
      const svg = await renderSvg(toVegaLite(fig));
      assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/, fig.title);
      assert.ok(svg.includes(fig.title.replace(/&/g, '&amp;')), `title of ${fig.title} in the SVG`);
      const axisTitle = fig.kind === 'heatmap' ? fig.x.title : fig.y.title;
      assert.ok(svg.includes(axisTitle), `axis title ${axisTitle}`);
      const { width, height } = svgSize(svg);
      assert.ok(width > 100 && height > 100, `${fig.title}: ${width}×${height}`);
    }
  });

  it('draws every bar, also on a log axis (bars cannot start at 0 there)', async () => {
    for (const log of [false, true]) {
      const fig: Figure = { kind: 'bar', title: 'b', x: { title: 'x', categories: ['a', 'b', 'c'] }, y: { title: 'y', log }, series: [{ name: 's', values: [3, 300, 3e4] }, { name: 't', values: [1, 2, 5] }] };
      const svg = await renderSvg(toVegaLite(fig));
      const marks = /class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/s.exec(svg)?.[1] ?? '';
      const heights = [...marks.matchAll(/<path[^>]*d="M[\d.-]+,([\d.-]+)h[\d.-]+v([\d.-]+)/g)].map((m) => Number(m[2]));
      assert.equal(heights.length, 6, `log ${log}: six bars`);
      assert.ok(heights.every((h) => h > 0), `log ${log}: every bar has a height (${heights})`);
    }
  });

  it('keeps heatmap rows and columns that have nothing to draw', async () => {
    // Channel 2 is dead (a ReLU that never fires): its Gram row and column are 0, undrawable on the log scale.
    const g = [1e4, 10, 0, 10, 1e-1, 0, 0, 0, 0];
    const fig = gramHeatmaps('conv1_1', [{ name: 'style', gram: g, channels: 3 }]);
    assert.equal(fig.color.log, true);
    const svg = await renderSvg(toVegaLite(fig));
    const ticks = [...svg.matchAll(/<text[^>]*>(\d)<\/text>/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(ticks)].sort(), ['0', '1', '2'], 'channel 2 keeps its place on both axes');
    assert.equal(ticks.filter((t) => t === '2').length, 2);
  });

  it('draws a log axis for losses, with decade ticks, and whole iterations', async () => {
    const svg = await renderSvg(toVegaLite(lossCurves(history(6))));
    // Data spanning 1e4…1e-1: a tick at every decade, in exponent form.
    for (const tick of ['1e+1', '1e+2', '1e+3', '1e+4']) assert.ok(svg.includes(`>${tick}<`), `tick ${tick}`);
    const short = await renderSvg(toVegaLite(lossCurves(history(2))));
    assert.doesNotMatch(short, />1\.5</, 'no fractional iteration ticks');
  });

  it('writes spec, SVG and PNG at the asked DPI, atomically into the figure folder', async () => {
    const out = join(dir, 'figs');
    const fig = lossCurves(history(6));
    const a = await exportFigure(fig, out, 'loss', { dpi: 72 });
    const b = await exportFigure(fig, out, 'loss-hi', { dpi: 144 });
    for (const e of [a, b]) {
      assert.ok(existsSync(e.svgPath) && existsSync(e.pngPath) && existsSync(e.specPath));
      assert.ok(readFileSync(e.svgPath, 'utf8').startsWith('<svg'));
      assert.ok(isPng(readFileSync(e.pngPath)));
      assert.equal(JSON.parse(readFileSync(e.specPath, 'utf8')).$schema, 'https://vega.github.io/schema/vega-lite/v5.json');
    }
    const ma = await sharp(a.pngPath).metadata();
    const mb = await sharp(b.pngPath).metadata();
    assert.equal(ma.width, a.width, 'at 72 DPI one pixel per SVG unit');
    assert.ok(Math.abs(mb.width! - 2 * a.width) <= 1, `144 DPI doubles the width: ${mb.width} vs ${a.width}`);
    // The PNG is not blank: it has dark (text, lines) and white pixels.
    const stats = await sharp(a.pngPath).stats();
    assert.ok(stats.channels[0]!.min < 100 && stats.channels[0]!.max === 255);
    assert.equal(readFileSync(join(out, 'loss.svg'), 'utf8').includes('.tmp-'), false);
    await assert.rejects(exportFigure(fig, out, '../escape'), NstError);
    assert.equal(figuresDir('01-quickstart', '/r'), join('/r', 'figures', '01-quickstart'));
    assert.equal(figuresDir('01-quickstart'), join(process.cwd(), 'results', 'figures', '01-quickstart'));
  });

  it('builds a plotly twin with the same series and axis types', () => {
    const fig = lossCurves(history(6));
    const p = toPlotly(fig);
    assert.deepEqual(p.data.map((t) => t.name), fig.series.map((s) => s.name));
    assert.deepEqual(p.data[0]!.y, fig.series[0]!.y);
    assert.equal((p.layout.yaxis as { type: string }).type, 'log');
    const heat = toPlotly(figures[3]!);
    assert.equal(heat.data.length, 2);
    assert.equal(heat.data[0]!.coloraxis, heat.data[1]!.coloraxis, 'style and result share one colour scale');
  });
});

describe('figure details a reader relies on', () => {
  it('ticks iterations at whole numbers a fixed step apart in plotly', () => {
    for (const [n, step] of [[3, 1], [40, 5], [500, 100]] as const) {
      const x = (toPlotly(lossCurves(history(n))).layout.xaxis as { dtick: number; tickformat: string });
      assert.equal(x.tickformat, 'd');
      assert.ok(Number.isInteger(x.dtick) && x.dtick === step, `${n} iterations: step ${x.dtick}`);
    }
  });

  it('keeps the total visible: solid, its weighted parts dashed', () => {
    const fig = lossCurves(history(4));
    assert.equal(fig.series[0]!.name, 'total');
    const lines = toPlotly(fig).data.map((t) => (t.line as { dash: string }).dash);
    assert.deepEqual(lines, ['solid', ...fig.series.slice(1).map(() => 'dash')]);
  });

  it('says in the title how many values a log scale left out', async () => {
    const gram = [4, 0, -1e-9, 2];
    const fig = gramHeatmaps('conv3_1', [{ name: 'style', gram, channels: 2 }]);
    fig.color.log = true;
    assert.match(String((toPlotly(fig).layout.title as { text: string }).text), /\(2 values ≤ 0 not shown on the log scale\)$/);
    assert.match(await renderSvg(toVegaLite(fig)), /2 values ≤ 0 not shown/);
    assert.equal(toVegaLite(lossCurves(history(3))).title, 'Loss', 'nothing said when nothing is left out');
  });

  it('gives a log colour bar several ticks, also within one decade', () => {
    const fig = gramHeatmaps('conv1_1', [{ name: 'style', gram: [2, 3, 4, 5], channels: 2 }]);
    fig.color.log = true;
    const spec = toVegaLite(fig) as unknown as { encoding: { color: { legend: { values: number[] } } } };
    const ticks = spec.encoding.color.legend.values;
    assert.ok(ticks.length >= 4 && ticks[0] === 2 && ticks[ticks.length - 1] === 5, String(ticks));
  });

  it('puts each panel\'s colour bar inside its own panel\'s slot (never on the next panel)', () => {
    const panels = [0, 1, 2].map((k) => ({ name: `p${k}`, z: [[1 + k, 2], [3, 4 + k]] }));
    const fig: Figure = { kind: 'heatmap', title: 'h', x: { title: 'x', categories: ['a', 'b'] }, y: { title: 'y', categories: ['c', 'd'] }, panels, color: { title: 'v' }, sharedScale: false };
    const layout = toPlotly(fig).layout as Record<string, { domain?: number[]; colorbar?: { x: number } }>;
    for (const [i, suffix] of ['', '2', '3'].entries()) {
      const bar = layout[`coloraxis${suffix}`]!.colorbar!.x;
      const mine = layout[`xaxis${suffix}`]!.domain!;
      const next = layout[`xaxis${i + 2}`]?.domain?.[0] ?? 1;
      assert.ok(bar > mine[1]! && bar + 0.03 < next, `panel ${i}: bar at ${bar}, panel ${mine}, next panel from ${next}`);
    }
  });
});

describe('image grid', () => {
  it('places images in labelled cells of the first image\'s proportions', async () => {
    const red = await sharp({ create: { width: 40, height: 20, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
    const blue = join(dir, 'blue.png');
    await sharp({ create: { width: 20, height: 10, channels: 3, background: { r: 0, g: 0, b: 255 } } }).png().toFile(blue);
    const png = await imageGrid({ rows: [[red, blue], [null, red]], rowLabels: ['row A', 'row B'], colLabels: ['col 1', 'col 2'], title: 'T', cellHeight: 50, gap: 4 });
    assert.ok(isPng(png));
    const meta = await sharp(png).metadata();
    // Cells are 100×50 (2:1 like the first image); 2 columns and 2 rows plus gaps and label margins.
    assert.ok(meta.width! > 2 * 100 + 3 * 4 && meta.height! > 2 * 50 + 3 * 4, `${meta.width}×${meta.height}`);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const px = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    // Bottom-right cell's centre is red, top-right's blue; the empty bottom-left cell is white.
    const right = info.width - 4 - 50;
    const bottom = info.height - 4 - 25;
    assert.deepEqual(px(right, bottom), [255, 0, 0]);
    assert.deepEqual(px(right, bottom - 54), [0, 0, 255]);
    assert.deepEqual(px(right - 104, bottom), [255, 255, 255]);
    const path = await exportPng(png, join(dir, 'grid'), 'g');
    assert.ok(isPng(readFileSync(path)));
  });
});

describe('symmetric eigenvalues', () => {
  it('solves hand cases', () => {
    assert.deepEqual(Array.from(symmetricEigenvalues([2, 1, 1, 2], 2)).map((v) => +v.toFixed(12)), [3, 1]);
    assert.deepEqual(Array.from(symmetricEigenvalues([5], 1)), [5]);
    assert.deepEqual(Array.from(symmetricEigenvalues([0, 0, 0, 0, 7, 0, 0, 0, -1], 3)), [7, 0, -1]);
    // [[2,-1,0],[-1,2,-1],[0,-1,2]]: 2 - 2cos(kπ/4), k = 1..3.
    const expected = [3, 2, 1].map((k) => 2 - 2 * Math.cos((k * Math.PI) / 4));
    symmetricEigenvalues([2, -1, 0, -1, 2, -1, 0, -1, 2], 3).forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-12));
  });

  it('recovers the spectrum of Q·diag(λ)·Qᵀ for a random orthogonal Q', () => {
    const n = 24;
    const lambda = Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * 1.7 ** (i / 2));
    // Q: a product of three Householder reflections of fixed pseudo-random vectors.
    let q: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
    for (let t = 1; t <= 3; t++) {
      const v = Array.from({ length: n }, (_, i) => Math.sin(7.1 * t * (i + 1)));
      const vv = v.reduce((s, x) => s + x * x, 0);
      q = q.map((row) => row.map((_, j) => row.reduce((s, x, k) => s + x * ((k === j ? 1 : 0) - (2 * v[k]! * v[j]!) / vv), 0)));
    }
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = q[i]!.reduce((s, x, k) => s + x * lambda[k]! * q[j]![k]!, 0);
    const got = symmetricEigenvalues(a, n);
    const want = [...lambda].sort((x, y) => y - x);
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-9 * Math.abs(want[0]!), `λ${i}: ${v} vs ${want[i]}`));
  });

  it('rejects a matrix of the wrong size', () => {
    assert.throws(() => symmetricEigenvalues([1, 2, 3], 2), NstError);
  });
});

describe('distances', () => {
  it('measures RMS pixel distance and a symmetric pairwise matrix', () => {
    const a = tf.zeros([1, 2, 2, 3]);
    const b = tf.fill([1, 2, 2, 3], 3);
    const c = tf.tensor4d([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12], [1, 2, 2, 3]);
    const close = (x: number, y: number) => assert.ok(Math.abs(x - y) < 1e-5 * Math.max(1, y), `${x} vs ${y}`);
    close(rmsDistance(a, b), 3);
    close(rmsDistance(a, c), Math.sqrt(144 / 12));
    const m = pairwise([a, b, c], rmsDistance);
    const bc = Math.sqrt((11 * 9 + 81) / 12);
    const want = [
      [0, 3, Math.sqrt(12)],
      [3, 0, bc],
      [Math.sqrt(12), bc, 0],
    ];
    m.forEach((row, i) => row.forEach((v, j) => close(v, want[i]![j]!)));
    assert.throws(() => rmsDistance(a, tf.zeros([1, 3, 2, 3])), NstError);
    tf.dispose([a, b, c]);
  });

  it('compares Gram statistics relative to their size', () => {
    const stats = (g: number[]): Record<string, LayerStats> => ({
      conv1_1: { layer: 'conv1_1', channels: 2, positions: 1, gram: Float32Array.from(g), mean: new Float32Array(2), std: new Float32Array(2) },
    });
    assert.equal(gramDistance(stats([1, 0, 0, 1]), stats([1, 0, 0, 1])), 0);
    // ‖diag(1,1) − diag(3,3)‖ = √8; mean norm (√2 + √18)/2 = 2√2 → 1.
    assert.ok(Math.abs(gramDistance(stats([1, 0, 0, 1]), stats([3, 0, 0, 3])) - 1) < 1e-12);
  });
});

describe('notebook parameters and display', () => {
  it('uses smoke values at smoke scale: the cell\'s or NST_SMOKE', () => {
    const full = { imageSize: 512, iterations: 500, label: 'x' };
    const standard = { scale: 'paper', network: 'vgg19', weights: 'auto', backend: 'auto', device: 'auto', out: 'results', dpi: 200 };
    assert.deepEqual(notebookParams(full, { imageSize: 32 }, {}), { ...standard, ...full, smoke: false });
    assert.deepEqual(notebookParams(full, { imageSize: 32 }, { NST_SMOKE: '1' }), { ...standard, ...full, imageSize: 32, scale: 'smoke', smoke: true });
    assert.deepEqual(notebookParams({ ...full, scale: 'smoke' }, { imageSize: 32 }, {}), { ...standard, ...full, imageSize: 32, scale: 'smoke', smoke: true });
  });

  it('takes backend and results folder from the environment over the cell (CI), the rest from the cell', () => {
    const p = notebookParams({ backend: 'cpu', out: 'mine', network: 'vgg16', imageSize: 64 }, {}, { NST_BACKEND: 'wasm', NST_RESULTS: '/tmp/r' });
    assert.deepEqual([p.backend, p.out, p.network, p.imageSize], ['wasm', '/tmp/r', 'vgg16', 64]);
    assert.deepEqual([notebookParams({ backend: 'cpu' }, {}, {}).backend, notebookParams({}, {}, {}).out], ['cpu', 'results']);
    // Run-config keys of the cell make a single run's config; what setup resolves (network, weights, backend, out) does not.
    assert.deepEqual(configOf(p), { imageSize: 64 });
    assert.equal(isSmoke({ NST_SMOKE: '0' }), false);
    assert.ok(Object.isFrozen(notebookParams({}, {}, {})));
  });

  it('formats tables consistently: losses scientific, seconds fixed, counts whole', () => {
    assert.deepEqual(
      [formatCell('loss_total', 123456.789), formatCell('loss_style/conv1_1', 0.5), formatCell('wall_s', 3.14159), formatCell('iterations', 200), formatCell('styleWeight', 1000), formatCell('style', 'a.jpg'), formatCell('loss_tv', null)],
      ['1.235e+5', '5.000e-1', '3.14', '200', '1000', 'a.jpg', ''],
    );
    const shown: MimeBundle[] = [];
    setDisplaySink({ show: (data) => shown.push(data) });
    try {
      showTable({ columns: ['styleWeight', 'loss_total'], values: [[1e3, 2.5e7], [1e4, null]] }, 'caption');
    } finally {
      setDisplaySink(undefined);
    }
    const html = String(shown[0]!['text/html']);
    assert.equal((html.match(/<tr>/g) ?? []).length, 3, 'a header row and one row per run');
    assert.match(html, />2\.500e\+7</);
    assert.match(String(shown[0]!['text/plain']), /^caption\nstyleWeight\tloss_total\n1000\t2\.500e\+7\n10000\t$/);
  });

  it('shows an experiment\'s progress in one output updated in place, with a curve per run', async () => {
    const shown: { data: MimeBundle; id?: string }[] = [];
    setDisplaySink({ show: (data, _m, id) => shown.push({ data, id }) });
    try {
      const board = progressBoard('exp', 3, 2, 0);
      for (const label of ['a', 'b']) {
        const cb = board.run(label);
        const h = history(4);
        await cb.onRunBegin!({ config: { iterations: 3 } } as unknown as RunInfo);
        for (const l of h) await cb.onStepEnd!(l, {} as RunInfo);
        await cb.onRunEnd!({ history: h } as unknown as RunResult);
      }
      board.end();
    } finally {
      setDisplaySink(undefined);
    }
    assert.equal(new Set(shown.map((s) => s.id)).size, 1, 'every update replaces the same output');
    const last = shown[shown.length - 1]!.data;
    assert.match(String(last['text/plain']), /^exp: 2\/2 runs done in .* \(1 of 3 completed before\)$/);
    assert.equal((String(last['text/html']).match(/<polyline/g) ?? []).length, 2, 'a small curve per run');
    assert.ok(shown.some((s) => /run a: iteration 4\/3, loss/.test(String(s.data['text/plain']))));
  });

  it('shows a figure as one bundle: interactive plotly plus a static PNG', () => {
    const shown: { data: MimeBundle; metadata?: Record<string, unknown>; id?: string }[] = [];
    setDisplaySink({ show: (data, metadata, id) => shown.push({ data, metadata, id }) });
    try {
      const fig = lossCurves(history(3));
      const png = new Uint8Array([1, 2, 3]);
      showFigure(fig, png, 321);
      assert.deepEqual(shown[0]!.data[PLOTLY_MIME], toPlotly(fig));
      assert.equal(shown[0]!.data['image/png'], Buffer.from(png).toString('base64'));
      assert.deepEqual(shown[0]!.metadata, { 'image/png': { width: 321 } });
      showBanner({ title: 'nb', backend: 'wasm', weights: 'random:0', randomWeights: true, smoke: true });
      assert.match(String(shown[1]!.data['text/plain']), /RANDOM WEIGHTS/);
      assert.match(String(shown[1]!.data['text/html']), /RANDOM WEIGHTS/);
      showBanner({ title: 'nb', backend: 'wasm', weights: 'models/vgg19.h5', randomWeights: false, smoke: false });
      assert.doesNotMatch(String(shown[2]!.data['text/plain']), /RANDOM|SMOKE/);
    } finally {
      setDisplaySink(undefined);
    }
  });

  it('updates the live loss curve in place under one display id', async () => {
    const shown: { data: MimeBundle; id?: string }[] = [];
    setDisplaySink({ show: (data, _m, id) => shown.push({ data, id }) });
    try {
      const h = history(4);
      const cb = liveLossCurve({ everyMs: 0 });
      await cb.onRunBegin!({ runId: 'r' } as RunInfo);
      for (const l of h) await cb.onStepEnd!(l, { runId: 'r' } as RunInfo);
      await cb.onRunEnd!({ history: h } as RunResult);
      assert.equal(shown.length, 1 + h.length + 1);
      assert.equal(new Set(shown.map((s) => s.id)).size, 1, 'one output, updated in place');
      const last = shown[shown.length - 1]!.data[PLOTLY_MIME] as { data: { y: number[] }[] };
      assert.deepEqual(last.data[0]!.y, h.map((l) => l.total));
      assert.ok(typeof shown[1]!.data['image/png'] === 'string');
    } finally {
      setDisplaySink(undefined);
    }
  });
});

describe('kernelspec', () => {
  it('starts the project\'s tslab through the launcher at the project root', async () => {
    const prefix = join(dir, 'prefix');
    const path = await installKernel({ prefix });
    assert.equal(path, join(prefix, 'share', 'jupyter', 'kernels', KERNEL_NAME, 'kernel.json'));
    const spec = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(spec.language, 'typescript');
    assert.equal(spec.argv[0], process.execPath);
    assert.equal(spec.argv[1], join(process.cwd(), 'bin', 'tslab-kernel.cjs'));
    assert.equal(spec.argv[2], '{connection_file}');
    await assert.rejects(installKernel({ prefix, root: dir }), NstError, 'a folder without tslab is refused');
    const viaCli = join(dir, 'cli-prefix');
    assert.equal(await main(['kernel', 'install', '--prefix', viaCli]), 0);
    assert.ok(existsSync(join(viaCli, 'share', 'jupyter', 'kernels', KERNEL_NAME, 'kernel.json')));
    assert.equal(await main(['kernel', 'uninstall']), 2, 'only install is known');
    assert.equal(userJupyterDataDir({ JUPYTER_DATA_DIR: '/x' }), '/x');
    assert.equal(userJupyterDataDir({ XDG_DATA_HOME: '/d' }, 'linux'), join('/d', 'jupyter'));
  });
});
