/**
 * Every notebook in notebooks/ runs top to bottom at smoke scale (NST_SMOKE=1) on the workbench's
 * tslab kernel, headlessly through nbclient (test/nbrun.py), as a researcher's front end would run it:
 * no error output, at least one chart shown (with its static PNG), the banner first, and the expected
 * figure files written as valid SVG/PNG. Runs and figures go to a scratch folder (NST_RESULTS).
 *
 * Needs Jupyter's Python side: /usr/bin/python3 with nbclient (Debian: python3-nbclient,
 * jupyter-client, python3-ipykernel); NST_PYTHON names another interpreter.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { installKernel, KERNEL_NAME } from '../src/lib/notebook/kernel';

const ROOT = process.cwd();
const PYTHON = process.env.NST_PYTHON ?? '/usr/bin/python3';
const scratch = mkdtempSync(join(tmpdir(), 'nst-notebooks-'));
const prefix = join(scratch, 'kernel');
const results = join(scratch, 'results');

/** The figure files each notebook must write to results/figures/<notebook>/ (charts: .svg + .png). */
const EXPECTED: Record<string, { charts: string[]; images: string[]; tables?: string[] }> = {
  '00-environment': { charts: ['layer-sizes'], images: [] },
  '01-quickstart': { charts: ['loss', 'terms'], images: ['result'] },
  '02-gatys2016-neckarfront': { charts: ['loss-total', 'loss-style', 'loss-content'], images: ['neckarfront'], tables: ['final-losses'] },
  '03-layer-choices': { charts: ['final-losses', 'content-layer-loss', 'texture-loss'], images: ['style-layers-by-ratio', 'content-layer', 'texture-synthesis'] },
  '04-weight-sweep': { charts: ['final-losses', 'loss-total', 'loss-content'], images: ['results'], tables: ['final-losses'] },
  '05-gram-statistics': { charts: ['gram-distance', 'gram-conv1_1', 'spectra', 'channel-mean', 'channel-std'], images: [] },
  '06-initialisation': { charts: ['loss-total', 'final-losses', 'distance-pixels', 'distance-style'], images: ['results'] },
  '07-networks': { charts: ['style-terms', 'channel-std-1', 'channel-std-2'], images: ['results'] },
  '08-colour-control': { charts: ['chroma-error'], images: ['results'], tables: ['colour-controls'] },
  '09-spatial-control': { charts: ['loss', 'region-terms'], images: ['results'] },
  '10-scale-control': { charts: ['synthesis-terms'], images: ['results'] },
  '11-coarse-to-fine': { charts: ['style-terms', 'loss-by-stage'], images: ['results'] },
  '12-style-losses': { charts: ['style-terms'], images: ['results'], tables: ['losses', 'presets'] },
  '13-video': { charts: ['warping-error'], images: ['frames', 'flow'] },
};

/** Lines of code in a cell: blank lines and whole-line comments do not count. */
const MAX_CELL_LINES = 3;
const codeLines = (source: string): number => source.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//')).length;

const PLOTLY_MIME = 'application/vnd.plotly.v1+json';
const CHROMIUM = process.env.NST_CHROMIUM ?? '/usr/bin/chromium';

const CHART_MIMES = ['image/png', 'application/vnd.plotly.v1+json', 'application/vnd.vegalite.v5+json'];

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
interface Cell {
  cell_type: string;
  source: string | string[];
  metadata: { tags?: string[]; execution?: Record<string, string> };
  outputs?: Output[];
  execution_count?: number | null;
}
interface Notebook {
  cells: Cell[];
  metadata: { kernelspec?: { name: string } };
}

const text = (v: string | string[] | unknown): string => (Array.isArray(v) ? v.join('') : String(v ?? ''));
const readNotebook = (path: string): Notebook => JSON.parse(readFileSync(path, 'utf8')) as Notebook;
const names = readdirSync(join(ROOT, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))
  .map((f) => f.replace(/\.ipynb$/, ''))
  .sort();

