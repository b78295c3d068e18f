/** The run loop end to end on random weights: it optimises, reproduces, writes its files, and does not leak. */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { resolveConfig } from '../src/lib/config';
import { NstError } from '../src/lib/errors';
import { createSession } from '../src/lib/run/session';
import { run } from '../src/lib/run/run';
import { parseMetricsCsv, runIdFor } from '../src/lib/run/store';
import { lossCurves } from '../src/lib/figures/charts';
import { TINY_RUN } from './helpers/tiny-run';

const out = mkdtempSync(join(tmpdir(), 'nst-engine-'));
const base = {
  content: 'data/images/tubingen.jpg',
  style: ['data/images/starry_night.jpg'],
  weights: 'random:3',
  imageSize: 64,
  out,
  backend: 'wasm' as const,
  printEvery: 0,
};

before(async () => {
  await initBackend('wasm');
});
after(() => rmSync(out, { recursive: true, force: true }));

describe('a 64 px L-BFGS run on random weights', () => {
  let first: Awaited<ReturnType<typeof run>>;
  before(async () => {
    first = await run({ ...base, iterations: 30, saveEvery: 10, experiment: 'a' }, { log: null, progress: false });
  });

  it('lowers the total loss at least 10×', () => {
    const start = first.history[0]!.total;
    assert.ok(first.final.total * 10 <= start, `total went from ${start} to ${first.final.total}`);
  });

  it('writes config, metrics, snapshots and final image', () => {
    for (const f of ['config.json', 'metrics.csv', 'summary.json', 'final.png', 'snapshots/iter_00010.png', 'snapshots/iter_00030.png']) {
      assert.ok(existsSync(join(first.dir, f)), `${f} missing in ${first.dir}`);
    }
    const config = JSON.parse(readFileSync(join(first.dir, 'config.json'), 'utf8'));
    assert.equal(config.seed, 0);
    assert.equal(config.backend.name, 'wasm');
    assert.equal(config.randomWeights, true);
    assert.match(config.libraryVersion, /^\d+\.\d+\.\d+/);
    assert.deepEqual(config.styleLayers, ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1']);
    const rows = parseMetricsCsv(readFileSync(join(first.dir, 'metrics.csv'), 'utf8'));
    assert.deepEqual(rows.map((r) => r.iteration), Array.from({ length: 31 }, (_, i) => i), 'iterates 0 (the start) to 30 (the final image)');
    assert.equal(rows[30]!.total, first.final.total, 'the last row is the final loss');
    assert.ok('style/conv3_1' in rows[0]! .terms && 'content/conv4_2' in rows[0]!.terms);
    // The weighted groups add up to the total.
    const r = rows[5]!;
    assert.ok(Math.abs(r.content + r.style + r.tv - r.total) <= 1e-4 * r.total);
  });

  it('lands in a directory derived from the config, and reproduces the same image', async () => {
    assert.equal(first.runId, runIdFor(resolveConfig({ ...base, iterations: 30, saveEvery: 10, experiment: 'a' })));
    const again = await run({ ...base, iterations: 30, experiment: 'b' }, { log: null, progress: false });
    assert.equal(again.runId, first.runId, 'saveEvery and experiment do not change the run id');
    assert.deepEqual(readFileSync(again.finalImage), readFileSync(first.finalImage));
  });
});

describe('tensor hygiene', () => {
  for (const optimizer of ['adam', 'lbfgs'] as const) {
    it(`${optimizer}: the tensor count does not grow across iterations`, async () => {
      const s = await createSession({ ...base, imageSize: 32, optimizer, historySize: 3, learningRate: optimizer === 'adam' ? 1 : 1 });
      try {
        const counts: number[] = [];
        for (let i = 0; i < 8; i++) {
          s.step();
          counts.push(tf.memory().numTensors);
        }
        // L-BFGS holds history pairs until its history is full (3 here); after that nothing may grow.
        const settled = optimizer === 'lbfgs' ? 4 : 0;
        assert.deepEqual(counts.slice(settled), counts.slice(settled).map(() => counts[settled]), `counts: ${counts.join(',')}`);
      } finally {
        s.dispose();
      }
    });
  }
});

describe('divergence', () => {
  it('stops cleanly on a non-finite loss, keeping the last good image', async () => {
    const cfg = { ...base, imageSize: 32, optimizer: 'adam' as const, learningRate: 1e30, iterations: 10, experiment: 'nan' };
    await assert.rejects(run(cfg, { log: null, progress: false }), (e: unknown) => e instanceof NstError && /NaN or infinite/.test(e.message));
    const dir = join(out, 'nan', runIdFor(resolveConfig(cfg)));
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    assert.equal(summary.stopReason, 'diverged');
    assert.ok(existsSync(join(dir, 'snapshots', `iter_${String(summary.iterations).padStart(5, '0')}.png`)), 'the last good image is kept');
    assert.ok(!existsSync(join(dir, 'final.png')), 'no final.png for a run that did not finish');
  });
});

describe('bad input is rejected before any compute', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['unknown layer', { styleLayers: 'conv9_9' }, /--style-layers.*conv9_9[\s\S]*conv1_1/],
    ['negative weight', { styleWeight: -1 }, /--style-weight.*negative/],
    ['unknown normalization', { normalization: 'foo' }, /--normalization[\s\S]*gatys2016/],
    ['unreadable image', { content: 'nope.jpg' }, /nope\.jpg/],
  ];
  for (const [what, bad, message] of cases) {
    it(what, async () => {
      await assert.rejects(run({ ...base, iterations: 1, ...bad } as never, { log: null }), (e: unknown) => e instanceof NstError && message.test(String(e)));
    });
  }
});

describe('curves end at the final loss', () => {
  for (const [optimizer, extra] of [['lbfgs', {}], ['adam', { learningRate: 4 }], ['sgd', { learningRate: 1e-6 }]] as const) {
    it(`${optimizer}: the history holds iterates 0 to N, the same numbers as metrics.csv and summary.json`, async () => {
      const cfg = { ...TINY_RUN, ...extra, optimizer, iterations: 6, out, experiment: `curve-${optimizer}` };
      const r = await run(cfg, { log: null, progress: false });
      const total = lossCurves(r.history).series.find((s) => s.name === 'total')!;
      const summary = JSON.parse(readFileSync(join(r.dir, 'summary.json'), 'utf8'));
      assert.deepEqual(total.x, [0, 1, 2, 3, 4, 5, 6]);
      assert.equal(total.y[6], summary.final.total, 'the curve ends at the final loss');
      assert.deepEqual(parseMetricsCsv(readFileSync(join(r.dir, 'metrics.csv'), 'utf8')).map((l) => l.total), total.y);
      assert.ok(total.y[6]! < total.y[0]!, `${optimizer} lowered the loss: ${total.y[0]} → ${total.y[6]}`);
      // Row 0 is the starting image's loss, as a fresh session scores it.
      const fresh = await createSession(cfg);
      assert.equal(fresh.score().logs.total, total.y[0]);
      fresh.dispose();
    });
  }
});
