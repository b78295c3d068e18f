/**
 * Interruption and resume: optimizer states restore bit for bit, checkpoint.bin round-trips, and a run
 * stopped by a signal or killed mid-way continues — metrics.csv included — to the very image an
 * uninterrupted run makes, in-process (Adam and L-BFGS) and through `nst run` with SIGTERM and SIGINT.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { resolveConfig } from '../src/lib/config';
import { NstError } from '../src/lib/errors';
import { Adam } from '../src/lib/optim/adam';
import { Lbfgs } from '../src/lib/optim/lbfgs';
import type { Evaluation, Optimizer } from '../src/lib/optim/optimizer';
import { Sgd } from '../src/lib/optim/sgd';
import { readCheckpoint, writeCheckpoint, type CheckpointRecord } from '../src/lib/run/checkpoint';
import { run } from '../src/lib/run/run';
import { runDir, snapshotPath } from '../src/lib/run/store';
import type { RunOptions } from '../src/lib/run/types';
import { metricsRows, TINY_RUN, waitFor } from './helpers/tiny-run';
import { spawnNst } from './helpers/nst-process';

await initBackend('wasm');

const tmp = mkdtempSync(join(tmpdir(), 'nst-resume-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('optimizer state', () => {
  // A smooth non-convex function of 12 variables with curvature that varies, so every state field matters.
  const target = tf.tensor1d(Array.from({ length: 12 }, (_, i) => Math.sin(i + 1) * 3));
  const f = (x: tf.Tensor): tf.Scalar => tf.tidy(() => tf.add(tf.sum(tf.mul(tf.square(tf.sub(x, target)), tf.linspace(0.5, 4, 12))), tf.mul(2, tf.sum(tf.sin(x)))) as tf.Scalar);
  const closure = (x: tf.Variable) => (): Evaluation => {
    const { value, grad } = tf.valueAndGrad(f)(x);
    const loss = value.dataSync()[0]!;
    value.dispose();
    return { loss, grad };
  };
  const start = Array.from({ length: 12 }, (_, i) => (i % 3) - 1.5);
  const variableOf = (values: ArrayLike<number>) => tf.tidy(() => tf.variable(tf.tensor1d(Float32Array.from(values))));
  const makers: [string, () => Optimizer][] = [
    ['adam', () => new Adam({ learningRate: 0.2 })],
    ['sgd with momentum', () => new Sgd({ learningRate: 0.02, momentum: 0.9 })],
    ['lbfgs, strong Wolfe', () => new Lbfgs({ learningRate: 1, historySize: 3, lineSearch: 'strong_wolfe' })],
    ['lbfgs, no line search', () => new Lbfgs({ learningRate: 0.3, historySize: 3, lineSearch: 'none' })],
  ];
  for (const [name, make] of makers) {
    it(`${name}: a state restored into a fresh optimizer continues bit for bit`, () => {
      const tensors = tf.memory().numTensors;
      const x = variableOf(start);
      const whole = make();
      for (let i = 0; i < 9; i++) whole.step(x, closure(x));
      const expected = Array.from(x.dataSync());

      const y = variableOf(start);
      const first = make();
      for (let i = 0; i < 4; i++) first.step(y, closure(y));
      const state = first.getState();
      const at = Float32Array.from(y.dataSync());
      first.dispose();
      y.dispose();
      // Another variable, another optimizer: only the host copies carry over.
      const z = variableOf(at);
      const second = make();
      // The scalars as a checkpoint file holds them: through JSON.
      second.setState({ ...state, scalars: JSON.parse(JSON.stringify(state.scalars)) }, z);
      for (let i = 0; i < 5; i++) second.step(z, closure(z));
      assert.deepEqual(Array.from(z.dataSync()), expected);
      assert.notDeepEqual(expected, start, 'the optimizer moved');
      tf.dispose([x, z]);
      whole.dispose();
      second.dispose();
      assert.equal(tf.memory().numTensors, tensors, 'getState/setState leave no tensor behind');
    });
  }

  it('a state restores only into the optimizer it came from', () => {
    const state = new Adam({ learningRate: 1 }).getState();
    const x = variableOf([0, 0]);
    assert.throws(() => new Lbfgs({ learningRate: 1, historySize: 2, lineSearch: 'none' }).setState(state, x), /cannot restore a adam state into lbfgs/);
    x.dispose();
  });
});

describe('checkpoint.bin', () => {
  const record = (): CheckpointRecord => ({
    runId: 'a-b-0123456789abcdef',
    backend: 'wasm',
    checkpoint: {
      iteration: 7,
      evaluations: 19,
      elapsedMs: 1234.5,
      variable: { shape: [1, 2, 3, 3], data: Float32Array.from([0, -0, 1e-45, -3.4e38, 3.4e38, Math.PI, 1 / 3, 255, -103.939, 1, 2, 3, 4, 5, 6, 7, 8, 9]) },
      optimizer: { name: 'lbfgs', scalars: { rhos: [0.1, 1 / 3], hDiag: 0.7, accepted: { loss: 12.5, record: { loss: 12.5, logs: { terms: { 'style/conv1_1': 3 } } } }, previousLoss: null, iterations: 7, converged: false, reason: null }, tensors: { 's.0': { shape: [5], data: Float32Array.from([1, 2, 3, 4, 5]) }, 'last.grad': { shape: [1], data: Float32Array.from([-1.5]) } } },
    },
  });

  it('round-trips every float bit for bit and every scalar exactly', async () => {
    const path = join(tmp, 'ck', 'checkpoint.bin');
    const bytes = await writeCheckpoint(path, record());
    assert.equal(readFileSync(path).length, bytes);
    const back = await readCheckpoint(path);
    const want = record();
    assert.deepEqual(back, want);
    assert.ok(Object.is(back!.checkpoint.variable.data[1], -0), '-0 keeps its sign');
    assert.equal(await readCheckpoint(join(tmp, 'ck', 'none.bin')), undefined);
  });

  it('a truncated or foreign file is refused with --restart as the way out', async () => {
    const path = join(tmp, 'ck', 'cut.bin');
    const bytes = await writeCheckpoint(path, record());
    truncateSync(path, bytes - 4);
    await assert.rejects(readCheckpoint(path), (e: unknown) => e instanceof NstError && /unreadable \(truncated\)/.test(e.message) && /--restart/.test(e.hint!));
    writeFileSync(path, 'not a checkpoint at all');
    await assert.rejects(readCheckpoint(path), /not a checkpoint file/);
  });
});

const base = TINY_RUN;
const quiet: RunOptions = { log: null, progress: false };

/** metrics.csv without the wall-clock column. */
function metrics(dir: string): string[] {
  return readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').filter((_, i) => i !== 1).join(','));
}