/** Whether `auto` finds the pretrained VGG-19: then the banner must not say RANDOM WEIGHTS. */
function pretrainedPresent(): boolean {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'models', 'manifest.json'), 'utf8')) as { vgg19: { file: string } };
  return existsSync(join(ROOT, 'models', manifest.vgg19.file));
}

function execute(name: string, scale: Record<string, string> = { NST_SMOKE: '1' }, out = join(scratch, `${name}.ipynb`)): Promise<{ status: number; stderr: string; out: string }> {
  const env = {
    ...process.env,
    NST_SMOKE: '',
    ...scale,
    NST_BACKEND: 'wasm',
    NST_RESULTS: results,
    JUPYTER_PATH: [join(prefix, 'share', 'jupyter'), process.env.JUPYTER_PATH].filter(Boolean).join(':'),
    JUPYTER_RUNTIME_DIR: join(scratch, 'runtime'),
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
  };
  const args = [join(ROOT, 'test', 'nbrun.py'), join(ROOT, 'notebooks', `${name}.ipynb`), out, '--kernel', KERNEL_NAME, '--cwd', ROOT, '--timeout', '600'];
  return new Promise((resolve) => {
    execFile(PYTHON, args, { env, maxBuffer: 64 * 1024 * 1024 }, (err, _stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : 2) : 0;
      resolve({ status, stderr, out });
    });
  });
}

/** Everything a failing notebook printed as an error, for the assertion message. */
function errorReport(nb: Notebook): string {
  return nb.cells
    .flatMap((c, i) =>
      (c.outputs ?? [])
        .filter((o) => o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr'))
        .map((o) => `cell ${i}: ${o.output_type === 'error' ? `${o.ename}: ${o.evalue}` : text(o.text)}`),
    )
    .join('\n')
    .slice(0, 4000);
}

async function checkSvg(path: string): Promise<void> {
  const svg = readFileSync(path, 'utf8');
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, `${path} is an SVG document`);
  assert.ok(svg.trimEnd().endsWith('</svg>'), `${path} is complete`);
  const meta = await sharp(path).metadata();
  assert.equal(meta.format, 'svg');
  assert.ok(meta.width! > 50 && meta.height! > 50, `${path}: ${meta.width}×${meta.height}`);
}

async function checkPng(path: string): Promise<void> {
  const meta = await sharp(path).metadata();
  assert.equal(meta.format, 'png', path);
  assert.ok(meta.width! > 20 && meta.height! > 20, `${path}: ${meta.width}×${meta.height}`);
  const stats = await sharp(path).stats();
  assert.ok(stats.channels.some((c) => c.min !== c.max), `${path} is not a blank image`);
}

