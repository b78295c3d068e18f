/**
 * The objectives against plain-JS computations of the papers' formulas on tiny random tensors, their
 * gradients against finite differences through a tiny network, and the targets' tensor ownership.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { createRng } from '../src/lib/rng';
import { NORMALIZATIONS, type Normalization } from '../src/lib/config';
import { NstError } from '../src/lib/errors';
import { contentLoss } from '../src/lib/objectives/content';
import { buildGatysObjective, computeTargets, type FeatureExtractor, type GatysConfig } from '../src/lib/objectives/gatys';
import { gram } from '../src/lib/objectives/gram';
import type { Objective, Taps } from '../src/lib/objectives/objective';
import { defaultStyleLayerWeights, MOMENTS, STYLE_MEASURES, styleLoss, type StyleMeasure } from '../src/lib/objectives/style';
import { scale, unionLayers, weightedSum } from '../src/lib/objectives/sum';
import { totalVariation } from '../src/lib/objectives/tv';
import { checkGradient } from './helpers/gradient-check';

// Top-level, so that fixtures made while the suites are defined already live on wasm.
await initBackend('wasm');

const rng = createRng;

function randomTensor(shape: [number, number, number, number], seed: number, lo = 0, hi = 1): tf.Tensor4D {
  const r = rng(seed);
  return tf.tensor4d(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * r()), shape);
}

const value = (s: tf.Scalar): number => s.dataSync()[0]!;
/** Evaluates an objective and reads its value, freeing everything. */
const evaluate = (o: Objective, taps: Taps, image: tf.Tensor4D): number => tf.tidy(() => value(o.evaluate(taps, image)));

function assertClose(actual: number, expected: number, what: string, rtol = 1e-5): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-30);
  assert.ok(err <= rtol, `${what}: ${actual} vs expected ${expected} (relative error ${err.toExponential(2)})`);
}

// ---- plain-JS versions of the formulas, on host copies of the float32 values ----

interface Host {
  h: number;
  w: number;
  c: number;
  /** NHWC values */
  v: number[];
}
const host = (t: tf.Tensor4D): Host => ({ h: t.shape[1], w: t.shape[2], c: t.shape[3], v: Array.from(t.dataSync()) });
/** The host copy of a tensor computed for the purpose, which is then freed. */
function hostOf(make: () => tf.Tensor4D): Host {
  const t = tf.tidy(make);
  try {
    return host(t);
  } finally {
    t.dispose();
  }
}

/** G_ij = Σ_k F_ik F_jk over the M = h·w positions. */
function jsGram({ h, w, c, v }: Host): number[][] {
  const g = Array.from({ length: c }, () => new Array<number>(c).fill(0));
  for (let k = 0; k < h * w; k++) for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) g[i]![j]! += v[k * c + i]! * v[k * c + j]!;
  return g;
}
const sumSq = (a: number[], b: number[]) => a.reduce((s, ai, i) => s + (ai - b[i]!) ** 2, 0);
const flat = (m: number[][]) => m.flat();
const scaled = (m: number[][], k: number) => m.map((row) => row.map((x) => x * k));

/** The paper's E_l, from raw Gram matrices of same-sized maps. */
function jsGatys2016(f: Host, s: Host): number {
  const n = f.c;
  const m = f.h * f.w;
  return sumSq(flat(jsGram(f)), flat(jsGram(s))) / (4 * n * n * m * m);
}
/** The authors' code: MSE of G/M (nn.MSELoss averages the N² entries). */
function jsGatysCode(f: Host, s: Host): number {
  return sumSq(flat(scaled(jsGram(f), 1 / (f.h * f.w))), flat(scaled(jsGram(s), 1 / (s.h * s.w)))) / (f.c * f.c);
}
/** jcjohnson: G/(C·H·W), MSE over the N² entries. */
function jsJohnson(f: Host, s: Host): number {
  return sumSq(flat(scaled(jsGram(f), 1 / f.v.length)), flat(scaled(jsGram(s), 1 / s.v.length))) / (f.c * f.c);
}
function jsMoments({ h, w, c, v }: Host): number[] {
  const m = h * w;
  const mean = Array.from({ length: c }, (_, i) => Array.from({ length: m }, (_, k) => v[k * c + i]!).reduce((a, b) => a + b, 0) / m);
  const std = mean.map((mu, i) => Math.sqrt(Array.from({ length: m }, (_, k) => (v[k * c + i]! - mu) ** 2).reduce((a, b) => a + b, 0) / m + 1e-5));
  return [...mean, ...std];
}
const jsMomentsLoss = (f: Host, s: Host) => sumSq(jsMoments(f), jsMoments(s)) / (2 * f.c);

