/**
 * The native backend (src/lib/native/: the wasm backend with oneDNN convolutions and products): each
 * native kernel against the wasm kernel it replaces on random operands (the max-pooling gradient against
 * the forward-op gradient wasm runs), both convolution algorithms,
 * the fallback to wasm for what the pack does not take, the convolution's input gradient and the Gram
 * matrix through the network's own ops, a flat tensor count over iterations, and `nst bench`.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { runBench } from '../src/lib/bench/bench';
import { NstError } from '../src/lib/errors';
import { loadNativeAddon, type ConvShape } from '../src/lib/native/addon';
import { startNative } from '../src/lib/native/backend';
import { convPlansOf } from '../src/lib/native/kernels';
import { conv2dBiasRelu } from '../src/lib/net/conv';
import { gramMatrix } from '../src/lib/net/gram-matrix';
import { maxPool } from '../src/lib/net/layers/ops';
import { nativeSkip } from './helpers/native';

const skip = nativeSkip();

/** |actual − expected| ≤ rel · max|expected|, elementwise. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  assert.ok(scale > 0, `${what}: expected values are all zero`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= rel * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (scale ${scale})`);
  }
}

/**
 * f's values on native, then on wasm. Both names are one backend instance (one heap, the same
 * tensors), so the operands need no copy and only the kernels differ.
 */
async function nativeAndWasm(f: () => tf.Tensor): Promise<[Float32Array, Float32Array]> {
  await tf.setBackend('native');
  const a = tf.tidy(f);
  await tf.setBackend('wasm');
  const b = tf.tidy(f);
  await tf.setBackend('native');
  const values = [a.dataSync() as Float32Array, b.dataSync() as Float32Array] as [Float32Array, Float32Array];
  tf.dispose([a, b]);
  return values;
}

const normal = (shape: number[], seed: number, sd = 1) => tf.randomNormal(shape, 0, sd, 'float32', seed);

