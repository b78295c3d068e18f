/**
 * The style losses beyond the Gram matrix: each statistic and distance against a plain-JS computation
 * of its formula on tiny tensors (brute force where the library is clever), their gradients against
 * central differences, each loss's descent on a tiny network at 64 px, the choice by name per layer in
 * the config, and agreement with the float64 PyTorch reference (gatys_torch.py style-stats).
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseOptions } from '../src/cli/options';
import { openFeatureNet } from '../src/lib/analysis/net';
import { initBackend } from '../src/lib/backend';
import { DEFAULT_CONFIG, resolveConfig, type RunConfig } from '../src/lib/config';
import { NstError } from '../src/lib/errors';
import { loadImage } from '../src/lib/image/io';
import { preprocess } from '../src/lib/net/preprocess';
import { histogramLoss, histogramRemap } from '../src/lib/objectives/distances/histogram';
import { mmdExplicit, MAX_KERNEL_ENTRIES } from '../src/lib/objectives/distances/mmd';
import { mrfLoss, nearestPatches } from '../src/lib/objectives/distances/nearest-patch';
import { newtonSchulz, traceSqrtm } from '../src/lib/objectives/distances/sqrtm';
import { buildGatysObjective, computeTargets, type FeatureExtractor, type GatysConfig } from '../src/lib/objectives/gatys';
import type { Objective, Taps } from '../src/lib/objectives/objective';
import { covariance, meanStd, rawMoments } from '../src/lib/objectives/statistics/moments';
import { extractPatches } from '../src/lib/objectives/statistics/patches';
import { weightedSamples } from '../src/lib/objectives/statistics/samples';
import { resampleSorted, sortedChannels } from '../src/lib/objectives/statistics/sorted';
import { softmaxSmoothing } from '../src/lib/objectives/statistics/transforms';
import { balancedStyleWeights } from '../src/lib/notebook/style-losses';
import { createSession } from '../src/lib/run/session';
import { TINY_RUN } from './helpers/tiny-run';
import { checkGradient } from './helpers/gradient-check';
import { combineTargets, STYLE_MEASURES, styleLayerWeightsBy, styleLoss, styleStatisticOf, type StyleMeasure } from '../src/lib/objectives/style';
import { STYLE_LOSS_NAMES, type StyleLossName } from '../src/lib/objectives/style-loss-spec';
import { explicitMmd, styleMeasure, styleMeasuresFor } from '../src/lib/objectives/style-losses';
import { weightedSum } from '../src/lib/objectives/sum';
import { Lbfgs } from '../src/lib/optim/lbfgs';
import { createRng, normalSamples } from '../src/lib/rng';
import { expandSweep } from '../src/lib/sweep/expand';
import { parseSweepSpec } from '../src/lib/sweep/spec';
import { reference, referenceSkip } from './helpers/reference';

await initBackend('wasm');

function randomTensor(shape: [number, number, number, number], seed: number, lo = 0, hi = 1): tf.Tensor4D {
  const r = createRng(seed);
  return tf.tensor4d(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * r()), shape);
}

const value = (s: tf.Scalar): number => s.dataSync()[0]!;
const evaluate = (o: Objective, taps: Taps, image: tf.Tensor4D): number => tf.tidy(() => value(o.evaluate(taps, image)));

function assertClose(actual: number, expected: number, what: string, rtol = 1e-5, atol = 0): void {
  const err = Math.abs(actual - expected);
  assert.ok(err <= atol + rtol * Math.abs(expected), `${what}: ${actual} vs expected ${expected} (error ${err.toExponential(2)})`);
}

const PARAMS = { ...DEFAULT_CONFIG };
const measureOf = (name: StyleLossName, overrides: Partial<RunConfig> = {}) => styleMeasure(name, { ...PARAMS, ...overrides });

/** The loss of `measure` at feature map f against the target made from the style map s. */
function lossAt(measure: StyleMeasure, f: tf.Tensor4D, s: tf.Tensor4D): number {
  const target = combineTargets(measure, [styleStatisticOf(measure, s)], [1]);
  try {
    return evaluate(styleLoss('l', target, measure), { l: f }, f);
  } finally {
    target.dispose();
  }
}

// ---- host copies and the formulas in plain JS ----

interface Host {
  h: number;
  w: number;
  c: number;
  /** NHWC values */
  v: number[];
}
const host = (t: tf.Tensor4D): Host => ({ h: t.shape[1], w: t.shape[2], c: t.shape[3], v: Array.from(t.dataSync()) });
const positions = ({ h, w, c, v }: Host): number[][] => Array.from({ length: h * w }, (_, k) => v.slice(k * c, k * c + c));
const channel = (x: Host, i: number): number[] => positions(x).map((p) => p[i]!);
const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const sq = (a: number[], b: number[]) => a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0);
const means = (x: Host) => Array.from({ length: x.c }, (_, i) => mean(channel(x, i)));
const stds = (x: Host) => Array.from({ length: x.c }, (_, i) => Math.sqrt(mean(channel(x, i).map((y) => (y - mean(channel(x, i))) ** 2)) + 1e-5));
function gramOf(x: Host): number[] {
  const p = positions(x);
  const g: number[] = [];
  for (let i = 0; i < x.c; i++) for (let j = 0; j < x.c; j++) g.push(p.reduce((s, q) => s + q[i]! * q[j]!, 0));
  return g;
}
/** MMD² = E k(f,f') + E k(s,s') − 2 E k(f,s), by every pair. */
function jsMmd(f: Host, s: Host, k: (a: number[], b: number[]) => number): number {
  const pf = positions(f);
  const ps = positions(s);
  const e = (a: number[][], b: number[][]) => a.reduce((t, x) => t + b.reduce((u, y) => u + k(x, y), 0), 0) / (a.length * b.length);
  return e(pf, pf) + e(ps, ps) - 2 * e(pf, ps);
}

