/** The optimizers on problems with known minima, their line search, and their tensor hygiene. */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { createRng } from '../src/lib/rng';
import { Adam } from '../src/lib/optim/adam';
import { createOptimizer } from '../src/lib/optim/factory';
import { Lbfgs } from '../src/lib/optim/lbfgs';
import { cubicMinimizer, strongWolfe, type LinePoint } from '../src/lib/optim/line-search';
import type { Evaluation, Optimizer } from '../src/lib/optim/optimizer';
import { Sgd } from '../src/lib/optim/sgd';
import { PYTHON } from './helpers/reference';

// Top-level, so that fixtures made while the suites are defined already live on wasm.
await initBackend('wasm');

const rng = createRng;

/** The closure of a scalar function of x, counting its calls. */
function closureOf(x: tf.Variable, f: (x: tf.Tensor) => tf.Scalar) {
  const closure = (): Evaluation & { at: number } => {
    closure.calls++;
    const { value, grad } = tf.valueAndGrad(f)(x);
    const loss = value.dataSync()[0]!;
    value.dispose();
    return { loss, grad, at: closure.calls };
  };
  closure.calls = 0;
  return closure;
}

function valueAt(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor): number {
  return tf.tidy(() => f(x).dataSync()[0]!);
}

const rosenbrock = (x: tf.Tensor): tf.Scalar =>
  tf.tidy(() => {
    const [a, b] = tf.unstack(x);
    return tf.add(tf.square(tf.sub(1, a!)), tf.mul(100, tf.square(tf.sub(b!, tf.square(a!))))) as tf.Scalar;
  });

/**
 * ½xᵀAx − bᵀx with A = Q·diag(λ)·Qᵀ, λ log-spaced from 1 to `condition`, Q a seeded random orthogonal
 * matrix (Gram–Schmidt), and b = A·x* for a random x*: minimum at x*, condition number known. Evaluated
 * as ½(x − x*)ᵀA(x − x*), the same function up to the constant ½x*ᵀAx*, so that float32 can still
 * resolve f − f* (and the line search compare values) near the minimum.
 */
function quadratic(n: number, condition: number, seed: number) {
  const random = rng(seed);
  const q: number[][] = [];
  while (q.length < n) {
    let v = Array.from({ length: n }, () => random() * 2 - 1);
    for (const u of q) {
      const p = v.reduce((s, vi, i) => s + vi * u[i]!, 0);
      v = v.map((vi, i) => vi - p * u[i]!);
    }
    const norm = Math.hypot(...v);
    q.push(v.map((vi) => vi / norm));
  }
  const lambda = Array.from({ length: n }, (_, i) => condition ** (i / (n - 1)));
  const a = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => q.reduce((s, u, k) => s + u[i]! * lambda[k]! * u[j]!, 0)));
  const xStar = Array.from({ length: n }, () => random() * 2 - 1);
  const A = tf.tensor2d(a);
  const X = tf.tensor1d(xStar);
  const f = (x: tf.Tensor): tf.Scalar =>
    tf.tidy(() => {
      const e = tf.sub(x, X);
      const ae = tf.reshape(tf.matMul(A, tf.reshape(e, [n, 1])), [n]);
      return tf.mul(0.5, tf.sum(tf.mul(e, ae))) as tf.Scalar;
    });
  return { f, xStar, fStar: 0, dispose: () => tf.dispose([A, X]) };
}

function maxError(x: tf.Tensor, expected: number[]): number {
  const v = x.dataSync();
  return Math.max(...expected.map((e, i) => Math.abs(v[i]! - e)));
}

/** Steps until the optimizer converges or `limit` steps; returns the steps taken. */
function minimise(opt: Optimizer, x: tf.Variable, closure: () => Evaluation, limit: number, until: () => boolean = () => false): number {
  for (let k = 1; k <= limit; k++) {
    opt.step(x, closure);
    if (opt.converged || until()) return k;
  }
  return limit;
}

