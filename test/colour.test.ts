/**
 * Colour control (Gatys et al. 2017 §5): the 3×3 algebra against its defining identities, YIQ against
 * the NTSC coefficients, luminance-only transfer and histogram matching against statistics recomputed
 * here in float64, and the tensor count of every op.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { chromaError } from '../src/lib/colour/chroma-error';
import { colourMatchMethod, colourMatchTransform, COLOUR_MATCH_METHODS, matchColourHistogram } from '../src/lib/colour/histogram-matching';
import { luminanceOnlyStyle, matchLuminance, recombineWithContentChroma } from '../src/lib/colour/luminance-transfer';
import { cholesky3, IDENTITY3, inverse3, multiply3, symmetricEigen3, symmetricPower3, transpose3, type Matrix3 } from '../src/lib/colour/matrix3';
import { originalColourMethod, originalColours, ORIGINAL_COLOUR_METHODS } from '../src/lib/colour/original-colours';
import { luminance, rgbToYiq, YIQ_TO_RGB, yiqToRgb } from '../src/lib/colour/yiq';
import { NstError } from '../src/lib/errors';
import { createRng } from '../src/lib/rng';

await initBackend('wasm');

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Reads a tensor made for the purpose and frees it. */
function read(make: () => tf.Tensor): Float32Array {
  const t = tf.tidy(make);
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

/** A [1,h,w,3] image whose colours are correlated: 0..255 uniform noise through a mixing matrix. */
function colourfulImage(h: number, w: number, seed: number, mix: Matrix3, offset: readonly number[]): tf.Tensor4D {
  const r = createRng(seed);
  const v = new Float32Array(h * w * 3);
  for (let p = 0; p < h * w; p++) {
    const u = [r(), r(), r()].map((x) => x * 255 - 127.5);
    for (let k = 0; k < 3; k++) v[p * 3 + k] = offset[k]! + mix[k * 3]! * u[0]! + mix[k * 3 + 1]! * u[1]! + mix[k * 3 + 2]! * u[2]!;
  }
  return tf.tensor4d(v, [1, h, w, 3]);
}

/** Mean and covariance of interleaved RGB values, in float64, written out here independently. */
function stats(v: ArrayLike<number>): { mean: number[]; cov: number[] } {
  const n = v.length / 3;
  const mean = [0, 1, 2].map((k) => {
    let s = 0;
    for (let p = 0; p < n; p++) s += v[p * 3 + k]!;
    return s / n;
  });
  const cov: number[] = [];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += (v[p * 3 + i]! - mean[i]!) * (v[p * 3 + j]! - mean[j]!);
      cov.push(s / n);
    }
  }
  return { mean, cov };
}

const moments1 = (v: ArrayLike<number>) => {
  const a = Array.from(v);
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  return { mean, std: Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length) };
};

/** Asserts value < limit, with both in the message (node's assert.ok without one re-parses the source). */
function assertBelow(value: number, limit: number, what = 'value'): void {
  assert.ok(value < limit, `${what}: ${value} is not below ${limit}`);
}

/** Runs `f` and asserts that it leaves no tensor behind. */
function assertNoLeak(f: () => void): void {
  const before = tf.memory().numTensors;
  f();
  assert.equal(tf.memory().numTensors, before, 'tensor count changed');
}

const STYLE_MIX: Matrix3 = [0.9, 0.3, 0.1, 0.2, 0.5, 0.0, 0.1, 0.4, 0.3];
const CONTENT_MIX: Matrix3 = [0.3, 0.1, 0.0, 0.25, 0.35, 0.05, 0.1, 0.2, 0.6];

describe('3×3 algebra', () => {
  const spd: Matrix3 = [4, 1.2, 0.5, 1.2, 3, -0.7, 0.5, -0.7, 2];

  it('Cholesky: L is lower triangular and L·Lᵀ = m', () => {
    const l = cholesky3(spd);
    assert.deepEqual([l[1], l[2], l[5]], [0, 0, 0]);
    assertBelow(maxAbs(multiply3(l, transpose3(l)), spd), 1e-14);
  });

  it('Jacobi eigen-decomposition: V orthonormal, V·Λ·Vᵀ = m, also for repeated eigenvalues', () => {
    for (const m of [spd, [2, 0, 0, 0, 2, 0, 0, 0, 5], [1, 1, 1, 1, 1, 1, 1, 1, 1]] as Matrix3[]) {
      const { values, vectors } = symmetricEigen3(m);
      assertBelow(maxAbs(multiply3(transpose3(vectors), vectors), IDENTITY3), 1e-14);
      const rebuilt = multiply3(vectors.map((x, k) => x * values[k % 3]!), transpose3(vectors));
      assert.ok(maxAbs(rebuilt, m) < 1e-13, `${m}: ${rebuilt}`);
    }
  });

  it('symmetric square root: (m^½)² = m, m^½·m^−½ = I, m^½ symmetric', () => {
    const root = symmetricPower3(spd, 0.5);
    assertBelow(maxAbs(multiply3(root, root), spd), 1e-13);
    assertBelow(maxAbs(multiply3(root, symmetricPower3(spd, -0.5)), IDENTITY3), 1e-13);
    assertBelow(maxAbs(root, transpose3(root)), 1e-14);
  });

  it('a covariance that is not positive definite is refused', () => {
    assert.throws(() => cholesky3([1, 1, 0, 1, 1, 0, 0, 0, 1]), NstError);
    assert.throws(() => symmetricPower3([1, 1, 0, 1, 1, 0, 0, 0, 1], 0.5), NstError);
  });
});

