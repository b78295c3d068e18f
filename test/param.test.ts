/**
 * Image parameterisations: what toRgb shows, where the gradient goes (against finite differences of a
 * loss computed here in float64), the factory's refusals, and the tensor count.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { rgbToYiq } from '../src/lib/colour/yiq';
import { NstError } from '../src/lib/errors';
import { createImageParam } from '../src/lib/param/factory';
import type { ImageParam } from '../src/lib/param/image-param';
import { createRng } from '../src/lib/rng';

await initBackend('wasm');

const H = 5;
const W = 6;

function randomImage(seed: number, lo = 0, hi = 255, channels = 3): tf.Tensor4D {
  const r = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: H * W * channels }, () => lo + (hi - lo) * r()), [1, H, W, channels]);
}

/** Reads a tensor made for the purpose and frees it. */
function read(make: () => tf.Tensor): Float32Array {
  const t = tf.tidy(make);
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}
const rgbOf = (param: ImageParam) => read(() => param.toRgb());

const channel = (v: Float32Array, k: number) => v.filter((_, i) => i % 3 === k);
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  return Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
};
function assertBelow(value: number, limit: number, what: string): void {
  assert.ok(value < limit, `${what}: ${value} is not below ${limit}`);
}

/** L = Σ w·rgb², evaluated in float64 on the host from the RGB values. */
const weights = Array.from(randomImage(99, -1, 1).dataSync());
const hostLoss = (rgb: ArrayLike<number>) => weights.reduce((s, w, i) => s + w * rgb[i]! ** 2, 0);
const tensorLoss = (rgb: tf.Tensor4D) => tf.sum(tf.mul(tf.tensor4d(weights, [1, H, W, 3]), tf.square(rgb))) as tf.Scalar;

/** The gradient of the loss with respect to every trainable variable the closure touches. */
function gradients(param: ImageParam): { names: string[]; grad: Float32Array } {
  const { value, grads } = tf.variableGrads(() => tf.tidy(() => tensorLoss(param.toRgb())));
  const names = Object.keys(grads);
  const grad = grads[param.variable.name]!.dataSync() as Float32Array;
  tf.dispose([value, ...Object.values(grads)]);
  return { names, grad };
}

/** Central differences of the host loss at a few entries of the variable. */
function finiteDifferences(param: ImageParam, entries: number[], h = 0.5): number[] {
  const base = Float32Array.from(param.variable.dataSync());
  const at = (x: Float32Array) => {
    tf.tidy(() => param.variable.assign(tf.tensor(x, param.variable.shape)));
    return hostLoss(rgbOf(param));
  };
  const out = entries.map((e) => {
    const plus = Float32Array.from(base);
    const minus = Float32Array.from(base);
    plus[e]! += h;
    minus[e]! -= h;
    return (at(plus) - at(minus)) / (2 * h);
  });
  tf.tidy(() => param.variable.assign(tf.tensor(base, param.variable.shape)));
  return out;
}

describe('pixels', () => {
  const init = randomImage(1);

  it('toRgb is the image; setFromRgb replaces it', () => {
    const p = createImageParam('pixels', init);
    assert.deepEqual(p.variable.shape, [1, H, W, 3]);
    assert.equal(maxAbs(rgbOf(p), init.dataSync()), 0);
    const other = randomImage(2);
    p.setFromRgb(other);
    assert.equal(maxAbs(rgbOf(p), other.dataSync()), 0);
    tf.dispose([other]);
    p.dispose();
  });

  it('the gradient is dL/drgb, against finite differences', () => {
    const p = createImageParam('pixels', init);
    const { names, grad } = gradients(p);
    assert.deepEqual(names, [p.variable.name]);
    const entries = [0, 7, 31, H * W * 3 - 1];
    const fd = finiteDifferences(p, entries);
    entries.forEach((e, k) => assertBelow(Math.abs(grad[e]! - fd[k]!), 1e-2 * Math.max(1, Math.abs(fd[k]!)), `entry ${e}`));
    p.dispose();
  });
});