describe('cubicMinimizer', () => {
  it('is exact on a quadratic and on a cubic, in either point order', () => {
    // (t − 2)²: values and slopes at 0 and 3.
    const q0 = { t: 0, f: 4, gtd: -4 };
    const q3 = { t: 3, f: 1, gtd: 2 };
    assert.ok(Math.abs(cubicMinimizer(q0, q3) - 2) < 1e-12);
    assert.ok(Math.abs(cubicMinimizer(q3, q0) - 2) < 1e-12);
    // t³ − 3t has its local minimum at 1.
    const c0 = { t: 0, f: 0, gtd: -3 };
    const c2 = { t: 2, f: 2, gtd: 9 };
    assert.ok(Math.abs(cubicMinimizer(c0, c2) - 1) < 1e-12);
    assert.ok(Math.abs(cubicMinimizer(c2, c0) - 1) < 1e-12);
  });

  it('clamps to its bounds and falls back to their midpoint without a minimiser', () => {
    assert.equal(cubicMinimizer({ t: 0, f: 4, gtd: -4 }, { t: 3, f: 1, gtd: 2 }, [2.5, 30]), 2.5);
    // Concave (−t²): no interior minimiser.
    assert.equal(cubicMinimizer({ t: 0, f: 0, gtd: 0 }, { t: 1, f: -1, gtd: -2 }, [1.01, 10]), (1.01 + 10) / 2);
  });
});

describe('strongWolfe', () => {
  // φ(t) = f(x0 + t·d) for Rosenbrock from (−1.2, 1) along steepest descent, in plain numbers.
  const x0 = [-1.2, 1];
  const grad = ([a, b]: number[]) => [-2 * (1 - a!) - 400 * a! * (b! - a! * a!), 200 * (b! - a! * a!)];
  const fn = ([a, b]: number[]) => (1 - a!) ** 2 + 100 * (b! - a! * a!) ** 2;
  const d = grad(x0).map((g) => -g);
  const at = (t: number) => x0.map((v, i) => v + t * d[i]!);
  const point = (t: number): LinePoint<null> => {
    const g = grad(at(t));
    return { t, f: fn(at(t)), gtd: g[0]! * d[0]! + g[1]! * d[1]!, grad: tf.tensor1d(g), payload: null };
  };

  for (const t0 of [1e-5, 1]) {
    it(`meets both strong Wolfe conditions from t = ${t0} and keeps only the returned gradient`, () => {
      const p0 = point(0);
      const before = tf.memory().numTensors;
      let calls = 0;
      const { point: p, evaluations } = strongWolfe((t) => (calls++, point(t)), p0, t0, Math.max(...d.map(Math.abs)));
      assert.equal(evaluations, calls);
      assert.ok(p !== p0, 'found a point');
      assert.ok(p.f <= p0.f + 1e-4 * p.t * p0.gtd, `sufficient decrease at t = ${p.t}`);
      assert.ok(Math.abs(p.gtd) <= -0.9 * p0.gtd, `curvature at t = ${p.t}`);
      assert.equal(tf.memory().numTensors, before + 1);
      tf.dispose([p.grad, p0.grad]);
    });
  }

  it('frees every gradient it made when the function throws', () => {
    const p0 = point(0);
    const before = tf.memory().numTensors;
    let calls = 0;
    const phi = (t: number) => {
      if (++calls === 3) throw new Error('boom');
      return point(t);
    };
    // From a tiny step it must extrapolate, so the third evaluation happens.
    assert.throws(() => strongWolfe(phi, p0, 1e-6, 1), /boom/);
    assert.equal(tf.memory().numTensors, before);
    p0.grad.dispose();
  });
});