/** ½ Σ over the top-left (H−1)×(W−1) block of the squared right and down differences. */
function jsTv({ h, w, c, v }: Host): number {
  const at = (i: number, j: number, ch: number) => v[(i * w + j) * c + ch]!;
  let s = 0;
  for (let i = 0; i < h - 1; i++)
    for (let j = 0; j < w - 1; j++)
      for (let ch = 0; ch < c; ch++) s += (at(i, j + 1, ch) - at(i, j, ch)) ** 2 + (at(i + 1, j, ch) - at(i, j, ch)) ** 2;
  return s / 2;
}

/** jcjohnson's TVLoss:updateGradInput (strength 1), transcribed to NHWC. */
function jcjohnsonTvGrad({ h, w, c, v }: Host): number[] {
  const idx = (i: number, j: number, ch: number) => (i * w + j) * c + ch;
  const g = new Array<number>(v.length).fill(0);
  for (let i = 0; i < h - 1; i++)
    for (let j = 0; j < w - 1; j++)
      for (let ch = 0; ch < c; ch++) {
        const xDiff = v[idx(i, j, ch)]! - v[idx(i, j + 1, ch)]!;
        const yDiff = v[idx(i, j, ch)]! - v[idx(i + 1, j, ch)]!;
        g[idx(i, j, ch)]! += xDiff + yDiff;
        g[idx(i, j + 1, ch)]! -= xDiff;
        g[idx(i + 1, j, ch)]! -= yDiff;
      }
  return g;
}

// ---- a tiny "network": two smooth conv layers with fixed random kernels ----

const K1 = 4;
const K2 = 6;
/**
 * taps a = softplus(conv(x)), b = softplus(conv(avgpool(a))). Softplus rather than ReLU keeps the
 * function smooth, so central differences are accurate.
 */
function tinyNet(): FeatureExtractor & { dispose(): void } {
  const k1 = randomTensor([3, 3, 3, K1], 101, -0.5, 0.5);
  const k2 = randomTensor([3, 3, K1, K2], 102, -0.5, 0.5);
  return {
    features(x, taps) {
      const a = tf.softplus(tf.conv2d(x, k1, 1, 'same'));
      const b = tf.softplus(tf.conv2d(tf.avgPool(a, 2, 2, 'valid'), k2, 1, 'same'));
      const all: Record<string, tf.Tensor4D> = { a, b };
      return Object.fromEntries(taps.map((t) => [t, all[t]!]));
    },
    dispose: () => tf.dispose([k1, k2]),
  };
}

describe('gram', () => {
  it('is FᵀF over positions', () => {
    const f = randomTensor([1, 3, 4, 5], 1, -1, 1);
    const g = gram(f);
    assert.deepEqual(g.shape, [5, 5]);
    const expected = flat(jsGram(host(f)));
    // Signed entries can cancel to near 0, so the tolerance is relative to the largest entry.
    const largest = Math.max(...expected.map(Math.abs));
    Array.from(g.dataSync()).forEach((x, i) => assert.ok(Math.abs(x - expected[i]!) <= 1e-6 * largest, `G[${i}]: ${x} vs ${expected[i]}`));
    tf.dispose([f, g]);
  });
});

describe('content loss', () => {
  const f = randomTensor([1, 3, 4, 5], 2, 0, 2);
  const p = randomTensor([1, 3, 4, 5], 3, 0, 2);
  const d = sumSq(Array.from(f.dataSync()), Array.from(p.dataSync()));

  it('is ½Σ(F−P)² (the paper) or the mean squared error', () => {
    assertClose(evaluate(contentLoss('x', p), { x: f }, f), d / 2, 'half-sum');
    assertClose(evaluate(contentLoss('x', p, 'mean'), { x: f }, f), d / 60, 'mean');
    assert.equal(evaluate(contentLoss('x', p), { x: p }, p), 0);
  });

  it('names itself after its layer and rejects a feature map of another size', () => {
    const o = contentLoss('conv4_2', p);
    assert.equal(o.name, 'content/conv4_2');
    assert.deepEqual(o.layers, ['conv4_2']);
    const other = tf.zeros([1, 2, 4, 5]) as tf.Tensor4D;
    assert.throws(() => o.evaluate({ conv4_2: other }, other), (e: unknown) => e instanceof NstError && /content\/conv4_2.*\[1,2,4,5\].*\[1,3,4,5\]/.test(e.message));
    other.dispose();
  });
});