/** Brute-force NN(i) by normalised cross-correlation over every style patch. */
function jsNearest(f: Host, s: Host, size: number, stride: number): number[] {
  const patch = (x: Host, r: number, q: number) => {
    const out: number[] = [];
    for (let a = 0; a < size; a++) for (let b = 0; b < size; b++) out.push(...x.v.slice(((r + a) * x.w + q + b) * x.c, ((r + a) * x.w + q + b) * x.c + x.c));
    return out;
  };
  const grid = (x: Host) => {
    const out: number[][] = [];
    for (let r = 0; r + size <= x.h; r += stride) for (let q = 0; q + size <= x.w; q += stride) out.push(patch(x, r, q));
    return out;
  };
  const style = grid(s);
  return grid(f).map((p) => {
    let best = -Infinity;
    let at = -1;
    style.forEach((t, j) => {
      const score = dot(p, t) / Math.sqrt(dot(t, t));
      if (score > best) [best, at] = [score, j];
    });
    return at;
  });
}

describe('statistics', () => {
  const f = randomTensor([1, 3, 4, 5], 1, 0, 2);
  const fh = host(f);

  it('meanStd: per-filter mean and √(population variance + 1e-5)', () => {
    const got = Array.from(tf.tidy(() => meanStd(f)).dataSync());
    [...means(fh), ...stds(fh)].forEach((x, i) => assertClose(got[i]!, x, `[${i}]`));
  });

  it('rawMoments: μ then E[ffᵀ]; covariance: E[ffᵀ] − μμᵀ + εI', () => {
    const m = tf.tidy(() => rawMoments(f));
    const mu = means(fh);
    const second = gramOf(fh).map((x) => x / 12);
    Array.from(m.dataSync()).forEach((x, i) => assertClose(x, [...mu, ...second][i]!, `moments[${i}]`, 1e-5));
    const cov = Array.from(tf.tidy(() => covariance(m)).dataSync());
    cov.forEach((x, k) => assertClose(x, second[k]! - mu[Math.floor(k / 5)]! * mu[k % 5]! + (k % 6 === 0 ? 1e-5 : 0), `cov[${k}]`, 1e-4, 1e-6));
    m.dispose();
  });

  it('softmax smoothing: softmax(F/T) over all entries of the map', () => {
    const got = Array.from(tf.tidy(() => softmaxSmoothing(f, 0.5)).dataSync());
    const e = fh.v.map((x) => Math.exp(x / 0.5));
    const z = e.reduce((a, b) => a + b, 0);
    got.forEach((x, i) => assertClose(x, e[i]! / z, `[${i}]`, 1e-5));
  });

  it('patches: [k,k,N,P] with patch (i,j) at offset (a,b) = F[a + i·s, b + j·s]', () => {
    const s = randomTensor([1, 5, 6, 2], 2);
    const sh = host(s);
    const p = tf.tidy(() => extractPatches(s, 3, 2));
    assert.deepEqual(p.shape, [3, 3, 2, 2 * 2]);
    const v = p.dataSync();
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 3; b++)
        for (let n = 0; n < 2; n++)
          for (let q = 0; q < 4; q++) {
            const [i, j] = [Math.floor(q / 2), q % 2];
            assert.equal(v[((a * 3 + b) * 2 + n) * 4 + q], sh.v[((a + 2 * i) * sh.w + (b + 2 * j)) * 2 + n]);
          }
    tf.dispose([s, p]);
    assert.throws(() => extractPatches(f, 5, 1), (e: unknown) => e instanceof NstError && /mrf-patch-size 5.*3×4/.test(e.message));
  });

  it('sorted channels and their quantile resampling', () => {
    const sorted = tf.tidy(() => sortedChannels(f));
    const want = Array.from({ length: 5 }, (_, i) => channel(fh, i).sort((a, b) => b - a));
    assert.deepEqual(Array.from(sorted.dataSync()), want.flat().map((x) => Math.fround(x)));
    const up = tf.tidy(() => resampleSorted(sorted, 23)).arraySync() as number[][];
    // 23 levels over 12 ranks: every other one is a rank, the ones between are midpoints.
    up[0]!.forEach((x, j) => assertClose(x, j % 2 === 0 ? want[0]![j / 2]! : (want[0]![(j - 1) / 2]! + want[0]![(j + 1) / 2]!) / 2, `q[${j}]`));
    sorted.dispose();
  });
});