describe('an interrupted run resumes to the image of an uninterrupted one', () => {
  for (const [optimizer, extra] of [['adam', { learningRate: 4 }], ['lbfgs', { historySize: 4 }]] as const) {
    it(`${optimizer}: stopped by a signal, then killed, then finished — bit for bit`, async () => {
      const cfg = { ...base, ...extra, optimizer, iterations: 12, out: join(tmp, optimizer) };
      const whole = await run({ ...cfg, experiment: 'whole' }, quiet);
      const cut = { ...cfg, experiment: 'cut' };
      const dir = runDir(resolveConfig(cut));

      // Attempt 1: a signal during step 4 (its row is iterate 3's) stops it at iteration 4 with a
      // snapshot, a checkpoint and the summary.
      const controller = new AbortController();
      const first = await run(cut, { ...quiet, signal: controller.signal, callbacks: { onStepEnd: (l) => void (l.iteration === 3 && controller.abort()) } });
      assert.equal(first.stopReason, 'interrupted');
      assert.equal(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).stopReason, 'interrupted');
      assert.ok(existsSync(snapshotPath(dir, 4)) && existsSync(join(dir, 'checkpoint.bin')) && !existsSync(join(dir, 'final.png')));

      // Attempt 2: continues from 4, checkpoints every iteration, and dies in step 8, after logging
      // iterate 7 and before checkpointing iteration 8.
      await assert.rejects(
        run(cut, { ...quiet, checkpointEveryMs: 0, callbacks: { onStepEnd: (l) => { if (l.iteration === 7) throw new Error('killed'); } } }),
        /killed/,
      );
      assert.ok(!existsSync(join(dir, 'summary.json')), 'summary.json describes the latest attempt: none while it has not ended');
      assert.equal(metrics(dir).length, 1 + 8, 'the killed attempt logged iterates 0 to 7');

      // Attempt 3: continues from the last checkpoint (iteration 7) and finishes.
      const last = await run(cut, quiet);
      assert.equal(last.resumedFrom, 7);
      assert.equal(last.stopReason, 'completed');
      assert.deepEqual(last.history.map((l) => l.iteration), Array.from({ length: 13 }, (_, i) => i), 'iterates 0 (the start) to 12 (the final image)');
      assert.deepEqual(metrics(dir), metrics(whole.dir), 'metrics.csv continues: every row once, equal to the uninterrupted run');
      assert.equal(last.final.total, whole.final.total);
      assert.deepEqual(readFileSync(last.finalImage), readFileSync(whole.finalImage));
      assert.ok(!existsSync(join(dir, 'checkpoint.bin')), 'a finished run leaves no checkpoint');
      const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
      assert.deepEqual([summary.stopReason, summary.iterations, summary.resumedFrom], ['completed', 12, 7]);
    });
  }

  it('--restart starts over; --resume without a checkpoint, or on another backend, is refused', async () => {
    const cfg = { ...base, optimizer: 'adam' as const, iterations: 6, out: join(tmp, 'restart') };
    const dir = runDir(resolveConfig(cfg));
    const controller = new AbortController();
    await run(cfg, { ...quiet, signal: controller.signal, callbacks: { onStepEnd: (l) => void (l.iteration === 2 && controller.abort()) } });
    // The checkpoint as if another backend had computed it.
    const saved = (await readCheckpoint(join(dir, 'checkpoint.bin')))!;
    await writeCheckpoint(join(dir, 'checkpoint.bin'), { ...saved, backend: 'cpu' });
    await assert.rejects(run(cfg, quiet), (e: unknown) => e instanceof NstError && /computed on the cpu backend, this process runs wasm/.test(e.message) && /--backend cpu/.test(e.hint!));
    const fresh = await run(cfg, { ...quiet, resume: 'never' });
    assert.equal(fresh.resumedFrom, null);
    assert.deepEqual(metrics(dir).map((l) => l.split(',')[0]), ['iteration', '0', '1', '2', '3', '4', '5', '6']);
    await assert.rejects(run(cfg, { ...quiet, resume: 'require' }), (e: unknown) => e instanceof NstError && /--resume: .* has no checkpoint/.test(e.message));
  });
});