describe('style losses', () => {
  const f = randomTensor([1, 3, 4, 5], 4, 0, 2);
  const s = randomTensor([1, 3, 4, 5], 5, 0, 2);
  const expected: Record<Normalization, number> = {
    gatys2016: jsGatys2016(host(f), host(s)),
    'gatys-code': jsGatysCode(host(f), host(s)),
    johnson: jsJohnson(host(f), host(s)),
  };
  const cases: [string, StyleMeasure, number][] = [
    ...NORMALIZATIONS.map((n): [string, StyleMeasure, number] => [n, STYLE_MEASURES[n], expected[n]]),
    ['moments', MOMENTS, jsMomentsLoss(host(f), host(s))],
  ];
  for (const [name, measure, want] of cases) {
    it(`${name}: matches its formula and is 0 at the target`, () => {
      const target = measure.statistic(s);
      const o = styleLoss('conv1_1', target, measure);
      assert.equal(o.name, 'style/conv1_1');
      assertClose(evaluate(o, { conv1_1: f }, f), want, name);
      assert.equal(evaluate(o, { conv1_1: s }, s), 0);
      target.dispose();
    });
  }

  it('the conventions differ by the constant factors their definitions imply', () => {
    // Same-sized maps: gatys-code = 4·gatys2016 (G/M vs G, ¼ vs none), johnson = gatys-code / N².
    assertClose(expected['gatys-code'], 4 * expected.gatys2016, 'gatys-code vs gatys2016', 1e-9);
    assertClose(expected.johnson, expected['gatys-code'] / 25, 'johnson vs gatys-code', 1e-9);
  });

  it('gatys2016 compares per-position Gram matrices when the style map has another size', () => {
    const big = randomTensor([1, 6, 5, 5], 6, 0, 2);
    const target = STYLE_MEASURES.gatys2016.statistic(big);
    const fh = host(f);
    const bh = host(big);
    const want = sumSq(flat(scaled(jsGram(fh), 1 / 12)), flat(scaled(jsGram(bh), 1 / 30))) / (4 * 25);
    assertClose(evaluate(styleLoss('l', target), { l: f }, f), want, 'E_l');
    tf.dispose([big, target]);
  });

  it('default layer weights: 1/|L|, 1e3/N_l², 1', () => {
    const channels = [64, 128, 256, 512, 512];
    assert.deepEqual(defaultStyleLayerWeights('gatys2016', channels), [0.2, 0.2, 0.2, 0.2, 0.2]);
    assert.deepEqual(defaultStyleLayerWeights('gatys-code', channels), channels.map((n) => 1e3 / n ** 2));
    assert.deepEqual(defaultStyleLayerWeights('johnson', channels), [1, 1, 1, 1, 1]);
  });
});

describe('total variation', () => {
  const x = randomTensor([1, 4, 5, 3], 7, -1, 1);

  it('is ½Σ of squared right and down differences over the top-left (H−1)×(W−1) block', () => {
    assertClose(evaluate(totalVariation(), {}, x), jsTv(host(x)), 'tv');
  });

  it('has exactly the gradient of jcjohnson/neural-style TVLoss', () => {
    const g = tf.grad((img) => totalVariation().evaluate({}, img as tf.Tensor4D))(x);
    const want = jcjohnsonTvGrad(host(x));
    const got = Array.from(g.dataSync());
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5, `grad[${i}] ${v} vs ${want[i]}`));
    g.dispose();
  });
});