describe('distances against their formulas', () => {
  const f = randomTensor([1, 3, 4, 5], 3, 0, 2);
  const s = randomTensor([1, 3, 4, 5], 4, 0, 2);
  const [fh, sh] = [host(f), host(s)];
  const n = 5;
  const m = 12;

  it('gram-shift: Gatys\' E_l of F + s', () => {
    const shift = (x: Host, k: number): Host => ({ ...x, v: x.v.map((y) => y + k) });
    const want = sq(gramOf(shift(fh, -1)), gramOf(shift(sh, -1))) / (4 * n * n * m * m);
    assertClose(lossAt(measureOf('gram-shift'), f, s), want, 'gram-shift', 1e-4);
    assertClose(lossAt(measureOf('gram-shift', { gramShift: 0 }), f, s), lossAt(STYLE_MEASURES.gatys2016, f, s), 'shift 0 is gram', 1e-6);
  });

  it('mean-std-l2: ‖Δμ‖₂ + ‖Δσ‖₂ (Huang & Belongie eq. 13)', () => {
    const want = Math.sqrt(sq(means(fh), means(sh))) + Math.sqrt(sq(stds(fh), stds(sh)));
    assertClose(lossAt(measureOf('mean-std-l2'), f, s), want, 'mean-std-l2', 1e-5, 2e-6);
    assert.equal(lossAt(measureOf('mean-std-l2'), s, s), 0);
  });

  it('mmd-linear: ‖Δμ‖²/N, the MMD² of the linear kernel', () => {
    const want = jsMmd(fh, sh, dot) / n;
    assertClose(lossAt(measureOf('mmd-linear'), f, s), want, 'closed form vs pairs', 1e-4);
    assertClose(want, sq(means(fh), means(sh)) / n, 'MMD² of xᵀy is the squared mean distance', 1e-9);
  });

  it('mmd-poly: (xᵀy + c)^d, closed form for d = 2 and by pairs otherwise, over 4N²', () => {
    for (const [c, d] of [[0.5, 2], [0.3, 3], [0, 1]] as const) {
      const want = jsMmd(fh, sh, (a, b) => (dot(a, b) + c) ** d) / (4 * n * n);
      assertClose(lossAt(measureOf('mmd-poly', { mmdPolyC: c, mmdPolyDegree: d }), f, s), want, `c=${c} d=${d}`, 1e-4);
    }
  });

  it('Σ(G − A)² = M²·MMD²(poly, c = 0, d = 2) (Li et al. 2017), so mmd-poly is E_l', () => {
    const sumSq = sq(gramOf(fh), gramOf(sh));
    const points = tf.tidy(() => tf.reshape(f, [m, n]));
    const samples = tf.tidy(() => weightedSamples(s));
    const mmd = tf.tidy(() => value(mmdExplicit(points, samples, { kind: 'polynomial', c: 0, degree: 2 }))) * 4 * n * n;
    assertClose(m * m * mmd, sumSq, 'by pairs', 1e-4);
    assertClose(m * m * jsMmd(fh, sh, (a, b) => dot(a, b) ** 2), sumSq, 'the identity in float64', 1e-9);
    assertClose(lossAt(measureOf('mmd-poly'), f, s), lossAt(STYLE_MEASURES.gatys2016, f, s), 'mmd-poly(0, 2) vs gram/gatys2016', 1e-5);
    tf.dispose([points, samples]);
  });

  it('mmd-gauss: exp(−‖x − y‖²/(b·mean‖x − y‖²)) over all pairs of both sets', () => {
    const all = [...positions(fh), ...positions(sh)];
    const meanD = all.reduce((t, x) => t + all.reduce((u, y) => u + sq(x, y), 0), 0) / all.length ** 2;
    for (const b of [1, 0.5]) {
      const want = jsMmd(fh, sh, (x, y) => Math.exp(-sq(x, y) / (b * meanD)));
      assertClose(lossAt(measureOf('mmd-gauss', { mmdBandwidth: b }), f, s), want, `bandwidth ${b}`, 1e-4);
    }
  });

  it('explicit kernels refuse sizes beyond their memory bound, naming cheaper choices', () => {
    const side = Math.ceil(Math.sqrt(Math.sqrt(MAX_KERNEL_ENTRIES)));
    const points = tf.zeros([side * side, 1]);
    assert.throws(() => mmdExplicit(points, tf.zeros([1, 2]), { kind: 'gaussian', bandwidth: 1 }), (e: unknown) => e instanceof NstError && /mmd-gauss/.test(e.message) && /mmd-linear/.test(e.hint ?? ''));
    points.dispose();
  });

  it('Newton–Schulz: √A·√A = A and √A·A^-½ = I for an SPD matrix of condition 10⁴', () => {
    const a = tf.tidy(() => {
      const q = tf.linalg.qr(tf.randomNormal([6, 6], 0, 1, 'float32', 7))[0];
      return tf.matMul(tf.matMul(q, tf.diag(tf.tensor1d([1e4, 3e3, 100, 10, 2, 1]))), q, false, true) as tf.Tensor2D;
    });
    const { sqrt, invSqrt } = newtonSchulz(a);
    const back = tf.tidy(() => tf.matMul(sqrt, sqrt).dataSync());
    Array.from(a.dataSync()).forEach((x, i) => assertClose(back[i]!, x, `A[${i}]`, 1e-3, 1e-2));
    const eye = tf.tidy(() => tf.matMul(sqrt, invSqrt).dataSync());
    eye.forEach((x, i) => assertClose(x, i % 7 === 0 ? 1 : 0, `I[${i}]`, 0, 1e-3));
    assertClose(tf.tidy(() => value(traceSqrtm(a))), [1e4, 3e3, 100, 10, 2, 1].reduce((t, x) => t + Math.sqrt(x), 0), 'tr √A', 1e-4);
    tf.dispose([a, sqrt, invSqrt]);
  });

  it('w2: 0 between identical statistics; the 1-D closed form (Δμ)² + (Δσ)²', () => {
    const w2 = measureOf('w2');
    const trace = stds(sh).reduce((t, x) => t + x * x, 0);
    assertClose(lossAt(w2, s, s), 0, 'identical', 0, 1e-5 * trace);
    const [f1, s1] = [randomTensor([1, 4, 4, 1], 5, -1, 3), randomTensor([1, 5, 3, 1], 6, 0, 1)];
    const [a, b] = [host(f1), host(s1)];
    const want = (means(a)[0]! - means(b)[0]!) ** 2 + (stds(a)[0]! - stds(b)[0]!) ** 2;
    assertClose(lossAt(w2, f1, s1), want, '1-D', 1e-4);
    tf.dispose([f1, s1]);
  });

  it('histogram: ‖O − R(O)‖² with R the per-filter rank remap, and the gradient 2(O − R(O))', () => {
    const remap = Array.from(tf.tidy(() => histogramRemap(f, sortedChannels(s))).dataSync());
    const want: number[] = new Array(fh.v.length);
    for (let i = 0; i < n; i++) {
      const o = channel(fh, i);
      const t = channel(sh, i).sort((x, y) => x - y);
      const rank = o.map((x) => o.filter((y) => y < x).length);
      o.forEach((_, k) => (want[k * n + i] = t[rank[k]!]!));
    }
    remap.forEach((x, i) => assert.equal(x, Math.fround(want[i]!), `R[${i}]`));
    const sorted = tf.tidy(() => sortedChannels(s));
    assertClose(tf.tidy(() => value(histogramLoss(f, sorted))), sq(fh.v, want), 'value', 1e-5);
    const g = Array.from(tf.tidy(() => tf.grad((x) => histogramLoss(x, sorted))(f)).dataSync());
    g.forEach((x, i) => assertClose(x, 2 * (fh.v[i]! - want[i]!), `grad[${i}]`, 1e-5, 1e-6));
    assert.equal(lossAt(measureOf('histogram'), s, s), 0);
    sorted.dispose();
  });

  it('mrf: nearest patches by normalised cross-correlation equal a brute-force search, in any chunking', () => {
    const g = randomTensor([1, 6, 7, 3], 8, 0, 2);
    const st = randomTensor([1, 7, 6, 3], 9, 0, 2);
    for (const stride of [1, 2]) {
      const want = jsNearest(host(g), host(st), 3, stride);
      const patches = tf.tidy(() => extractPatches(st, 3, stride));
      for (const budget of [undefined, 7]) {
        const nn = nearestPatches(g, patches, stride, budget);
        assert.deepEqual(Array.from(nn.dataSync()), want, `stride ${stride}, budget ${budget ?? 'default'}`);
        nn.dispose();
      }
      patches.dispose();
    }
    tf.dispose([g, st]);
  });

  it('mrf: Σ_i ‖Ψ_i − Ψ_NN(i)‖² by brute force, 0 at the style image, and memory-bounded', () => {
    const g = randomTensor([1, 6, 7, 3], 10, 0, 2);
    const st = randomTensor([1, 7, 6, 3], 11, 0, 2);
    const [gh, sh2] = [host(g), host(st)];
    for (const stride of [1, 2]) {
      const nn = jsNearest(gh, sh2, 3, stride);
      const cols = (x: Host) => Math.floor((x.w - 3) / stride) + 1;
      let want = 0;
      nn.forEach((j, i) => {
        const [r, q] = [Math.floor(i / cols(gh)) * stride, (i % cols(gh)) * stride];
        const [rs, qs] = [Math.floor(j / cols(sh2)) * stride, (j % cols(sh2)) * stride];
        for (let a = 0; a < 3; a++)
          for (let b = 0; b < 3; b++)
            for (let c = 0; c < 3; c++) want += (gh.v[((r + a) * gh.w + q + b) * 3 + c]! - sh2.v[((rs + a) * sh2.w + qs + b) * 3 + c]!) ** 2;
      });
      const mrf = measureOf('mrf', { mrfStride: stride });
      assertClose(lossAt(mrf, g, st), want, `stride ${stride}`, 1e-4);
      assert.equal(lossAt(mrf, st, st), 0, `stride ${stride} at the style image`);
    }
    tf.dispose([g, st]);
  });

  it('every loss leaves no tensor behind', () => {
    for (const name of STYLE_LOSS_NAMES) {
      const measure = measureOf(name);
      const target = combineTargets(measure, [styleStatisticOf(measure, s)], [1]);
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        tf.grad((x) => styleLoss('l', target, measure).evaluate({ l: x as tf.Tensor4D }, x as tf.Tensor4D))(f);
      });
      assert.equal(tf.memory().numTensors, before, name);
      target.dispose();
    }
  });
});