describe('YIQ', () => {
  it('is the NTSC matrix: pure red, green, blue and white', () => {
    const yiq = read(() => rgbToYiq(tf.tensor4d([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255], [1, 2, 2, 3])));
    const expected = [0.299, 0.596, 0.211, 0.587, -0.274, -0.523, 0.114, -0.322, 0.312, 1, 0, 0].map((x) => x * 255);
    assert.ok(maxAbs(yiq, expected) < 1e-4, `${Array.from(yiq)}`);
  });

  it('YIQ_TO_RGB is the exact inverse, with first column (1, 1, 1)', () => {
    assertBelow(maxAbs(inverse3(YIQ_TO_RGB), [0.299, 0.587, 0.114, 0.596, -0.274, -0.322, 0.211, -0.523, 0.312]), 1e-15);
    assertBelow(maxAbs([YIQ_TO_RGB[0]!, YIQ_TO_RGB[3]!, YIQ_TO_RGB[6]!], [1, 1, 1]), 1e-15);
  });

  it('RGB → YIQ → RGB round trip to 1e-6 (in 0..1 units)', () => {
    const rgb = tf.tidy(() => tf.div(colourfulImage(16, 16, 1, STYLE_MIX, [128, 128, 128]), 255) as tf.Tensor4D);
    const back = read(() => yiqToRgb(rgbToYiq(rgb)));
    assert.ok(maxAbs(back, rgb.dataSync()) <= 1e-6, `max error ${maxAbs(back, rgb.dataSync())}`);
    rgb.dispose();
  });

  it('leaves no tensors behind', () => {
    const rgb = colourfulImage(4, 4, 2, STYLE_MIX, [128, 128, 128]);
    assertNoLeak(() => tf.dispose(tf.tidy(() => [yiqToRgb(rgbToYiq(rgb)), luminance(rgb)])));
    rgb.dispose();
  });
});

describe('luminance-only transfer (§5.1)', () => {
  const style = colourfulImage(12, 10, 3, STYLE_MIX, [150, 90, 60]);
  const content = colourfulImage(8, 8, 4, CONTENT_MIX, [100, 120, 140]);
  const result = colourfulImage(8, 8, 5, STYLE_MIX, [120, 100, 90]);

  it("matchLuminance gives the style's luminance the content's mean and standard deviation", () => {
    const matched = moments1(read(() => matchLuminance(luminance(style), luminance(content))));
    const target = moments1(read(() => luminance(content)));
    assert.ok(Math.abs(matched.mean - target.mean) < 1e-3, `${matched.mean} vs ${target.mean}`);
    assert.ok(Math.abs(matched.std - target.std) < 1e-3, `${matched.std} vs ${target.std}`);
  });

  it('luminanceOnlyStyle is grey with the matched luminance', () => {
    const v = read(() => luminanceOnlyStyle(style, content));
    for (let p = 0; p < v.length; p += 3) assert.ok(v[p] === v[p + 1] && v[p] === v[p + 2], `pixel ${p / 3} is not grey`);
    const y = read(() => matchLuminance(luminance(style), luminance(content)));
    assertBelow(maxAbs(v.filter((_, i) => i % 3 === 0), y), 1e-4);
  });

  it("the recombined result has the content's I and Q and the result's Y", () => {
    const out = read(() => rgbToYiq(recombineWithContentChroma(result, content)));
    const c = read(() => rgbToYiq(content));
    const r = read(() => rgbToYiq(result));
    const channel = (v: Float32Array, k: number) => v.filter((_, i) => i % 3 === k);
    // 0..255 units; float32 rounding of values up to ~255.
    assertBelow(maxAbs(channel(out, 1), channel(c, 1)), 1e-4);
    assertBelow(maxAbs(channel(out, 2), channel(c, 2)), 1e-4);
    assertBelow(maxAbs(channel(out, 0), channel(r, 0)), 1e-4);
  });

  it('leaves no tensors behind', () => {
    assertNoLeak(() => tf.dispose([luminanceOnlyStyle(style, content), recombineWithContentChroma(result, content)]));
  });
});

