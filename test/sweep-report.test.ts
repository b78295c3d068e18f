/**
 * `nst report`: summary.csv and the figures of a partly finished sweep agree with the runs' own files
 * (summary.json, metrics.csv, final.png), read independently here.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { readCSV } from 'danfojs-node';
import sharp from 'sharp';
import { stringify } from 'yaml';
import { initBackend } from '../src/lib/backend';
import { loadSweep, type Sweep } from '../src/lib/sweep/expand';
import { loadSweepReport } from '../src/lib/sweep/report';
import { runSweep } from '../src/lib/sweep/runner';

const tmp = mkdtempSync(join(tmpdir(), 'nst-sweep-report-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const spec = {
  name: 'rep',
  base: {
    content: 'data/images/tubingen.jpg',
    style: ['data/images/starry_night.jpg'],
    weights: 'random:0',
    imageSize: 32,
    iterations: 3,
    optimizer: 'adam',
    contentLayers: ['conv2_2'],
    backend: 'wasm',
    printEvery: 0,
  },
  parameters: {
    styleLayers: { values: [['conv1_1'], ['conv1_1', 'conv2_1']] },
    styleWeight: { values: [1e3, 1e4] },
  },
  metric: { name: 'style', goal: 'minimize' },
};

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe('nst report on a sweep with one run still pending', () => {
  const file = join(tmp, 'rep.yaml');
  const out = join(tmp, 'results');
  let sweep: Sweep;
  let stdout: string;

  before(async () => {
    await initBackend('wasm');
    writeFileSync(file, stringify(spec));
    sweep = loadSweep(file, { out });
    // Runs 0–2 finish; run 3 never starts.
    for (const index of [0, 1, 2]) await runSweep(sweep, { index, log: null });
    ({ stdout } = await promisify(execFile)(process.execPath, ['bin/nst.mjs', 'report', file, '--out', out], { encoding: 'utf8' }));
  });

  it('writes one summary.csv row per run with swept values, status and final losses', async () => {
    const path = join(out, 'rep', 'summary.csv');
    assert.match(stdout, new RegExp(`table: ${path}`));
    const frame = await readCSV(path);
    assert.deepEqual(frame.shape, [4, frame.columns.length]);
    const rows = frame.values as unknown[][];
    const col = (name: string) => {
      assert.ok(frame.columns.includes(name), `no column ${name} in ${frame.columns.join(',')}`);
      return rows.map((r) => r[frame.columns.indexOf(name)]);
    };
    assert.deepEqual(col('index'), [0, 1, 2, 3]);
    assert.deepEqual(col('id'), sweep.runs.map((r) => r.id));
    assert.deepEqual(col('status'), ['COMPLETED', 'COMPLETED', 'COMPLETED', 'PENDING']);
    // Layer sets hold commas: quoted in the file, whole again when read back.
    assert.deepEqual(col('styleLayers'), ['conv1_1', 'conv1_1', 'conv1_1,conv2_1', 'conv1_1,conv2_1']);
    assert.deepEqual(col('styleWeight'), [1e3, 1e4, 1e3, 1e4]);
    for (const r of sweep.runs.slice(0, 3)) {
      const summary = json(join(r.dir, 'summary.json'));
      const row = rows[r.index]!;
      const get = (name: string) => row[frame.columns.indexOf(name)];
      assert.equal(get('iterations'), 3);
      assert.equal(get('stop_reason'), 'completed');
      assert.ok(Math.abs((get('wall_s') as number) - summary.wallMs / 1000) < 0.01);
      for (const g of ['total', 'content', 'style']) assert.equal(get(`loss_${g}`), summary.final[g]);
      assert.equal(get('loss_style/conv1_1'), summary.final.terms['style/conv1_1']);
    }
    // Run 0 matched only conv1_1: no conv2_1 term. The pending run has no losses at all.
    assert.ok([null, undefined, NaN, ''].includes(rows[0]![frame.columns.indexOf('loss_style/conv2_1')] as never));
    assert.ok([null, undefined, NaN, ''].includes(rows[3]![frame.columns.indexOf('loss_total')] as never));
  });

  it('offers the same rows to notebooks', () => {
    const report = loadSweepReport(file, { out });
    assert.deepEqual(report.frame.shape, [4, Object.keys(report.rows[0]!).length]);
    assert.deepEqual(report.rows.map((r) => r.status), ['COMPLETED', 'COMPLETED', 'COMPLETED', 'PENDING']);
    assert.equal(report.records[2]!.history.length, 4, 'iterates 0 to 3');
  });

  it("draws the heatmap of the spec's metric over the two swept axes", () => {
    const spec = json(join(out, 'rep', 'figures', 'heatmap_style.vl.json'));
    const cells = spec.data.values as { x: string; y: string; z: number }[];
    assert.equal(cells.length, 3, 'the pending run leaves its cell empty');
    for (const r of sweep.runs.slice(0, 3)) {
      const y = (r.params.styleLayers as string[]).join(',');
      const cell = cells.find((c) => c.y === y && Number(c.x) === r.params.styleWeight);
      assert.ok(cell, `no cell for run ${r.index} (${y}, ${r.params.styleWeight})`);
      assert.equal(cell.z, json(join(r.dir, 'summary.json')).final.style);
    }
    assert.ok(existsSync(join(out, 'rep', 'figures', 'heatmap_style.png')));
  });

  it('overlays every run\'s curve, coloured by the first axis', () => {
    const spec = json(join(out, 'rep', 'figures', 'curves_style.vl.json'));
    const points = spec.data.values as { x: number; y: number; series: string; color: string }[];
    for (const r of sweep.runs.slice(0, 3)) {
      // A run is named by its swept values.
      const layers = (r.params.styleLayers as string[]).join(',');
      const mine = points.filter((p) => p.series === `styleLayers=${layers}, styleWeight=${r.params.styleWeight === 1e3 ? '1e3' : '1e4'}`);
      assert.ok(mine.length > 0, `no curve for run ${r.index}`);
      const metrics = readFileSync(join(r.dir, 'metrics.csv'), 'utf8').trim().split('\n');
      const styleCol = metrics[0]!.split(',').indexOf('style');
      assert.deepEqual(mine.map((p) => p.y), metrics.slice(1).map((l) => Number(l.split(',')[styleCol])));
      assert.deepEqual([...new Set(mine.map((p) => p.color))], [`styleLayers=${layers}`]);
    }
  });

  it('lays the final images out by the two axes', async () => {
    const grid = await sharp(join(out, 'rep', 'figures', 'grid.png')).metadata();
    const cell = await sharp(join(sweep.runs[0]!.dir, 'final.png')).metadata();
    // Two rows and two columns of cells with the final images' proportions (plus labels).
    assert.ok(grid.width! > 2 * 192 * (cell.width! / cell.height!) && grid.height! > 2 * 192, `${grid.width}×${grid.height}`);
  });
});