// ---- a tiny network: smooth, so that central differences are accurate ----

/**
 * Taps a = act(conv(x)) and b = act(conv(avgpool(a))), pooling by 2 (smooth: softplus) or, as VGG
 * with ReLU, by 4 (a 64 px image gives b 16 × 16, where the pairwise losses stay cheap).
 */
function tinyNet(relu = false): FeatureExtractor & { dispose(): void } {
  const k1 = tf.tensor4d(normalSamples(3 * 3 * 3 * 6, Math.sqrt(2 / 27), 21), [3, 3, 3, 6]);
  const k2 = tf.tensor4d(normalSamples(3 * 3 * 6 * 8, Math.sqrt(2 / 54), 22), [3, 3, 6, 8]);
  const act = (x: tf.Tensor4D) => (relu ? tf.relu(x) : tf.softplus(x));
  const pool = relu ? 4 : 2;
  return {
    features(x, taps) {
      const a = act(tf.conv2d(x, k1, 1, 'same'));
      const b = act(tf.conv2d(tf.avgPool(a, pool, pool, 'valid'), k2, 1, 'same'));
      const all: Record<string, tf.Tensor4D> = { a, b };
      return Object.fromEntries(taps.map((t) => [t, all[t]!]));
    },
    dispose: () => tf.dispose([k1, k2]),
  };
}