describe('L-BFGS', () => {
  it('strong Wolfe: Rosenbrock from (−1.2, 1) reaches (1, 1) within 1e-4 in at most 40 iterations', () => {
    const x = tf.variable(tf.tensor1d([-1.2, 1]));
    const opt = new Lbfgs({ learningRate: 1, historySize: 100, lineSearch: 'strong_wolfe' });
    const closure = closureOf(x, rosenbrock);
    let evaluations = 0;
    let steps = 0;
    for (; steps < 100 && maxError(x, [1, 1]) >= 1e-4 && !opt.converged; steps++) evaluations += opt.step(x, closure).evaluations;
    // Observed: 34 iterations.
    assert.ok(maxError(x, [1, 1]) < 1e-4, `ended at ${x.dataSync()} after ${steps} iterations`);
    assert.ok(steps <= 40, `took ${steps} iterations`);
    assert.equal(evaluations, closure.calls, 'evaluations are counted');
    opt.dispose();
    x.dispose();
  });

  it('strong Wolfe: a 10-d quadratic (condition 10) reaches A⁻¹b within 1e-4 in at most n + 5 iterations', () => {
    const n = 10;
    const p = quadratic(n, 10, 1);
    const x = tf.variable(tf.zeros([n]));
    const opt = new Lbfgs({ learningRate: 1, historySize: 100, lineSearch: 'strong_wolfe' });
    const steps = minimise(opt, x, closureOf(x, p.f), 50, () => maxError(x, p.xStar) < 1e-4);
    assert.ok(maxError(x, p.xStar) < 1e-4, `error ${maxError(x, p.xStar)}`);
    // Observed: 13–14 depending on the seeded problem. Exact line searches would make this conjugate
    // gradients (n iterations); strong Wolfe accepts the unit step from the second iteration on, and
    // float32 rounding, which cost a few more.
    assert.ok(steps <= n + 5, `took ${steps} iterations`);
    opt.dispose();
    x.dispose();
    p.dispose();
  });

  it('without line search: the same quadratic converges with unit steps in at most n + 5 iterations', () => {
    const n = 10;
    const p = quadratic(n, 10, 1);
    const x = tf.variable(tf.zeros([n]));
    const opt = new Lbfgs({ learningRate: 1, historySize: 100, lineSearch: 'none' });
    const closure = closureOf(x, p.f);
    const steps = minimise(opt, x, closure, 100, () => maxError(x, p.xStar) < 1e-4);
    assert.ok(maxError(x, p.xStar) < 1e-4, `error ${maxError(x, p.xStar)}`);
    assert.ok(steps <= n + 5, `took ${steps} iterations`); // observed: 13–14
    assert.equal(closure.calls, steps, 'one evaluation per iteration');
    opt.dispose();
    x.dispose();
    p.dispose();
  });

  it('starts each step from the evaluation its line search accepted, and forgets it when x is changed from outside', () => {
    const p = quadratic(6, 10, 2);
    const x = tf.variable(tf.zeros([6]));
    const opt = new Lbfgs({ learningRate: 1, historySize: 5, lineSearch: 'strong_wolfe' });
    const closure = closureOf(x, p.f);
    for (let k = 0; k < 3; k++) {
      const expected = valueAt(p.f, x);
      const calls = closure.calls;
      const r = opt.step(x, closure);
      assert.ok(Math.abs(r.loss - expected) <= 1e-5 * Math.abs(expected), `step ${k + 1}: start loss ${r.loss} vs f(x) ${expected}`);
      assert.equal(r.start.loss, r.loss);
      assert.equal(closure.calls - calls, r.evaluations);
      if (k > 0) assert.ok(r.start.at <= calls, 'the start evaluation came from the previous step');
    }
    x.assign(tf.fill([6], 0.5));
    const calls = closure.calls;
    const r = opt.step(x, closure);
    assert.ok(Math.abs(r.loss - valueAt(p.f, tf.fill([6], 0.5))) < 1e-5);
    assert.equal(r.start.at, calls + 1, 'evaluated afresh at the new x');
    opt.dispose();
    x.dispose();
    p.dispose();
  });

  it('reports convergence by its gradient tolerance without moving', () => {
    const x = tf.variable(tf.zeros([3]));
    const opt = new Lbfgs({ learningRate: 1, historySize: 5, lineSearch: 'strong_wolfe' });
    const r = opt.step(x, closureOf(x, (v) => tf.sum(tf.square(v))));
    assert.equal(opt.converged, true);
    assert.equal(opt.reason, 'gradient');
    assert.equal(r.evaluations, 1);
    assert.deepEqual(Array.from(x.dataSync()), [0, 0, 0]);
    opt.dispose();
    x.dispose();
  });

  it('leaves x at the step start and holds no tensors when the closure throws in the line search', () => {
    const p = quadratic(6, 10, 3);
    const x = tf.variable(tf.zeros([6]));
    const opt = new Lbfgs({ learningRate: 1, historySize: 5, lineSearch: 'strong_wolfe' });
    const inner = closureOf(x, p.f);
    let failAt = Infinity;
    const closure = () => {
      if (inner.calls + 1 === failAt) throw new Error('diverged');
      return inner();
    };
    const baseline = tf.memory().numTensors;
    opt.step(x, closure);
    opt.step(x, closure);
    const start = Array.from(x.dataSync());
    failAt = inner.calls + 1;
    assert.throws(() => opt.step(x, closure), /diverged/);
    assert.deepEqual(Array.from(x.dataSync()), start);
    assert.equal(tf.memory().numTensors, baseline);
    opt.dispose();
    x.dispose();
    p.dispose();
  });
});

/** torch.optim.LBFGS with max_iter=1 (one iteration per step, like ours) on float32 Rosenbrock. */
const TORCH_LBFGS = `
import json, sys, torch
paths = {}
for ls in ['strong_wolfe', None]:
    x = torch.tensor([-1.2, 1.0], dtype=torch.float32, requires_grad=True)
    opt = torch.optim.LBFGS([x], lr=1, max_iter=1, history_size=100, line_search_fn=ls)
    def closure():
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss
    paths[ls or 'none'] = []
    for _ in range(int(sys.argv[1])):
        opt.step(closure)
        paths[ls or 'none'].append(x.detach().tolist())
print(json.dumps(paths))
`;
const TORCH_STEPS = 15;