describe('native backend', { skip }, () => {
  before(async () => {
    await initBackend('native');
  });

  it('reports oneDNN, its ISA and the thread count', async () => {
    const info = await initBackend('native');
    assert.equal(info.name, 'native');
    assert.match(info.device, /^CPU \(oneDNN \d+\.\d+\.\d+ \S+ (Winograd|direct) \+ WebAssembly SIMD, \d+ threads?\)$/);
    assert.equal(loadNativeAddon().info().threads, Number(/(\d+) thread/.exec(info.device)![1]));
  });

  const convCases = [
    { what: 'conv1_1-like 3→16, 3×3 SAME, bias + ReLU', x: [1, 20, 20, 3], k: [3, 3, 3, 16], strides: 1, pad: 'same', activation: 'relu' },
    { what: '64→64, 3×3 SAME, bias + ReLU', x: [1, 16, 16, 64], k: [3, 3, 64, 64], strides: 1, pad: 'same', activation: 'relu' },
    { what: 'batch of 2, 16→24, 3×3 SAME, bias, no activation', x: [2, 8, 9, 16], k: [3, 3, 16, 24], strides: 1, pad: 'same', activation: 'linear' },
    { what: '24→40, 3×3 stride 2 SAME, no bias', x: [1, 15, 13, 24], k: [3, 3, 24, 40], strides: 2, pad: 'same' },
    { what: '16→8, 5×5 VALID, dilation 2, no bias', x: [1, 14, 12, 16], k: [5, 5, 16, 8], strides: 1, pad: 'valid', dilations: 2 },
    { what: '8→32, 1×1, explicit uneven padding, bias', x: [1, 9, 9, 8], k: [1, 1, 8, 32], strides: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]], activation: 'linear' },
  ] as const;

  for (const [i, c] of convCases.entries()) {
    it(`convolution equals wasm's: ${c.what}`, async () => {
      const x = normal([...c.x], 10 * i + 1);
      const k = normal([...c.k], 10 * i + 2, Math.sqrt(2 / (c.k[0] * c.k[1] * c.k[2])));
      const bias = normal([c.k[3]], 10 * i + 3, 0.1);
      const dilations = 'dilations' in c ? c.dilations : 1;
      const pad = c.pad as 'same' | 'valid' | tf.backend_util.ExplicitPadding;
      const f = 'activation' in c
        ? () => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: k as tf.Tensor4D, strides: c.strides, pad, dilations, bias, activation: c.activation })
        : () => tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, c.strides, pad, 'NHWC', dilations);
      const [ours, wasm] = await nativeAndWasm(f);
      assertClose(ours, wasm, 1e-4, c.what);
      assert.equal(convPlansOf(loadNativeAddon(), k).length, 1, 'ran on oneDNN (one plan for the filter)');
      tf.dispose([x, k, bias]);
    });
  }

  const depthwiseCases = [
    { what: '24 channels, 3×3 stride 2 SAME, no bias', x: [1, 17, 15, 24], k: [3, 3, 24, 1], strides: 2, pad: 'same' },
    { what: 'multiplier 2, 3×3 explicit padding, bias + ReLU', x: [1, 12, 12, 8], k: [3, 3, 8, 2], strides: 1, pad: [[0, 0], [1, 1], [0, 1], [0, 0]], activation: 'relu' },
    { what: 'batch of 2, 5×5 VALID, bias, no activation', x: [2, 11, 9, 16], k: [5, 5, 16, 1], strides: 1, pad: 'valid', activation: 'linear' },
  ] as const;

  for (const [i, c] of depthwiseCases.entries()) {
    it(`depthwise convolution equals wasm's: ${c.what}`, async () => {
      const x = normal([...c.x], 50 + 10 * i);
      const k = normal([...c.k], 51 + 10 * i, 0.3);
      const bias = normal([c.k[2] * c.k[3]], 52 + 10 * i, 0.1);
      const pad = c.pad as 'same' | 'valid';
      const f = 'activation' in c
        ? () => tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: k as tf.Tensor4D, strides: c.strides, pad, bias, activation: c.activation })
        : () => tf.depthwiseConv2d(x as tf.Tensor4D, k as tf.Tensor4D, c.strides, pad);
      const [ours, wasm] = await nativeAndWasm(f);
      assertClose(ours, wasm, 1e-5, c.what);
      assert.equal(convPlansOf(loadNativeAddon(), k).length, 1, 'ran on oneDNN (one plan for the filter)');
      tf.dispose([x, k, bias]);
    });
  }

  // ReLU outputs: many windows whose maximum is 0 (ties), where wasm's own MaxPoolGrad goes wrong.
  for (const [size, strides, padding] of [[3, 2, 'valid'], [3, 2, 'same'], [2, 2, 'same'], [3, 1, 'same']] as const) {
    it(`max pooling's gradient (${size}×${size}, stride ${strides}, ${padding}) equals the forward-op gradient on wasm`, async () => {
      const x = tf.relu(normal([2, 13, 11, 5], 60 + size + strides)) as tf.Tensor4D;
      const probe = normal(tf.maxPool(x, size, strides, padding).shape, 61);
      const f = () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(maxPool(t as tf.Tensor4D, [size, size], [strides, strides], padding), probe)))(x);
      const [ours, wasm] = await nativeAndWasm(f);
      // Where windows overlap, the two add a pixel's shares in different orders.
      assertClose(ours, wasm, 1e-6, 'gradient');
      tf.dispose([x, probe]);
    });
  }

  for (const [h, ci, co] of [[32, 64, 64], [24, 3, 16], [24, 16, 3]] as const) {
    it(`direct and Winograd plans both equal wasm at ${h}×${h}, ${ci}→${co} (3×3 SAME, bias + ReLU)`, async () => {
      const addon = loadNativeAddon();
      const x = normal([1, h, h, ci], h + ci);
      const k = normal([3, 3, ci, co], h + ci + 1, Math.sqrt(2 / (9 * ci)));
      const bias = normal([co], h + ci + 2, 0.1);
      const [, expected] = await nativeAndWasm(() => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: k as tf.Tensor4D, strides: 1, pad: 'same', bias, activation: 'relu' }));
      const shape: ConvShape = { n: 1, h, w: h, ci, co, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padT: 1, padL: 1, padB: 1, padR: 1, oh: h, ow: h, g: 1, relu: true, bias: true };
      for (const choice of ['direct', 'winograd'] as const) {
        const plan = addon.convPlan(shape, k.dataSync() as Float32Array, choice);
        const y = new Float32Array(h * h * co);
        addon.convRun(plan, x.dataSync() as Float32Array, bias.dataSync() as Float32Array, y);
        assertClose(y, expected, 1e-4, choice);
        assert.equal(addon.convInfo(plan).algorithm, choice === 'winograd' && !addon.info().winograd ? 'direct' : choice);
      }
      tf.dispose([x, k, bias]);
    });
  }

  it('auto picks the algorithm by a fixed rule of the shape (the same in every process)', () => {
    const addon = loadNativeAddon();
    const algorithm = (h: number, ci: number, co: number, k = 3, stride = 1) => {
      const oh = Math.ceil(h / stride);
      const shape: ConvShape = { n: 1, h, w: h, ci, co, kh: k, kw: k, sh: stride, sw: stride, dh: 1, dw: 1, padT: (k - 1) >> 1, padL: (k - 1) >> 1, padB: k >> 1, padR: k >> 1, oh, ow: oh, g: 1, relu: false, bias: false };
      const plan = addon.convPlan(shape, new Float32Array(k * k * ci * co), 'auto');
      const { algorithm: chosen } = addon.convInfo(plan);
      addon.convRelease(plan);
      return chosen;
    };
    const winograd = addon.info().winograd ? 'winograd' : 'direct';
    assert.equal(algorithm(32, 64, 64), winograd);
    assert.equal(algorithm(64, 128, 256), winograd);
    assert.equal(algorithm(64, 3, 64), 'direct', 'three channels in');
    assert.equal(algorithm(64, 64, 32), 'direct', 'fewer than 64 out');
    assert.equal(algorithm(16, 512, 512), 'direct', 'a map under 32×32');
    assert.equal(algorithm(64, 64, 64, 3, 2), 'direct', 'stride 2');
    assert.equal(algorithm(64, 64, 64, 1), 'direct', '1×1');
  });

  it('frees a filter\'s plans when the filter is disposed', async () => {
    const x = normal([1, 8, 8, 16], 41);
    const k = normal([3, 3, 16, 16], 42, 0.1);
    tf.dispose(tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, 1, 'same'));
    assert.equal(convPlansOf(loadNativeAddon(), k).length, 1);
    k.dispose();
    assert.equal(convPlansOf(loadNativeAddon(), k).length, 0);
    x.dispose();
  });

  it('leaves to wasm what it does not take (an ELU activation)', async () => {
    const x = normal([1, 8, 8, 4], 21);
    const k = normal([3, 3, 4, 8], 22, 0.3);
    const bias = normal([8], 23, 0.1);
    const [ours, wasm] = await nativeAndWasm(() => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: k as tf.Tensor4D, strides: 1, pad: 'same', bias, activation: 'elu' }));
    assert.deepEqual(ours, wasm);
    assert.equal(convPlansOf(loadNativeAddon(), k).length, 0);
    tf.dispose([x, k, bias]);
  });

  const products = [
    { what: 'Aᵀ·B (the Gram product)', a: [64, 32], b: [64, 48], ta: true, tb: false },
    { what: 'A·Bᵀ', a: [5, 7], b: [6, 7], ta: false, tb: true },
    { what: 'Aᵀ·Bᵀ', a: [7, 5], b: [6, 7], ta: true, tb: true },
    { what: 'batched', a: [3, 4, 5], b: [3, 5, 6], ta: false, tb: false },
    { what: 'a batch of one broadcast', a: [1, 4, 5], b: [3, 5, 6], ta: false, tb: false },
    { what: 'rank 4', a: [2, 3, 4, 5], b: [2, 3, 5, 2], ta: false, tb: false },
  ] as const;

  for (const [i, p] of products.entries()) {
    it(`matrix product equals wasm's: ${p.what}`, async () => {
      const a = normal([...p.a], 100 + i);
      const b = normal([...p.b], 200 + i);
      const [ours, wasm] = await nativeAndWasm(() => tf.matMul(a, b, p.ta, p.tb));
      assertClose(ours, wasm, 1e-4, p.what);
      tf.dispose([a, b]);
    });
  }

  for (const [shape, axes] of [[[1, 6, 5, 3], [3]], [[2, 4, 3, 5], [0, 2]], [[7], [0]], [[3, 4], [1]]] as const) {
    it(`reversal equals wasm's: shape ${shape.join('×')}, axes ${axes.join(',')}`, async () => {
      const x = normal([...shape], shape.length * 7 + axes[0]);
      const [ours, wasm] = await nativeAndWasm(() => tf.reverse(x, [...axes]));
      assert.deepEqual(ours, wasm);
      x.dispose();
    });
  }

  it('the convolution\'s input gradient and the Gram matrix (value and gradient) equal wasm\'s', async () => {
    const x = normal([1, 16, 16, 32], 31);
    const k = normal([3, 3, 32, 64], 32, Math.sqrt(2 / 288));
    const bias = normal([64], 33, 0.1);
    const probe = normal([64, 64], 34);
    const loss = (t: tf.Tensor) => {
      const y = conv2dBiasRelu(t as tf.Tensor4D, k as tf.Tensor4D, bias as tf.Tensor1D);
      return tf.sum(tf.mul(gramMatrix(tf.reshape(y, [256, 64]) as tf.Tensor2D), probe));
    };
    const [value, valueWasm] = await nativeAndWasm(() => loss(x));
    assertClose(value, valueWasm, 1e-4, 'value');
    const [grad, gradWasm] = await nativeAndWasm(() => tf.grad(loss)(x));
    assertClose(grad, gradWasm, 1e-4, 'gradient');
    tf.dispose([x, k, bias, probe]);
  });

  it('keeps the tensor count flat over benchmark iterations', async () => {
    const r = await runBench({ size: 32, iterations: 3, warmup: 1, backend: 'native' });
    assert.equal(r.backend, 'native');
    assert.deepEqual(r.tensor_counts, r.tensor_counts.map(() => r.tensor_counts[0]), `counts: ${r.tensor_counts.join(',')}`);
    assert.match(r.machine.kernelIsa, /^oneDNN \S+ convolutions and products, wasm SIMD128 elsewhere \(\d+ threads?\)$/);
  });

  it('nst bench --backend native runs and says so', () => {
    const out = execFileSync(process.execPath, ['bin/nst.mjs', 'bench', '--backend', 'native', '--size', '32', '--iterations', '2', '--warmup', '0'], { encoding: 'utf8' });
    assert.match(out, /^backend: native — CPU \(oneDNN /m);
    assert.match(out, /kernels: oneDNN /);
    assert.match(out, /per iteration: median \d+ ms/);
  });

  it('rejects an unknown NST_NATIVE_CONV before starting', async () => {
    process.env.NST_NATIVE_CONV = 'fastest';
    try {
      await assert.rejects(startNative(), (e: unknown) => e instanceof NstError && /NST_NATIVE_CONV='fastest'/.test(e.message) && /auto, direct, winograd/.test(e.hint ?? ''));
    } finally {
      delete process.env.NST_NATIVE_CONV;
    }
  });
});