describe('gradients against finite differences', () => {
  const net = tinyNet();
  const image = randomTensor([1, 8, 8, 3], 12, -1, 1);
  const style = randomTensor([1, 8, 8, 3], 13, -1, 1);
  const through = (measure: StyleMeasure) => {
    const target = tf.tidy(() => combineTargets(measure, [styleStatisticOf(measure, net.features(style, ['b']).b!)], [1]));
    const objective = styleLoss('b', target, measure);
    return { f: (x: tf.Tensor4D) => objective.evaluate(net.features(x, ['b']), x), target };
  };
  const smooth: [string, StyleMeasure][] = [
    ['gram', measureOf('gram')],
    ['gram after softmax smoothing (T = 0.5)', measureOf('gram', { styleSoftmax: 0.5 })],
    ['gram-shift', measureOf('gram-shift')],
    ['mean-std', measureOf('mean-std')],
    ['mean-std-l2', measureOf('mean-std-l2')],
    ['w2', measureOf('w2')],
    ['mmd-linear', measureOf('mmd-linear')],
    ['mmd-poly (d = 2, closed form)', measureOf('mmd-poly', { mmdPolyC: 1 })],
    ['mmd-poly (d = 3, by pairs)', measureOf('mmd-poly', { mmdPolyDegree: 3 })],
  ];
  for (const [name, measure] of smooth) {
    it(`${name}, through a tiny network`, () => {
      const { f, target } = through(measure);
      // W2 subtracts traces of order N·σ² from each other: its differences need a longer step against rounding.
      checkGradient(f, image, name === 'w2' ? 0.2 : 0.1);
      target.dispose();
    });
  }

  it('mmd-gauss: the gradient holds the bandwidth fixed, as Li et al.\'s code and the reference do', () => {
    const feats = [image, style].map((x) => {
      const b = tf.tidy(() => net.features(x, ['b']).b!);
      const h = host(b);
      b.dispose();
      return h;
    });
    const all = feats.flatMap(positions);
    const scale = all.reduce((t, x) => t + all.reduce((u, y) => u + sq(x, y), 0), 0) / all.length ** 2;
    const adaptive = through(measureOf('mmd-gauss'));
    const fixed = through(explicitMmd('fixed', { kind: 'gaussian', bandwidth: 1, scale }));
    assertClose(tf.tidy(() => value(adaptive.f(image))), tf.tidy(() => value(fixed.f(image))), 'same value at the point', 1e-4);
    const [ga, gf] = [adaptive.f, fixed.f].map((f) => tf.tidy(() => Array.from(tf.grad((x) => f(x as tf.Tensor4D))(image).dataSync())));
    ga!.forEach((x, i) => assertClose(x, gf![i]!, `grad[${i}]`, 1e-3, 1e-4 * Math.max(...gf!.map(Math.abs))));
    checkGradient(fixed.f, image, 0.1);
    tf.dispose([adaptive.target, fixed.target]);
  });

  it('histogram and mrf: differences on the feature map, where no rank or match changes', () => {
    const f = randomTensor([1, 5, 6, 3], 23, 0, 2);
    const s = randomTensor([1, 6, 5, 3], 24, 0, 2);
    const fh = host(f);
    const h = 3e-3;
    const histogram = measureOf('histogram');
    const lonely = (i: number) => fh.v.every((x, j) => j === i || j % 3 !== i % 3 || Math.abs(x - fh.v[i]!) > 3 * h);
    const ht = combineTargets(histogram, [styleStatisticOf(histogram, s)], [1]);
    assert.ok(checkGradient((x) => styleLoss('l', ht, histogram).evaluate({ l: x }, x), f, h, { usable: lonely, count: Infinity }) >= 10, 'enough coordinates');
    const mrf = measureOf('mrf');
    const patches = combineTargets(mrf, [styleStatisticOf(mrf, s)], [1]);
    const matches = (x: tf.Tensor4D) => tf.tidy(() => Array.from(nearestPatches(x, patches as tf.Tensor4D, 1).dataSync()).join());
    const matched = matches(f);
    const stable = (i: number) =>
      [-h, -h / 2, h / 2, h].every((d) => {
        const v = fh.v.slice();
        v[i]! += d;
        const x = tf.tensor4d(v, f.shape);
        const same = matches(x) === matched;
        x.dispose();
        return same;
      });
    assert.ok(checkGradient((x) => mrfLoss(x, patches, 1), f, h, { usable: stable, count: 12 }) >= 6, 'enough coordinates');
    tf.dispose([f, s, ht, patches]);
  });
});