describe('luminance', () => {
  const init = randomImage(3);
  const content = randomImage(4);
  const contentYiq = read(() => rgbToYiq(content));
  const yiqOf = (p: ImageParam) => read(() => rgbToYiq(p.toRgb()));

  it("the variable is Y only; toRgb has the content's I and Q and the variable's Y, whatever Y is", () => {
    const p = createImageParam('luminance', init, { content });
    assert.deepEqual(p.variable.shape, [1, H, W, 1]);
    const initY = channel(read(() => rgbToYiq(init)), 0);
    for (const step of [0, 1]) {
      if (step === 1) tf.tidy(() => p.setFromRgb(tf.mul(init, 0.3) as tf.Tensor4D));
      const yiq = yiqOf(p);
      // 0..255 units: float32 rounding of the I and Q rows' products.
      assertBelow(maxAbs(channel(yiq, 1), channel(contentYiq, 1)), 1e-4, `I after step ${step}`);
      assertBelow(maxAbs(channel(yiq, 2), channel(contentYiq, 2)), 1e-4, `Q after step ${step}`);
      assertBelow(maxAbs(channel(yiq, 0), p.variable.dataSync()), 1e-4, `Y after step ${step}`);
    }
    assertBelow(maxAbs(p.variable.dataSync(), initY.map((y) => 0.3 * y)), 1e-3, 'setFromRgb takes the luminance');
    p.dispose();
  });

  it('the gradient flows only into Y: one variable, [1,H,W,1], equal to finite differences', () => {
    const p = createImageParam('luminance', init, { content });
    const { names, grad } = gradients(p);
    assert.deepEqual(names, [p.variable.name]);
    assert.equal(grad.length, H * W);
    const entries = [0, 5, 17, H * W - 1];
    const fd = finiteDifferences(p, entries);
    entries.forEach((e, k) => assertBelow(Math.abs(grad[e]! - fd[k]!), 1e-2 * Math.max(1, Math.abs(fd[k]!)), `pixel ${e}`));
    // And by hand: dL/dY = Σ_c 2·w_c·rgb_c.
    const rgb = rgbOf(p);
    const byHand = Array.from({ length: H * W }, (_, q) => [0, 1, 2].reduce((s, c) => s + 2 * weights[q * 3 + c]! * rgb[q * 3 + c]!, 0));
    assertBelow(maxAbs(grad, byHand), 1e-2, 'gradient against Σ_c 2·w_c·rgb_c');
    p.dispose();
  });

  it('chroma grey shows the network a grey image of Y', () => {
    const p = createImageParam('luminance', init, { content, chroma: 'grey' });
    const rgb = rgbOf(p);
    const y = p.variable.dataSync();
    for (const k of [0, 1, 2]) assert.equal(maxAbs(channel(rgb, k), y), 0);
    p.dispose();
  });
});

describe('factory', () => {
  const init = randomImage(5);

  it('refuses unknown names, a missing content image, unknown chroma and other sizes', () => {
    assert.throws(() => createImageParam('fft', init, {}, '--param'), (e: unknown) => e instanceof NstError && /--param/.test(e.message) && /pixels, luminance/.test(e.hint ?? ''));
    assert.throws(() => createImageParam('luminance', init), (e: unknown) => e instanceof NstError && /content/.test(e.message));
    assert.throws(() => createImageParam('luminance', init, { content: init, chroma: 'sepia' as 'grey' }), NstError);
    const small = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    assert.throws(() => createImageParam('luminance', init, { content: small }), (e: unknown) => e instanceof NstError && /content image/.test(e.message));
    const p = createImageParam('pixels', init);
    assert.throws(() => p.setFromRgb(small), NstError);
    p.dispose();
    small.dispose();
  });

  it('leaves the tensor count flat: create, toRgb, gradients, setFromRgb, dispose', () => {
    const before = tf.memory().numTensors;
    for (const [name, chroma] of [['pixels', undefined], ['luminance', 'content'], ['luminance', 'grey']] as const) {
      const p = createImageParam(name, init, { content: init, chroma });
      p.toRgb().dispose();
      gradients(p);
      p.setFromRgb(init);
      p.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
  });
});
