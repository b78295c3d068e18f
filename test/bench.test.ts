/** The benchmark on a tiny image: its record, flat tensor counts over iterations, kernel times, and a missing reference. */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { runBench } from '../src/lib/bench/bench';
import { CONVOLUTION_KERNELS } from '../src/lib/bench/kernel-profile';
import { formatBench } from '../src/lib/bench/format';
import { runReference } from '../src/lib/bench/reference';
import { compare } from '../src/lib/bench/compare';
import { formatComparison } from '../src/lib/bench/format';
import { cpuIsa } from '../src/lib/bench/machine';
import type { BenchResult } from '../src/lib/bench/bench';

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
    assert.ok(r.machine.cpuModel.length > 0 && r.machine.cores >= 1);
    assert.match(r.machine.kernelIsa, /^wasm SIMD128/);
    // VGG-19 to conv5_1 at 32 px: Σ h·w·9·in·out over its 13 convolutions, ×4 (forward + input gradient).
    const sizes = [32, 32, 16, 16, 8, 8, 8, 8, 4, 4, 4, 4, 2];
    const chans = [[3, 64], [64, 64], [64, 128], [128, 128], [128, 256], [256, 256], [256, 256], [256, 256], [256, 512], [512, 512], [512, 512], [512, 512], [512, 512]];
    const macs = sizes.reduce((a, s, i) => a + s * s * 9 * chans[i]![0]! * chans[i]![1]!, 0);
    assert.ok(Math.abs(r.gflop_per_evaluation - (4 * macs) / 1e9) < 1e-9, `${r.gflop_per_evaluation}`);
    const text = formatBench(r).join('\n');
    assert.match(text, /^machine: .+, \d+ cores, (AVX-512|AVX2|SSE4\.2|NEON|unknown); kernels: wasm SIMD128/);
    assert.match(text, /per iteration: median \d+ ms, min \d+ ms/);
    assert.match(text, /phases \(median\): forward \d+ ms, backward -?\d+ ms, optimizer step \d+ ms/);
  });

  it('times every kernel on request, then puts the backend\'s kernels back', async () => {
    const before = tf.getKernel(tf.Conv2D, 'wasm')!.kernelFunc;
    const r = await runBench({ size: 32, iterations: 2, warmup: 1, backend: 'wasm', kernels: true });
    assert.equal(tf.getKernel(tf.Conv2D, 'wasm')!.kernelFunc, before, 'the stock kernel is registered again');
    const k = r.kernels!;
    const calls = (names: string[]) => k.by_kernel.filter((t) => names.includes(t.kernel)).reduce((a, t) => a + t.calls, 0);
    // VGG-19 to conv5_1: 13 convolutions forward, and 13 transposed ones for the image's gradient.
    assert.equal(calls([...CONVOLUTION_KERNELS]), 26, JSON.stringify(k.by_kernel));
    assert.ok(k.convolution_ms > 0 && k.convolution_ms <= k.total_ms && k.total_ms <= k.iteration_ms, JSON.stringify(k));
    assert.ok(Math.abs(k.convolution_gflops - r.gflop_per_evaluation / (k.convolution_ms / 1000)) < 1e-6 * k.convolution_gflops);
    assert.deepEqual(k.by_kernel.map((t) => t.ms), [...k.by_kernel.map((t) => t.ms)].sort((a, b) => b - a), 'slowest first');
    assert.match(formatBench(r).join('\n'), /kernels \(2 more iterations, each kernel timed\): \d+ ms of \d+ ms per iteration in kernels; convolutions \d+ ms, [\d.]+ GFLOP\/s/);
    assert.equal((await runBench({ size: 32, iterations: 1, warmup: 0, backend: 'wasm' })).kernels, undefined);
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

  it('names the vector ISA from the CPU flags', () => {
    assert.equal(cpuIsa(new Set(['sse4_2', 'avx2', 'avx512f'])), 'AVX-512');
    assert.equal(cpuIsa(new Set(['sse4_2', 'avx2'])), 'AVX2');
    assert.equal(cpuIsa(new Set()), 'unknown');
  });
});

describe('the comparison with the reference', () => {
  const fake = (ms: number) => ({ ms_per_iter_median: ms }) as BenchResult;
  const ref = (ms: number) => ({ ok: true as const, command: 'x', result: { impl: 'torch', threads: 2, size: 32, ms_per_iter_median: ms, ms_per_iter_min: ms } });

  it('alternates the runs and reports the median of the per-pair ratios', async () => {
    const order: string[] = [];
    const work = [100, 300, 120];
    const refs = [200, 200, 100];
    const c = await compare(async () => (order.push('w'), fake(work[order.length >> 1]!)), () => (order.push('r'), ref(refs[(order.length - 1) >> 1]!)), { pairs: 3, loadAtStart: 0.1 });
    assert.ok(!('error' in c));
    assert.deepEqual(order, ['w', 'r', 'w', 'r', 'w', 'r']);
    assert.deepEqual(c.pairs.map((p) => p.ratio), [0.5, 1.5, 1.2]);
    assert.equal(c.ratio, 1.2);
    assert.match(formatComparison(c).join('\n'), /median of pairs.*1\.20× \(quiet: load 0\.10 at start\)/);
  });

  it('refuses a ratio on a loaded machine unless forced, and then says LOADED', async () => {
    const loaded = await compare(async () => fake(100), () => ref(100), { pairs: 1, loadAtStart: 1.7 });
    assert.ok(!('error' in loaded) && loaded.ratio === null);
    assert.match(formatComparison(loaded as Exclude<typeof loaded, { error: string }>).join('\n'), /ratio: not printed — the load average was 1\.70/);
    const forced = await compare(async () => fake(100), () => ref(50), { pairs: 1, loadAtStart: 1.7, force: true });
    assert.ok(!('error' in forced) && forced.ratio === 2 && forced.loaded);
    assert.match(formatComparison(forced as Exclude<typeof forced, { error: string }>).join('\n'), /2\.00× — LOADED/);
  });
});