describe('each loss falls at least 10× in 30 L-BFGS iterations at 64 px on a tiny network', () => {
  const net = tinyNet(true);
  let style: tf.Tensor4D;
  before(async () => {
    const rgb = await loadImage('data/images/starry_night.jpg', { size: [64, 64] });
    style = preprocess(rgb);
    rgb.dispose();
  });
  after(() => style.dispose());
  for (const name of STYLE_LOSS_NAMES) {
    // The pairwise losses are O(M²) per layer: on the 16 × 16 layer only.
    const layers = name === 'mmd-gauss' || name === 'mrf' ? ['b'] : ['a', 'b'];
    it(`${name} (${layers.join(', ')})`, () => {
      const measures = styleMeasuresFor('gatys2016', layers, { styleLoss: name });
      const targets = tf.tidy(() => {
        const f = net.features(style, layers);
        return layers.map((l) => combineTargets(measures[l]!, [styleStatisticOf(measures[l]!, f[l]!)], [1]));
      });
      const objective = weightedSum(layers.map((l, i) => ({ objective: styleLoss(l, targets[i]!, measures[l]), weight: 1 })));
      const x = tf.variable(tf.tensor4d(normalSamples(64 * 64 * 3, 1, 0), [1, 64, 64, 3]));
      // No convergence tests: their thresholds are absolute, and the losses' scales differ by 10⁸.
      const optimizer = new Lbfgs({ learningRate: 1, historySize: 100, lineSearch: 'strong_wolfe', toleranceGrad: 0, toleranceChange: 0 });
      const at = (img: tf.Tensor) => objective.evaluate(net.features(img as tf.Tensor4D, layers), img as tf.Tensor4D);
      // β such that the first gradient has unit size: the losses' scales differ by 10⁸ (mmd-gauss starts
      // near 1 with gradients near 1e-5, as Li et al.'s style weight of 3e14 for it reflects).
      const start = tf.tidy(() => value(at(x)));
      const beta = tf.tidy(() => 1 / value(tf.max(tf.abs(tf.grad(at)(x))) as tf.Scalar));
      const weighted = (img: tf.Tensor) => tf.mul(at(img), beta) as tf.Scalar;
      const closure = () => {
        const { value: v, grad } = tf.valueAndGrad(weighted)(x);
        const loss = value(v);
        v.dispose();
        return { loss, grad };
      };
      for (let i = 0; i < 30; i++) optimizer.step(x, closure);
      const end = tf.tidy(() => value(at(x)));
      assert.ok(end * 10 <= start, `${name} went from ${start} to ${end}`);
      optimizer.dispose();
      x.dispose();
      tf.dispose(targets);
    });
  }
});