/** PyTorch's iterates, or why they are not available (one Python start: importing torch is slow). */
function torchPaths(): { paths: Record<string, number[][]> } | { skip: string } {
  const run = spawnSync(PYTHON, ['-c', TORCH_LBFGS, String(TORCH_STEPS)], { encoding: 'utf8' });
  if (run.status === 0) return { paths: JSON.parse(run.stdout) };
  const why = `${PYTHON} could not run torch.optim.LBFGS (apt-get install python3-torch): ${run.stderr.trim().split('\n').at(-1)}`;
  if (process.env.CI) throw new Error(`CI must run the PyTorch comparison, but ${why}`);
  return { skip: why };
}

const torch = torchPaths();

describe('L-BFGS against torch.optim.LBFGS', { skip: 'skip' in torch ? torch.skip : false }, () => {
  for (const lineSearch of ['strong_wolfe', 'none'] as const) {
    it(`${lineSearch}: the same iterates on Rosenbrock for ${TORCH_STEPS} iterations`, () => {
      const expected = 'paths' in torch ? torch.paths[lineSearch]! : [];
      const x = tf.variable(tf.tensor1d([-1.2, 1]));
      const opt = new Lbfgs({ learningRate: 1, historySize: 100, lineSearch });
      const closure = closureOf(x, rosenbrock);
      for (let k = 0; k < TORCH_STEPS; k++) {
        opt.step(x, closure);
        // Both run in float32 with differently ordered reductions; the paths agree to ~1e-6 here.
        assert.ok(maxError(x, expected[k]!) < 1e-4, `iteration ${k + 1}: ${Array.from(x.dataSync())} vs torch ${expected[k]}`);
      }
      opt.dispose();
      x.dispose();
    });
  }
});

describe('Adam and SGD', () => {
  const cases: [string, () => Optimizer][] = [
    ['adam', () => new Adam({ learningRate: 0.1 })],
    ['sgd', () => new Sgd({ learningRate: 0.05, momentum: 0 })],
    ['sgd with momentum', () => new Sgd({ learningRate: 0.05, momentum: 0.9 })],
  ];
  for (const [name, make] of cases) {
    it(`${name} brings a quadratic's gap to its minimum below 1% in 200 steps`, () => {
      const p = quadratic(10, 10, 4);
      const x = tf.variable(tf.zeros([10]));
      const opt = make();
      const gap0 = valueAt(p.f, x) - p.fStar;
      minimise(opt, x, closureOf(x, p.f), 200);
      const gap = valueAt(p.f, x) - p.fStar;
      assert.ok(gap < 0.01 * gap0, `gap ${gap0} → ${gap}`);
      opt.dispose();
      x.dispose();
      p.dispose();
    });
  }
});

describe('tensor hygiene', () => {
  const variants: [string, () => Optimizer, number][] = [
    // [name, optimizer, steps after which its state is full]: L-BFGS holds pairs up to its history size.
    ['lbfgs strong_wolfe', () => createOptimizer({ optimizer: 'lbfgs', learningRate: 1, momentum: 0, historySize: 2, lineSearch: 'strong_wolfe' }), 3],
    ['lbfgs none', () => createOptimizer({ optimizer: 'lbfgs', learningRate: 1, momentum: 0, historySize: 2, lineSearch: 'none' }), 3],
    ['adam', () => createOptimizer({ optimizer: 'adam', learningRate: 0.1, momentum: 0, historySize: 1, lineSearch: 'none' }), 1],
    ['sgd', () => createOptimizer({ optimizer: 'sgd', learningRate: 0.01, momentum: 0.9, historySize: 1, lineSearch: 'none' }), 1],
  ];
  for (const [name, make, full] of variants) {
    it(`${name}: the tensor count stops growing once its state is full, and dispose() frees it all`, () => {
      // Ill-conditioned enough that nothing converges within the steps taken.
      const p = quadratic(40, 1e3, 5);
      const x = tf.variable(tf.zeros([40]));
      const closure = closureOf(x, p.f);
      const baseline = tf.memory().numTensors;
      const opt = make();
      const counts: number[] = [];
      for (let k = 0; k < 10; k++) {
        opt.step(x, closure);
        assert.equal(opt.converged, false);
        counts.push(tf.memory().numTensors);
      }
      const settled = counts.slice(full - 1);
      assert.deepEqual(settled, settled.map(() => settled[0]), `counts: ${counts.join(',')}`);
      opt.dispose();
      assert.equal(tf.memory().numTensors, baseline);
      x.dispose();
      p.dispose();
    });
  }
});