describe('weighted sums', () => {
  it('report a part of weight 0 without differentiating it', () => {
    let backward = 0;
    // TV whose gradient function counts its calls: the tape calls it only if the part reaches the total.
    const counted = (name: string): Objective => ({
      name,
      layers: [],
      evaluate: (_taps, img) =>
        tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
          save([x]);
          return { value: tf.sum(tf.square(x)) as tf.Scalar, gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => (backward++, tf.mul(dy, tf.mul(2, saved!))) };
        }) as unknown as Parameters<typeof tf.customGrad>[0])(img) as tf.Scalar,
    });
    const img = randomTensor([1, 2, 2, 3], 12, -1, 1) as tf.Tensor4D;
    const sum = weightedSum([
      { objective: counted('on'), weight: 0.5 },
      { objective: counted('off'), weight: 0 },
    ]);
    let terms: Record<string, number> = {};
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor4D) => {
      const r = sum.evaluateTerms({}, x);
      terms = Object.fromEntries(Object.entries(r.terms).map(([k, v]) => [k, v.dataSync()[0]!]));
      return r.total;
    })(img);
    const expected = tf.sum(tf.square(img)).dataSync()[0]!;
    assert.equal(backward, 1, 'only the weighted part was differentiated');
    assert.ok(Math.abs(terms.off! - expected) <= 1e-6 * expected, 'the weight-0 part is still reported');
    assert.ok(Math.abs(value.dataSync()[0]! - 0.5 * expected) <= 1e-6 * expected);
    assert.deepEqual(Array.from(grad.dataSync()), Array.from(img.dataSync()).map((v) => Math.fround(v)));
    tf.dispose([value, grad, img]);
  });

  const f = randomTensor([1, 3, 4, 5], 8, 0, 2);
  const p = randomTensor([1, 3, 4, 5], 9, 0, 2);
  const s = randomTensor([1, 3, 4, 5], 10, 0, 2);
  const image = randomTensor([1, 4, 4, 3], 11, -1, 1);
  const taps = { conv1_1: f, conv2_1: s };
  const targetA = STYLE_MEASURES.gatys2016.statistic(s);
  const targetB = STYLE_MEASURES.gatys2016.statistic(f);
  const content = weightedSum([{ objective: contentLoss('conv1_1', p), weight: 1 }], 'content');
  const style = weightedSum(
    [
      { objective: styleLoss('conv1_1', targetA), weight: 0.3 },
      { objective: styleLoss('conv2_1', targetB), weight: 0.7 },
    ],
    'style',
  );
  const total = weightedSum([
    { objective: content, weight: 2 },
    { objective: style, weight: 1e3 },
    { objective: totalVariation(), weight: 0.5 },
  ]);

  it('keeps every leaf unweighted, the weighted groups, and their sum', () => {
    const c = sumSq(Array.from(f.dataSync()), Array.from(p.dataSync())) / 2;
    const e1 = jsGatys2016(host(f), host(s));
    const e2 = jsGatys2016(host(s), host(f));
    const tv = jsTv(host(image));
    const r = tf.tidy(() => {
      const t = total.evaluateTerms(taps, image);
      return {
        total: value(t.total),
        groups: Object.fromEntries(Object.entries(t.groups).map(([k, v]) => [k, value(v)])),
        terms: Object.fromEntries(Object.entries(t.terms).map(([k, v]) => [k, value(v)])),
      };
    });
    assert.deepEqual(total.termNames, ['content/conv1_1', 'style/conv1_1', 'style/conv2_1', 'tv']);
    assert.deepEqual(Object.keys(r.terms), total.termNames);
    assertClose(r.terms['content/conv1_1']!, c, 'content leaf');
    assertClose(r.terms['style/conv1_1']!, e1, 'style leaf 1');
    assertClose(r.terms['style/conv2_1']!, e2, 'style leaf 2');
    assertClose(r.terms.tv!, tv, 'tv leaf');
    assertClose(r.groups.content!, 2 * c, 'content group');
    assertClose(r.groups.style!, 1e3 * (0.3 * e1 + 0.7 * e2), 'style group');
    assertClose(r.groups.tv!, 0.5 * tv, 'tv group');
    assertClose(r.total, 2 * c + 1e3 * (0.3 * e1 + 0.7 * e2) + 0.5 * tv, 'total');
    assertClose(evaluate(total, taps, image), r.total, 'evaluate = evaluateTerms().total', 1e-7);
  });

  it('reads the union of its parts\' taps; scale keeps the leaves', () => {
    assert.deepEqual(total.layers, ['conv1_1', 'conv2_1']);
    assert.deepEqual(unionLayers([style, totalVariation(), content]), ['conv1_1', 'conv2_1']);
    const scaled3 = scale(style, 3);
    assert.equal(scaled3.name, 'style');
    assert.deepEqual(scaled3.termNames, style.termNames);
    assertClose(evaluate(scaled3, taps, image), 3 * evaluate(style, taps, image), 'scale');
  });

  it('an empty sum is 0; duplicate leaf names and non-finite weights are rejected', () => {
    assert.equal(evaluate(weightedSum([]), taps, image), 0);
    assert.throws(() => weightedSum([{ objective: style, weight: 1 }, { objective: styleLoss('conv1_1', targetA), weight: 1 }]), (e: unknown) => e instanceof NstError && /style\/conv1_1/.test(e.message));
    assert.throws(() => weightedSum([{ objective: totalVariation(), weight: NaN }]), NstError);
  });

  it('leaves no tensors behind inside tf.tidy', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      total.evaluateTerms(taps, image);
    });
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('gradients against central differences through a tiny network', () => {
  const image = randomTensor([1, 6, 6, 3], 12, -1, 1);
  const other = randomTensor([1, 6, 6, 3], 13, -1, 1);
  const net = tinyNet();
  const targets = computeTargets(net, {
    content: other,
    styles: [other],
    blend: [1],
    contentLayers: ['a'],
    styleLayers: ['a', 'b'],
    normalization: 'gatys2016',
  });
  const statisticOf = (measure: StyleMeasure) => tf.tidy(() => measure.statistic(net.features(other, ['b']).b!));
  const cases: [string, Objective][] = [
    ['content (half-sum)', contentLoss('a', targets.content.a!)],
    ['content (mean)', contentLoss('a', targets.content.a!, 'mean')],
    ...[...NORMALIZATIONS.map((n) => STYLE_MEASURES[n]), MOMENTS].map((m): [string, Objective] => [`style ${m.name}`, styleLoss('b', statisticOf(m), m)]),
    ['tv', totalVariation()],
    [
      'the Gatys objective',
      buildGatysObjective(
        { contentLayers: ['a'], styleLayers: ['a', 'b'], styleLayerWeights: [], contentWeight: 1, styleWeight: 1e3, tvWeight: 0.1, normalization: 'gatys2016' },
        targets,
      ).sum,
    ],
  ];

  for (const [name, objective] of cases) {
    it(name, () => {
      const f = (x: tf.Tensor4D) => objective.evaluate(net.features(x, objective.layers), x);
      // The largest coordinate and a few random ones.
      checkGradient(f, image, 1e-2, { count: 5, rtol: 1e-2 });
    });
  }
});