describe('choosing the style loss by name, per layer', () => {
  const base = { style: ['s.jpg'], styleLayers: ['conv1_1', 'conv3_1', 'conv4_1'] };
  const styleLossOf = (v: unknown) => resolveConfig({ ...base, styleLoss: v } as Partial<RunConfig>).styleLoss;

  it('one spelling per meaning: a name, or the default then the exceptions in layer order', () => {
    assert.equal(DEFAULT_CONFIG.styleLoss, 'gram');
    assert.equal(styleLossOf('w2'), 'w2');
    assert.equal(styleLossOf('conv4_1:mrf, conv1_1:gram'), 'gram,conv4_1:mrf');
    assert.equal(styleLossOf('w2,conv3_1:w2'), 'w2');
    assert.equal(styleLossOf({ default: 'mean-std', conv3_1: 'histogram' }), 'mean-std,conv3_1:histogram');
    assert.equal(styleLossOf({ conv3_1: 'mrf' }), 'gram,conv3_1:mrf');
  });

  it('names the option and lists the allowed values for a wrong name or layer', () => {
    const rejects = (v: unknown, pattern: RegExp) => assert.throws(() => styleLossOf(v), (e: unknown) => e instanceof NstError && pattern.test(`${e.message} ${e.hint}`));
    rejects('wasserstein', /--style-loss.*'wasserstein'.*allowed values: gram, gram-shift, mean-std, mean-std-l2, w2, mmd-linear, mmd-poly, mmd-gauss, histogram, mrf/);
    rejects('conv5_1:mrf', /'conv5_1' is not a style layer.*conv1_1, conv3_1, conv4_1/);
    rejects('gram,w2', /two default losses/);
    rejects('conv3_1:mrf,conv3_1:w2', /given twice/);
    rejects(['gram'], /expected a name or a mapping/);
    for (const [key, v] of [['mrfPatchSize', 0], ['mrfStride', 1.5], ['mmdBandwidth', 0], ['styleSoftmax', -1], ['styleLayerWeighting', 'equal']] as const) {
      assert.throws(() => resolveConfig({ ...base, [key]: v }), NstError, `${key} ${v}`);
    }
  });

  it('from the command line, with every parameter as an option', () => {
    const argv = ['--style', 's.jpg', '--style-layers', 'conv1_1,conv3_1', '--style-loss', 'w2,conv3_1:mrf', '--mrf-patch-size', '5', '--mrf-stride', '2', '--gram-shift=-0.5', '--mmd-poly-c', '1', '--mmd-poly-degree', '3', '--mmd-bandwidth', '2', '--style-softmax', '1', '--style-layer-weighting', 'sum'];
    const cfg = resolveConfig(parseOptions(argv).config);
    assert.deepEqual(
      [cfg.styleLoss, cfg.mrfPatchSize, cfg.mrfStride, cfg.gramShift, cfg.mmdPolyC, cfg.mmdPolyDegree, cfg.mmdBandwidth, cfg.styleSoftmax, cfg.styleLayerWeighting],
      ['w2,conv3_1:mrf', 5, 2, -0.5, 1, 3, 2, 1, 'sum'],
    );
  });

  it('a sweep over style losses is one parameter', () => {
    const spec = parseSweepSpec({ name: 'losses', base: { ...base, content: '' }, parameters: { styleLoss: { values: ['gram', 'w2', 'gram,conv3_1:mrf'] } } });
    const sweep = expandSweep(spec, { out: '/tmp/nst-unused' });
    assert.deepEqual(sweep.runs.map((r) => r.config.styleLoss), ['gram', 'w2', 'gram,conv3_1:mrf']);
    assert.equal(new Set(sweep.runs.map((r) => r.id)).size, 3);
  });

  it('targets and objective use each layer\'s loss; targets made for other losses are refused', () => {
    const net = tinyNet();
    const content = randomTensor([1, 8, 8, 3], 14, -1, 1);
    const style = randomTensor([1, 8, 8, 3], 15, -1, 1);
    const cfg: GatysConfig = { contentLayers: ['b'], styleLayers: ['a', 'b'], styleLayerWeights: [], contentWeight: 1, styleWeight: 1, tvWeight: 0, normalization: 'gatys2016', styleLoss: 'w2,b:mrf', mrfStride: 2, styleLayerWeighting: 'sum' };
    const targets = computeTargets(net, { content, styles: [style], blend: [1], contentLayers: ['b'], styleLayers: ['a', 'b'], normalization: 'gatys2016', style: cfg });
    assert.deepEqual([targets.styleMeasures.a!.name, targets.styleMeasures.b!.name], ['w2', 'mrf(3x3/2)']);
    assert.deepEqual(targets.styleChannels, { a: 6, b: 8 });
    const objective = buildGatysObjective(cfg, targets);
    const r = tf.tidy(() => {
      const t = objective.evaluate(net.features(content, objective.layers), content);
      return { style: value(t.groups.style), a: value(t.terms['style/a']!), b: value(t.terms['style/b']!) };
    });
    const a = tf.tidy(() => lossAt(measureOf('w2'), net.features(content, ['a']).a!, net.features(style, ['a']).a!));
    assertClose(r.a, a, 'style/a is w2', 1e-5);
    assertClose(r.style, r.a + r.b, 'weighting sum: w_l = 1', 1e-6);
    assert.throws(() => buildGatysObjective({ ...cfg, styleLoss: 'w2' }, targets), /style target of b was computed for 'mrf\(3x3\/2\)', the objective uses 'w2'/);
    targets.dispose();
    tf.dispose([content, style]);
    net.dispose();
  });

  it('layer weightings: the normalization\'s, 1/|L|, 1 and 1/N_l²', () => {
    const channels = [64, 128];
    assert.deepEqual(styleLayerWeightsBy('normalization', 'gatys-code', channels), [1e3 / 64 ** 2, 1e3 / 128 ** 2]);
    assert.deepEqual(styleLayerWeightsBy('mean', 'gatys-code', channels), [0.5, 0.5]);
    assert.deepEqual(styleLayerWeightsBy('sum', 'gatys2016', channels), [1, 1]);
    assert.deepEqual(styleLayerWeightsBy('inverse-square', 'gatys2016', channels), [1 / 64 ** 2, 1 / 128 ** 2]);
  });

  it('several style images: raw moments blend linearly, mrf refuses blend weights', () => {
    const a = randomTensor([1, 3, 4, 2], 16);
    const b = randomTensor([1, 4, 4, 2], 17);
    const w2 = measureOf('w2');
    const blended = rawMomentsBlend(w2, [a, b], [0.25, 0.75]);
    const mixture = tf.tidy(() => tf.add(tf.mul(rawMoments(a), 0.25), tf.mul(rawMoments(b), 0.75)));
    Array.from(blended.dataSync()).forEach((x, i) => assertClose(x, mixture.dataSync()[i]!, `[${i}]`, 1e-6));
    const mrf = measureOf('mrf');
    assert.throws(() => combineTargets(mrf, [styleStatisticOf(mrf, a), styleStatisticOf(mrf, b)], [0.25, 0.75]), (e: unknown) => e instanceof NstError && /style-blend/.test(e.hint ?? ''));
    tf.dispose([a, b, blended, mixture]);
  });
});