describe('colour histogram matching (§5.2)', () => {
  const style = colourfulImage(20, 24, 6, STYLE_MIX, [150, 90, 60]);
  const content = colourfulImage(16, 16, 7, CONTENT_MIX, [100, 120, 140]);
  const target = stats(content.dataSync());

  for (const method of COLOUR_MATCH_METHODS) {
    it(`${method}: the matched style image has the content's mean and covariance to 1e-4 (0..1 units)`, () => {
      const matched = stats(read(() => matchColourHistogram(style, content, method)));
      const meanError = maxAbs(matched.mean, target.mean) / 255;
      const covError = maxAbs(matched.cov, target.cov) / 255 ** 2;
      assert.ok(meanError < 1e-4 && covError < 1e-4, `mean error ${meanError}, covariance error ${covError}`);
      // It did move: the style's own statistics were far from the content's.
      assert.ok(maxAbs(stats(style.dataSync()).cov, target.cov) / 255 ** 2 > 1e-2, 'the style should start far from the content');
    });
  }

  it('the variants are what their names say: Cholesky A lower triangular, eigen A symmetric for a white source', () => {
    const white = { mean: [0, 0, 0], covariance: IDENTITY3 };
    const t = { mean: [1, 2, 3], covariance: [4, 1.2, 0.5, 1.2, 3, -0.7, 0.5, -0.7, 2] };
    const chol = colourMatchTransform(white, t, 'cholesky', 0).a;
    assert.deepEqual([chol[1], chol[2], chol[5]], [0, 0, 0]);
    const eig = colourMatchTransform(white, t, 'eigen', 0).a;
    assertBelow(maxAbs(eig, transpose3(eig)), 1e-14);
    assert.ok(maxAbs(chol, eig) > 0.1, 'the two variants should differ');
  });

  it('a flat style image becomes the content mean instead of failing (ε·I)', () => {
    const flat = tf.fill([1, 4, 4, 3], 200) as tf.Tensor4D;
    const out = stats(read(() => matchColourHistogram(flat, content, 'cholesky')));
    assertBelow(maxAbs(out.mean, target.mean), 1e-3);
    flat.dispose();
  });

  it('unknown method names are refused with the allowed ones', () => {
    assert.throws(() => colourMatchMethod('lab'), (e: unknown) => e instanceof NstError && /cholesky, eigen/.test(e.hint ?? ''));
    assert.throws(() => originalColourMethod('yuv'), (e: unknown) => e instanceof NstError && /luminance, cholesky, eigen/.test(e.hint ?? ''));
  });

  it('leaves no tensors behind', () => {
    assertNoLeak(() => tf.dispose(COLOUR_MATCH_METHODS.map((m) => matchColourHistogram(style, content, m))));
  });
});

describe('original colours and chroma error', () => {
  const content = colourfulImage(8, 8, 8, CONTENT_MIX, [100, 120, 140]);
  const result = colourfulImage(8, 8, 9, STYLE_MIX, [150, 90, 60]);

  it('chroma error is the RMS IQ distance: a constant colour against grey, by hand', () => {
    const grey = tf.fill([1, 4, 4, 3], 90) as tf.Tensor4D;
    const orange = tf.tidy(() => tf.mul(tf.ones([1, 4, 4, 3]), tf.tensor1d([200, 120, 30])) as tf.Tensor4D);
    const i = 0.596 * 200 - 0.274 * 120 - 0.322 * 30;
    const q = 0.211 * 200 - 0.523 * 120 + 0.312 * 30;
    assertBelow(Math.abs(chromaError(orange, grey) - Math.hypot(i, q)), 1e-3);
    assert.equal(chromaError(grey, grey), 0);
    tf.dispose([grey, orange]);
  });

  it('luminance: chroma error 0 and the result kept its luminance; a smaller content image is resized', () => {
    assert.ok(chromaError(result, content) > 10, 'the result should start with other colours');
    const out = originalColours(result, content, 'luminance');
    assertBelow(chromaError(out, content), 1e-3);
    assertBelow(maxAbs(read(() => luminance(out)), read(() => luminance(result))), 1e-4);
    const small = tf.tidy(() => tf.image.resizeBilinear(content, [4, 4]) as tf.Tensor4D);
    const resized = originalColours(result, small, 'luminance');
    assert.deepEqual(resized.shape, result.shape);
    tf.dispose([out, small, resized]);
  });

  for (const method of COLOUR_MATCH_METHODS) {
    it(`${method}: the result's colour statistics become the content's and the chroma error falls`, () => {
      const out = originalColours(result, content, method);
      const s = stats(out.dataSync());
      const target = stats(content.dataSync());
      assertBelow(maxAbs(s.mean, target.mean) / 255, 1e-4, 'mean error');
      assertBelow(maxAbs(s.cov, target.cov) / 255 ** 2, 1e-4, 'covariance error');
      assertBelow(chromaError(out, content), chromaError(result, content), 'chroma error after');
      out.dispose();
    });
  }

  it('leaves no tensors behind', () => {
    assertNoLeak(() => {
      tf.dispose(ORIGINAL_COLOUR_METHODS.map((m) => originalColours(result, content, m)));
      chromaError(result, content);
    });
  });
});