describe('nst run under SIGTERM and SIGINT', () => {
  it('stops with a snapshot, summary.json and exit 143 / 130; the same command twice more finishes the uninterrupted image', async () => {
    const cfg = { ...base, optimizer: 'adam' as const, learningRate: 4, iterations: 150, out: join(tmp, 'cli') };
    const dir = runDir(resolveConfig(cfg));
    const args = ['run', '--content', cfg.content, '--style', cfg.style[0]!, '--weights', cfg.weights, '--image-size', '32', '--content-layers', 'conv2_2', '--style-layers', 'conv1_1,conv2_1', '--backend', 'wasm', '--print-every', '0', '--optimizer', 'adam', '--learning-rate', '4', '--iterations', '150', '--out', cfg.out];
    const stops: number[] = [];
    for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
      const { child, done } = spawnNst(args);
      const from = metricsRows(dir);
      await waitFor('a few more iterations', () => metricsRows(dir) >= from + 5);
      child.kill(signal);
      const end = await done;
      assert.equal(end.code, code, end.stderr);
      assert.match(end.stderr, new RegExp(`${signal}: stopping at the next iteration`));
      assert.match(end.stdout, /to continue: run the same command again/);
      const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
      assert.equal(summary.stopReason, 'interrupted');
      assert.ok(summary.iterations < 150);
      assert.equal(metricsRows(dir), summary.iterations + 1, 'metrics.csv holds exactly the iterates run to: 0 to the last');
      assert.ok(existsSync(snapshotPath(dir, summary.iterations)), 'a snapshot of the current image');
      stops.push(summary.iterations);
    }
    assert.ok(stops[1]! > stops[0]!, `the second attempt continued from the first (${stops.join(' → ')})`);
    const end = await spawnNst(args).done;
    assert.equal(end.code, 0, end.stderr);
    assert.match(end.stdout, new RegExp(`resuming from the checkpoint at iteration ${stops[1]}`));
    const whole = await run({ ...cfg, experiment: 'whole' }, quiet);
    assert.deepEqual(metrics(dir), metrics(whole.dir));
    assert.deepEqual(readFileSync(join(dir, 'final.png')), readFileSync(whole.finalImage));
  });
});