/** W2's target before its prepare step: the blended raw moments. */
function rawMomentsBlend(measure: StyleMeasure, images: tf.Tensor4D[], blend: number[]): tf.Tensor {
  const { prepare: _prepare, ...unprepared } = measure;
  return combineTargets(unprepared, images.map((x) => styleStatisticOf(measure, x)), blend);
}

describe('agreement with the float64 PyTorch reference (gatys_torch.py style-stats)', { skip: referenceSkip() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nst-style-stats-'));
  const files = { weights: join(dir, 'vgg19.h5'), style: join(dir, 's.png'), image: join(dir, 'x.png') };
  const layers = ['conv1_1', 'conv2_1', 'conv3_1'];
  let ref: { values: Record<string, Record<string, number>>; grad_norm: Record<string, number> };
  before(() => {
    reference('make-weights', files.weights, '--seed', '0', '--naming', 'keras2');
    reference('resize', join('data', 'images', 'starry_night.jpg'), files.style, '--size', '40x32');
    reference('resize', join('data', 'images', 'the_scream.jpg'), files.image, '--size', '40x32');
    ref = reference('style-stats', '--weights', files.weights, '--style', files.style, '--image', files.image, '--pooling', 'max', '--style-layers', layers.join(','));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Our loss name and the factor from ours to the reference's normaliser, given N. */
  const cases: [string, StyleLossName, (n: number) => number][] = [
    ['gram', 'gram', () => 1],
    ['mean_std', 'mean-std', () => 1],
    ['w2', 'w2', () => 1],
    ['mmd_linear', 'mmd-linear', (n) => n],
    ['mmd_poly', 'mmd-poly', (n) => 4 * n * n],
    ['mmd_gauss', 'mmd-gauss', () => 1],
  ];

  it('per-layer values and the gradient norm of their sum, for gram, mean/std, W2 and the MMD kernels', async () => {
    const net = await openFeatureNet(files.weights, 'max');
    // The network takes RGB and preprocesses it itself.
    const [style, image] = await Promise.all([loadImage(files.style), loadImage(files.image)]);
    const channels: Record<string, number> = { conv1_1: 64, conv2_1: 128, conv3_1: 256 };
    try {
      for (const [refName, ours, scale] of cases) {
        const measures = styleMeasuresFor('gatys2016', layers, { styleLoss: ours });
        const targets = tf.tidy(() => {
          const f = net.features(style, layers);
          return layers.map((l) => combineTargets(measures[l]!, [styleStatisticOf(measures[l]!, f[l]!)], [1]));
        });
        const objective = weightedSum(layers.map((l, i) => ({ objective: styleLoss(l, targets[i]!, measures[l]), weight: scale(channels[l]!) })));
        const { terms, gradNorm } = tf.tidy(() => {
          const { value: total, grad } = tf.valueAndGrad((x: tf.Tensor) => objective.evaluate(net.features(x as tf.Tensor4D, layers), x as tf.Tensor4D))(image);
          total.dispose();
          const t = tf.tidy(() => objective.evaluateTerms(net.features(image, layers), image).terms);
          return { terms: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, value(v)])), gradNorm: value(tf.norm(grad) as tf.Scalar) };
        });
        for (const l of layers) assertClose(terms[`style/${l}`]! * scale(channels[l]!), ref.values[refName]![l]!, `${refName} ${l}`, 2e-3);
        assertClose(gradNorm, ref.grad_norm[refName]!, `${refName} gradient norm`, 2e-3);
        tf.dispose(targets);
      }
    } finally {
      tf.dispose([style, image]);
      net.dispose();
    }
  });
});

describe('balanced style weights (notebook 12)', () => {
  it('give every loss the weighted style term of the reference at the starting image', async () => {
    const base = { ...TINY_RUN, init: 'noise' as const };
    const settings = [{ styleLoss: 'gram' }, { styleLoss: 'w2' }, { styleLoss: 'mean-std' }];
    const betas = await balancedStyleWeights(base, settings, 1e3);
    assert.equal(betas[0], 1e3, 'the reference keeps its β');
    const weighted: number[] = [];
    for (const [i, s] of settings.entries()) {
      const session = await createSession({ ...base, ...s, styleWeight: betas[i] });
      weighted.push(session.score().logs.style);
      session.dispose();
    }
    for (const w of weighted) assert.ok(Math.abs(w / weighted[0]! - 1) < 5e-3, `β·S(x₀) ${weighted.join(', ')}`);
    assert.ok(new Set(betas).size === 3, `the losses' scales differ: ${betas.join(', ')}`);
  });
});