describe('targets', () => {
  const net = tinyNet();
  const content = randomTensor([1, 6, 6, 3], 14, -1, 1);
  const styleA = randomTensor([1, 6, 6, 3], 15, -1, 1);
  // A second style image of another size (`--style-size keep`).
  const styleB = randomTensor([1, 8, 4, 3], 16, -1, 1);
  const inputs = { content, styles: [styleA, styleB], blend: [0.25, 0.75], contentLayers: ['b'], styleLayers: ['a', 'b'] };
  const featuresOf = (x: tf.Tensor4D, layer: string) => hostOf(() => net.features(x, [layer])[layer]!);

  it('content: the content image\'s feature maps', () => {
    const t = computeTargets(net, { ...inputs, normalization: 'gatys2016' });
    assert.deepEqual(Object.keys(t.content), ['b']);
    assert.deepEqual(Array.from(t.content.b!.dataSync()), featuresOf(content, 'b').v);
    t.dispose();
  });

  for (const [normalization, perGram] of [
    ['gatys2016', (h: Host) => 1 / (h.h * h.w)],
    ['gatys-code', (h: Host) => 1 / (h.h * h.w)],
    ['johnson', (h: Host) => 1 / h.v.length],
  ] as const) {
    it(`${normalization}: style targets are Σ_i b_i·A_i of the normalised Gram matrices`, () => {
      const t = computeTargets(net, { ...inputs, normalization });
      assert.equal(t.normalization, normalization);
      for (const layer of ['a', 'b']) {
        const [ha, hb] = [featuresOf(styleA, layer), featuresOf(styleB, layer)];
        const want = flat(jsGram(ha)).map((x, i) => 0.25 * x * perGram(ha) + 0.75 * flat(jsGram(hb))[i]! * perGram(hb));
        Array.from(t.styleGrams[layer]!.dataSync()).forEach((x, i) => assertClose(x, want[i]!, `${layer}[${i}]`, 1e-4));
      }
      t.dispose();
    });
  }

  it('own exactly their tensors, which dispose() frees', () => {
    const before = tf.memory().numTensors;
    const t = computeTargets(net, { ...inputs, normalization: 'gatys2016' });
    assert.equal(tf.memory().numTensors, before + 3);
    t.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('content layers without a content image are a user error', () => {
    assert.throws(() => computeTargets(net, { ...inputs, content: null, normalization: 'gatys2016' }), NstError);
  });
});

describe('buildGatysObjective', () => {
  const net = tinyNet();
  const content = randomTensor([1, 6, 6, 3], 17, -1, 1);
  const style = randomTensor([1, 6, 6, 3], 18, -1, 1);
  const image = randomTensor([1, 6, 6, 3], 19, -1, 1);
  const base: GatysConfig = {
    contentLayers: ['b'],
    styleLayers: ['a', 'b'],
    styleLayerWeights: [],
    contentWeight: 5,
    styleWeight: 100,
    tvWeight: 0.01,
    normalization: 'gatys2016',
  };
  const targetsFor = (cfg: GatysConfig, withContent = true) =>
    computeTargets(net, {
      content: withContent ? content : null,
      styles: [style],
      blend: [1],
      contentLayers: withContent ? cfg.contentLayers : [],
      styleLayers: cfg.styleLayers,
      normalization: cfg.normalization,
    });
  const run = (cfg: GatysConfig, withContent = true) => {
    const targets = targetsFor(cfg, withContent);
    const objective = buildGatysObjective(cfg, targets);
    const r = tf.tidy(() => {
      const t = objective.evaluate(net.features(image, objective.layers), image);
      return {
        total: value(t.total),
        groups: { content: value(t.groups.content), style: value(t.groups.style), tv: value(t.groups.tv) },
        terms: Object.fromEntries(Object.entries(t.terms).map(([k, v]) => [k, value(v)])),
      };
    });
    return { objective, targets, r };
  };
  const x = (layer: string, img: tf.Tensor4D) => hostOf(() => net.features(img, [layer])[layer]!);

  it('gatys2016: α·½Σ(F−P)² + β·Σ (1/|L|)·E_l + tvWeight·TV', () => {
    const { objective, targets, r } = run(base);
    const c = sumSq(x('b', image).v, x('b', content).v) / 2;
    const e = ['a', 'b'].map((l) => jsGatys2016(x(l, image), x(l, style)));
    const tv = jsTv(host(image));
    assert.deepEqual(objective.termNames, ['content/b', 'style/a', 'style/b', 'tv/image']);
    assert.deepEqual(objective.layers, ['b', 'a']);
    assertClose(r.terms['content/b']!, c, 'content leaf');
    assertClose(r.terms['style/a']!, e[0]!, 'E_a', 1e-4);
    assertClose(r.terms['style/b']!, e[1]!, 'E_b', 1e-4);
    assertClose(r.groups.content, 5 * c, 'content group');
    assertClose(r.groups.style, 100 * (e[0]! + e[1]!) / 2, 'style group', 1e-4);
    assertClose(r.groups.tv, 0.01 * tv, 'tv group');
    assertClose(r.total, r.groups.content + r.groups.style + r.groups.tv, 'total', 1e-6);
    targets.dispose();
  });

  it('gatys-code and johnson: mean-squared content, their Gram normalisation and default layer weights', () => {
    const c = sumSq(x('b', image).v, x('b', content).v) / x('b', image).v.length;
    for (const [normalization, styleLossOf, weights] of [
      ['gatys-code', jsGatysCode, [1e3 / K1 ** 2, 1e3 / K2 ** 2]],
      ['johnson', jsJohnson, [1, 1]],
    ] as const) {
      const { objective, targets, r } = run({ ...base, normalization });
      assert.deepEqual(objective.sum.parts[1]!.objective.name, 'style');
      const e = ['a', 'b'].map((l) => styleLossOf(x(l, image), x(l, style)));
      assertClose(r.terms['content/b']!, c, `${normalization} content`);
      e.forEach((el, i) => assertClose(r.terms[`style/${['a', 'b'][i]}`]!, el, `${normalization} E_l`, 1e-4));
      assertClose(r.groups.style, 100 * (weights[0] * e[0]! + weights[1] * e[1]!), `${normalization} style group`, 1e-4);
      targets.dispose();
    }
  });

  it('explicit style layer weights replace the defaults', () => {
    const { targets, r } = run({ ...base, styleLayerWeights: [3, 0] });
    assertClose(r.groups.style, 100 * 3 * r.terms['style/a']!, 'style group', 1e-6);
    targets.dispose();
  });

  it('texture synthesis: no content terms, a zero content group', () => {
    const { objective, targets, r } = run(base, false);
    assert.deepEqual(objective.termNames, ['style/a', 'style/b', 'tv/image']);
    assert.equal(r.groups.content, 0);
    assertClose(r.total, r.groups.style + r.groups.tv, 'total', 1e-6);
    targets.dispose();
  });

  it('refuses targets made for another normalization', () => {
    const targets = targetsFor(base);
    assert.throws(() => buildGatysObjective({ ...base, normalization: 'johnson' }, targets), /gatys2016.*johnson/);
    targets.dispose();
  });
});