describe('committed notebooks', () => {
  it('are the notebooks the test knows the figures of', () => {
    assert.deepEqual(names, Object.keys(EXPECTED).sort());
  });

  for (const name of names) {
    it(`${name}: no outputs, one parameters cell, the workbench kernel`, () => {
      const nb = readNotebook(join(ROOT, 'notebooks', `${name}.ipynb`));
      assert.equal(nb.metadata.kernelspec?.name, KERNEL_NAME);
      const code = nb.cells.filter((c) => c.cell_type === 'code');
      for (const c of code) {
        assert.deepEqual(c.outputs, [], `${name}: committed with outputs`);
        assert.equal(c.execution_count, null);
      }
      assert.equal(code.filter((c) => c.metadata.tags?.includes('parameters')).length, 1, 'exactly one parameters cell');
      const params = code.find((c) => c.metadata.tags?.includes('parameters'))!;
      assert.match(text(params.source), /notebookParams\(/, 'the parameters cell scales through notebookParams (NST_SMOKE)');
    });

    it(`${name}: code cells of at most ${MAX_CELL_LINES} lines over the library (the parameters cell aside)`, () => {
      const nb = readNotebook(join(ROOT, 'notebooks', `${name}.ipynb`));
      const long = nb.cells
        .map((c, i) => ({ i, c, lines: codeLines(text(c.source)) }))
        .filter(({ c, lines }) => c.cell_type === 'code' && !c.metadata.tags?.includes('parameters') && lines > MAX_CELL_LINES);
      assert.deepEqual(long.map(({ i, lines }) => `cell ${i}: ${lines} lines`), [], 'what a cell computes over more lines belongs in src/lib');
    });
  }
});

/** The notebook executed twice more: the second execution must find its runs completed. */
const RERUN = '04-weight-sweep';
/** Notebooks whose smoke execution passed: the browser test loads them. */
const executed = new Set<string>();

/** Seconds spent in the cells that run experiments: from busy to idle, as nbclient records each cell. */
function experimentSeconds(nb: Notebook): number {
  return nb.cells
    .filter((c) => c.cell_type === 'code' && /runExperiment\(/.test(text(c.source)))
    .reduce((sum, c) => sum + (Date.parse(c.metadata.execution!['iopub.status.idle']!) - Date.parse(c.metadata.execution!['iopub.status.busy']!)) / 1000, 0);
}

describe('notebooks at smoke scale on the tslab kernel', () => {
  before(async () => {
    try {
      execFileSync(PYTHON, ['-c', 'import nbclient, nbformat, jupyter_client'], { stdio: 'pipe' });
    } catch {
      assert.fail(`${PYTHON} cannot import nbclient: install python3-nbclient jupyter-client python3-ipykernel (Debian), or set NST_PYTHON`);
    }
    await installKernel({ prefix });
  });

  for (const name of names) {
    it(`${name} runs top to bottom, shows charts and writes valid figures`, { timeout: 15 * 60_000 }, async () => {
      const { status, stderr, out } = await execute(name);
      assert.ok(existsSync(out), `nbclient wrote no notebook (exit ${status}): ${stderr.slice(-3000)}`);
      const nb = readNotebook(out);
      assert.equal(status, 0, `${name} failed (exit ${status}):\n${errorReport(nb)}\n${stderr.slice(-2000)}`);
      const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
      assert.deepEqual(outputs.filter((o) => o.output_type === 'error'), [], errorReport(nb));
      const errorText = outputs.filter((o) => o.output_type === 'stream' && o.name === 'stderr' && /Error|Exception|Unhandled/.test(text(o.text)));
      assert.deepEqual(errorText.map((o) => text(o.text)), [], 'errors printed to stderr');

      const rich = outputs.filter((o) => o.data);
      const banner = text(rich[0]?.data?.['text/plain']);
      assert.match(banner, /weights: /, 'the first output is the banner');
      assert.match(banner, /SMOKE SCALE/);
      if (pretrainedPresent()) assert.doesNotMatch(banner, /RANDOM WEIGHTS/);
      // Random weights are said loudly; a VGG without them only runs when models/ holds its weights; a
      // trained network from npm (notebook 12's InceptionV3, 13's `auto` fallback) needs no warning.
      const weightsLine = /^weights: .*$/m.exec(banner)?.[0] ?? '';
      if (/random:/.test(weightsLine)) assert.match(banner, /RANDOM WEIGHTS/, 'random weights are said loudly');
      else if (/^weights: vgg/.test(weightsLine)) assert.ok(pretrainedPresent(), `VGG weights without models/: ${weightsLine}`);

      const charts = rich.filter((o) => CHART_MIMES.some((m) => m in o.data!));
      assert.ok(charts.length >= 1, `${name} showed no chart`);
      for (const c of charts) assert.ok('image/png' in c.data!, 'every chart also has a static PNG');
      for (const c of charts.filter((o) => PLOTLY_MIME in o.data!)) {
        assert.ok('text/html' in c.data!, 'every interactive chart also has an HTML rendering');
        // An axis without a line passes every other check: a chart must have something to draw.
        const traces = (c.data![PLOTLY_MIME] as { data: { y?: unknown[]; z?: unknown[] }[] }).data;
        const finite = traces.flatMap((t) => [...(t.y ?? []), ...(t.z ?? []).flat(2)]).filter((v) => typeof v === 'number' && Number.isFinite(v));
        assert.ok(finite.length > 0, `${name}: a chart has no finite value to draw (${traces.length} traces)`);
      }

      const dir = join(results, 'figures', name);
      for (const chart of EXPECTED[name]!.charts) {
        await checkSvg(join(dir, `${chart}.svg`));
        await checkPng(join(dir, `${chart}.png`));
      }
      for (const image of EXPECTED[name]!.images) await checkPng(join(dir, `${image}.png`));
      for (const table of EXPECTED[name]!.tables ?? []) {
        const csv = readFileSync(join(dir, `${table}.csv`), 'utf8').trim().split('\n');
        assert.ok(csv.length >= 2 && csv.every((l) => l.split(',').length >= csv[0]!.split(',').length), `${table}.csv: a header and rows`);
      }
      executed.add(name);
    });
  }

  it(`${RERUN}: a second execution reuses the completed runs — its experiment cells take under a quarter of the first's time — and gives the same tables`, { timeout: 15 * 60_000 }, async () => {
    // At the `quick` scale (64 px, 20 iterations): smoke-scale runs take less than a cell's own overhead (tslab compiles each cell).
    const run = async (k: number) => {
      const { status, out } = await execute(RERUN, { NST_SCALE: 'quick' }, join(scratch, `${RERUN}-quick-${k}.ipynb`));
      const nb = readNotebook(out);
      assert.equal(status, 0, errorReport(nb));
      return { nb, csv: readFileSync(join(results, 'figures', RERUN, 'final-losses.csv'), 'utf8') };
    };
    const first = await run(1);
    const again = await run(2);
    assert.equal(again.csv, first.csv, 'final-losses.csv is the same');
    const tables = (nb: Notebook) => nb.cells.flatMap((c) => (c.outputs ?? []).filter((o) => /<table>/.test(text(o.data?.['text/html']))).map((o) => text(o.data!['text/plain'])));
    assert.ok(tables(again.nb).length > 0, 'the notebook shows a table');
    assert.deepEqual(tables(again.nb), tables(first.nb));
    // Kernel start and tslab's compilation of the library take the same time in both: what reuse saves is in the experiment cells.
    const [t1, t2] = [experimentSeconds(first.nb), experimentSeconds(again.nb)];
    assert.ok(t2 < t1 / 4, `experiment cells took ${t2.toFixed(1)} s the second time, ${t1.toFixed(1)} s the first`);
  });

  it('render in a browser: nbconvert HTML in headless Chromium draws every chart, and no output is raw JSON', { timeout: 15 * 60_000 }, () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not found: install Debian's chromium (.ci/run does), or set NST_CHROMIUM`);
    const htmlDir = join(scratch, 'html');
    for (const name of executed) {
      const executed = join(scratch, `${name}.ipynb`);
      execFileSync(PYTHON, ['-m', 'nbconvert', '--to', 'html', executed, '--output-dir', htmlDir], { stdio: 'pipe' });
      const dom = execFileSync(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=30000', '--dump-dom', `file://${join(htmlDir, `${name}.html`)}`], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
      const charts = readNotebook(executed).cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data && PLOTLY_MIME in o.data).length;
      const drawn = (dom.match(/class="plot-container plotly"/g) ?? []).length;
      assert.equal(drawn, charts, `${name}: ${drawn} of ${charts} plotly charts drew in Chromium`);
      if (charts > 0) assert.match(dom, /class="main-svg"/, `${name}: plotly drew its SVG`);
      const visible = dom.replace(/<script[\s\S]*?<\/script>/g, '');
      assert.doesNotMatch(visible, /(&quot;|")(data|layout)(&quot;|"):\s*[[{]/, `${name}: an output shows raw JSON`);
    }
  });
});
