/** The benchmark on a tiny image: its record, flat tensor counts over iterations, and a missing reference. */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { runBench } from '../src/lib/bench/bench';
import { formatBench } from '../src/lib/bench/format';
import { runReference } from '../src/lib/bench/reference';

before(async () => {
  await initBackend('wasm');
});

describe('nst bench', () => {
  it('times the paper\'s objective with Adam and leaks no tensors', async () => {
    const r = await runBench({ size: 32, iterations: 4, warmup: 1, backend: 'wasm', optimizer: 'adam' });
    assert.equal(r.backend, 'wasm');
    assert.equal(r.size, 32);
    assert.equal(r.evaluations_per_iter, 1);
    assert.ok(r.ms_per_iter_min > 0 && r.ms_per_iter_min <= r.ms_per_iter_median);
    assert.ok(r.phases.forward > 0 && r.phases.optimizer >= 0, JSON.stringify(r.phases));
    assert.ok(r.peak_rss_mb > 0);
    assert.equal(r.tensor_counts.length, 4);
    assert.deepEqual(r.tensor_counts, r.tensor_counts.map(() => r.tensor_counts[0]), `counts: ${r.tensor_counts.join(',')}`);
    const text = formatBench(r).join('\n');
    assert.match(text, /per iteration: median \d+ ms, min \d+ ms/);
    assert.match(text, /phases \(median\): forward \d+ ms, backward -?\d+ ms, optimizer step \d+ ms/);
  });

  it('with L-BFGS, the count stops growing once the history is full', async () => {
    const r = await runBench({ size: 32, iterations: 5, warmup: 0, backend: 'wasm', optimizer: 'lbfgs', historySize: 2, lineSearch: 'none' });
    // One pair per iteration until the history holds 2; nothing grows after that.
    const settled = r.tensor_counts.slice(2);
    assert.deepEqual(settled, settled.map(() => settled[0]), `counts: ${r.tensor_counts.join(',')}`);
    assert.equal(r.lbfgs_full_history_mb, (2 * 2 * 32 * 32 * 3 * 4) / 2 ** 20);
  });

  it('reports a missing reference script instead of failing', () => {
    const script = join(tmpdir(), 'no-such-dir', 'gatys_torch.py');
    const outcome = runReference({ script, size: 32, iterations: 1, threads: 1, pooling: 'avg' });
    assert.equal(outcome.ok, false);
    assert.ok(!outcome.ok && outcome.reason.includes(script));
  });
});
