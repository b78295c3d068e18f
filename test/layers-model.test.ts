/**
 * The layers-model adapter against tfjs-layers itself: a tiny model with every supported layer kind,
 * built and saved by the test, read back through model.json + weights.bin. Its taps equal tfjs-layers'
 * predict; its image gradients equal tfjs' autodiff of the unmodified layers on the cpu backend (an
 * independent computation) and central finite differences; folded BatchNorm equals BatchNorm; the
 * tensor count is flat; unsupported layers and unknown taps fail naming the file and the layer.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { NstError } from '../src/lib/errors';
import { foldNorm } from '../src/lib/net/layers/fold';
import { windowPads } from '../src/lib/net/layers/geometry';
import { buildLayersModel, readLayersModel, type KernelWeights } from '../src/lib/net/layers/model';
import { createLayersNetwork, loadLayersNetwork, type LayersNetwork } from '../src/lib/net/layers/network';
import { avgPool, convolve, maxPool, transposeKernel, type Kernel, type Pads } from '../src/lib/net/layers/ops';
import type { Pair, Padding } from '../src/lib/net/layers/topology';
import { gramMatrix } from '../src/lib/net/gram-matrix';

const tmp = mkdtempSync(join(tmpdir(), 'nst-layers-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const HEIGHT = 27;
const WIDTH = 23;

/** Deterministic uniform values in [lo, hi). */
function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

/**
 * Every supported kind: ZeroPadding2D → strided VALID Conv2D without bias → BN without scale → ReLU6 (one
 * fusable chain); depthwise SAME → BN → Activation(relu); 1×1 Conv2D with bias → BN without center; Add;
 * BN after the Add (not foldable); MaxPooling 3×3/2; 1×3 Conv2D with built-in relu, 3×1 with relu6,
 * MaxPooling 2×2/1 SAME, AveragePooling 3×3/1 SAME; Concatenate; strided SAME depthwise with bias and a
 * strided SAME Conv2D; an even 2×2 VALID Conv2D; Dropout; a 1×1 stride-2 Conv2D whose transpose crops;
 * then a Flatten + Dense head.
 */
function tinyModel(): tf.LayersModel {
  const L = tf.layers;
  type S = tf.SymbolicTensor;
  const image = tf.input({ shape: [HEIGHT, WIDTH, 3], name: 'image' });
  const pad0 = L.zeroPadding2d({ padding: [[1, 0], [0, 1]], name: 'pad0' }).apply(image) as S;
  const c1 = L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'c1' }).apply(pad0) as S;
  const bn1 = L.batchNormalization({ scale: false, name: 'bn1' }).apply(c1) as S;
  const r1 = L.reLU({ maxValue: 6, name: 'r1' }).apply(bn1) as S;
  const dw = L.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'dw' }).apply(r1) as S;
  const bn2 = L.batchNormalization({ name: 'bn2' }).apply(dw) as S;
  const a2 = L.activation({ activation: 'relu', name: 'a2' }).apply(bn2) as S;
  const c3 = L.conv2d({ filters: 8, kernelSize: 1, name: 'c3' }).apply(a2) as S;
  const bn3 = L.batchNormalization({ center: false, name: 'bn3' }).apply(c3) as S;
  const sum = L.add({ name: 'add' }).apply([r1, bn3]) as S;
  const bnAdd = L.batchNormalization({ name: 'bn_add' }).apply(sum) as S;
  const mp = L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'mp' }).apply(bnAdd) as S;
  const c4 = L.conv2d({ filters: 6, kernelSize: [1, 3], padding: 'same', activation: 'relu', name: 'c4' }).apply(mp) as S;
  const mp2 = L.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'mp2' }).apply(c4) as S;
  const c5 = L.conv2d({ filters: 4, kernelSize: [3, 1], padding: 'same', activation: 'relu6', name: 'c5' }).apply(mp) as S;
  const ap = L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'ap' }).apply(mp) as S;
  const cat = L.concatenate({ name: 'cat' }).apply([mp2, c5, ap]) as S;
  const dws = L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', name: 'dw_s' }).apply(cat) as S;
  const c7 = L.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', name: 'c7' }).apply(cat) as S;
  const cat2 = L.concatenate({ name: 'cat2' }).apply([dws, c7]) as S;
  const c6 = L.conv2d({ filters: 5, kernelSize: 2, padding: 'valid', name: 'c6' }).apply(cat2) as S;
  const drop = L.dropout({ rate: 0.5, name: 'drop' }).apply(c6) as S;
  const c8 = L.conv2d({ filters: 3, kernelSize: 1, strides: 2, name: 'c8' }).apply(a2) as S;
  const flat = L.flatten({ name: 'flat' }).apply(drop) as S;
  const logits = L.dense({ units: 3, name: 'logits' }).apply(flat) as S;
  const model = tf.model({ inputs: image, outputs: [logits, c8], name: 'tiny' });
  // Non-trivial weights: He-scaled kernels, BN statistics far from (0, 1).
  let seed = 1;
  for (const layer of model.layers) {
    const values = layer.weights.map((w) => {
      const shape = w.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      const role = w.name.split('/').pop()!;
      const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1) / (layer.getClassName() === 'DepthwiseConv2D' ? shape[2]! : 1);
      const data =
        role === 'moving_variance' ? uniform(n, seed++, 0.3, 2.5)
        : role === 'gamma' ? uniform(n, seed++, 0.5, 1.8)
        : /kernel/.test(role) ? uniform(n, seed++, -1, 1).map((v) => v * Math.sqrt(6 / fanIn))
        : uniform(n, seed++, -0.4, 0.4);
      return tf.tensor(data, shape);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
  return model;
}

/** Writes model.json + weights.bin as tfjs-converter lays them out (tfjs has no file:// handler without tfjs-node). */
async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      writeFileSync(join(dir, 'weights.bin'), Buffer.from(a.weightData as ArrayBuffer));
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** |a − e| ≤ rel · max|e| elementwise. */
function assertClose(actual: tf.Tensor, expected: tf.Tensor, rel: number, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let scale = 0;
  for (const v of e) scale = Math.max(scale, Math.abs(v));
  assert.ok(scale > 0, `${what}: expected all zeros`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - e[i]!));
  assert.ok(worst <= rel * scale, `${what}: max error ${worst} > ${rel} × ${scale}`);
}

/** The RGB test image, 0..255. */
const rgbImage = () => tf.tensor4d(uniform(HEIGHT * WIDTH * 3, 99, 0, 255), [1, HEIGHT, WIDTH, 3]);

/** Gatys' style loss shape: Σ over taps of ‖FᵀF/M‖². */
function gramLoss(maps: Record<string, tf.Tensor4D>): tf.Scalar {
  return tf.addN(
    Object.values(maps).map((f) => {
      const [, h, w, c] = f.shape;
      return tf.sum(tf.square(tf.div(gramMatrix(tf.reshape(f, [h * w, c]) as tf.Tensor2D), h * w)));
    }),
  ) as tf.Scalar;
}

const GRAD_TAPS = ['r1', 'cat', 'c6', 'c8'];

let model: tf.LayersModel;
const dir = join(tmp, 'tiny');

before(async () => {
  await initBackend('wasm');
  model = tinyModel();
  await saveModel(model, dir);
});

/** The tfjs-layers layers that are taps (everything but the input and the head), in graph order. */
const tapLayers = () => model.layers.filter((l) => !['InputLayer', 'Flatten', 'Dense'].includes(l.getClassName()));

/**
 * The unmodified layers applied eagerly (differentiable by tfjs' own gradients), with two tfjs bugs
 * avoided by writing the layer as its formula: BatchNormalization with scale: false breaks gradient
 * recording ("Cannot read properties of undefined"), and tfjs' AvgPoolGrad divides by the whole window
 * where SAME average pooling divides by the pixels inside the image, so SAME average pooling runs as
 * a VALID sum over the zero-padded map divided by the same sum over ones.
 */
function referenceForward(x: tf.Tensor): Map<string, tf.Tensor> {
  const values = new Map<string, tf.Tensor>();
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') {
      values.set(layer.name, x);
      continue;
    }
    const inputs = layer.inboundNodes[0]!.inboundLayers.map((l) => values.get(l.name)!);
    if (layer.getClassName() === 'BatchNormalization') {
      const w = Object.fromEntries(layer.weights.map((v, i) => [v.name.split('/').pop()!, layer.getWeights()[i]!]));
      const eps = (layer.getConfig().epsilon as number) ?? 1e-3;
      let y = tf.div(tf.sub(inputs[0]!, w.moving_mean!), tf.sqrt(tf.add(w.moving_variance!, eps)));
      if (w.gamma) y = tf.mul(y, w.gamma);
      if (w.beta) y = tf.add(y, w.beta);
      values.set(layer.name, y);
    } else if (layer.getClassName() === 'AveragePooling2D' && layer.getConfig().padding === 'same') {
      const [k, s] = [layer.getConfig().poolSize as [number, number], layer.getConfig().strides as [number, number]];
      const [, h, w] = inputs[0]!.shape;
      const pads: [number, number][] = [[0, 0], windowPads(h!, k[0], s[0], 'same') as [number, number], windowPads(w!, k[1], s[1], 'same') as [number, number], [0, 0]];
      const sumOf = (t: tf.Tensor) => tf.avgPool(tf.pad(t as tf.Tensor4D, pads), k, s, 'valid');
      values.set(layer.name, tf.div(sumOf(inputs[0]!), sumOf(tf.onesLike(inputs[0]!))));
    } else {
      values.set(layer.name, layer.apply(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor);
    }
  }
  return values;
}

async function network(): Promise<LayersNetwork> {
  return loadLayersNetwork(dir, { name: 'tiny' });
}

describe('layers-model adapter: reading', () => {
  it('reads model.json + weights.bin: taps in graph order with channels, stride, receptive field, position', async () => {
    const net = await network();
    assert.deepEqual(net.taps.map((t) => t.name), ['image', ...tapLayers().map((l) => l.name)]);
    const tap = (n: string) => net.taps.find((t) => t.name === n)!;
    // By hand: c1 3×3/2 → stride 2, field 3; dw 3×3 → 3 + 2·2 = 7; mp 3×3/2 → 7 + 2·2 = 11, stride 4;
    // c5 3×1 → 11 + 2·4 = 19 high, 11 wide; c4 1×3 then mp2 2×2 → 11 + 2·4 + 1·4 = 23 wide, so cat
    // (the larger per axis) → 19 × 23; dw_s 3×3/2 → 27 × 31, stride 8.
    assert.deepEqual(tap('c1'), { name: 'c1', channels: 8, stride: 2, receptiveField: 3, position: 'before-activation', kind: 'Conv2D' });
    assert.deepEqual(tap('r1'), { name: 'r1', channels: 8, stride: 2, receptiveField: 3, position: 'after-activation', kind: 'ReLU' });
    assert.deepEqual(tap('dw'), { name: 'dw', channels: 8, stride: 2, receptiveField: 7, position: 'before-activation', kind: 'DepthwiseConv2D' });
    assert.deepEqual(tap('mp'), { name: 'mp', channels: 8, stride: 4, receptiveField: 11, position: 'pooling', kind: 'MaxPooling2D' });
    assert.deepEqual(tap('c5'), { name: 'c5', channels: 4, stride: 4, receptiveField: 19, position: 'after-activation', kind: 'Conv2D' });
    assert.deepEqual(tap('cat'), { name: 'cat', channels: 6 + 4 + 8, stride: 4, receptiveField: 23, position: 'merge', kind: 'Concatenate' });
    assert.deepEqual(tap('dw_s'), { name: 'dw_s', channels: 18, stride: 8, receptiveField: 31, position: 'before-activation', kind: 'DepthwiseConv2D' });
    assert.equal(tap('bn1').position, 'before-activation');
    assert.equal(tap('drop').kind, 'Dropout');
    assert.equal(net.weights.format, 'tfjs-layers');
    assert.match(net.weights.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(net.preprocessing, 'tf');
    net.dispose();
  });
});

describe('layers-model adapter: values', () => {
  it('every tap equals tfjs-layers predict, asked for together and one at a time', async () => {
    const net = await network();
    const names = tapLayers().map((l) => l.name);
    const reference = tf.model({ inputs: model.inputs, outputs: tapLayers().map((l) => l.output as tf.SymbolicTensor) });
    tf.tidy(() => {
      const rgb = rgbImage();
      const expected = reference.predict(tf.sub(tf.div(rgb, 127.5), 1)) as tf.Tensor[];
      const together = net.features(rgb, names);
      assertClose(net.features(rgb, ['image']).image!, tf.sub(tf.div(rgb, 127.5), 1), 1e-6, 'image');
      names.forEach((n, i) => {
        assertClose(together[n]!, expected[i]!, 1e-5, `${n} (together)`);
        // Alone, every chain runs fused as far as it can.
        assertClose(net.features(rgb, [n])[n]!, expected[i]!, 1e-5, `${n} (alone)`);
      });
    });
    net.dispose();
  });
});

describe('layers-model adapter: gradients', () => {
  /** d(gram loss at GRAD_TAPS)/d(rgb) by tfjs' autodiff of the unmodified layers, on cpu. */
  async function referenceGradient(): Promise<Float32Array> {
    await initBackend('cpu');
    return tf.tidy(() => {
      const loss = (rgb: tf.Tensor) => {
        const values = referenceForward(tf.sub(tf.div(rgb, 127.5), 1));
        return gramLoss(Object.fromEntries(GRAD_TAPS.map((n) => [n, values.get(n) as tf.Tensor4D])));
      };
      return tf.grad(loss)(rgbImage()).dataSync() as Float32Array;
    });
  }

  const gradient = (net: LayersNetwork, rgb: tf.Tensor4D) => tf.grad((x: tf.Tensor) => gramLoss(net.features(x as tf.Tensor4D, GRAD_TAPS)))(rgb);

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`on ${backend}: the Gram-loss image gradient equals tfjs' autodiff of the unmodified layers`, async () => {
      const expected = await referenceGradient();
      await initBackend(backend);
      const net = await network();
      tf.tidy(() => {
        const rgb = rgbImage();
        // Other formulations and summation orders through ~12 layers: observed ≤ 5e-7 of the largest entry.
        assertClose(gradient(net, rgb), tf.tensor(expected, rgb.shape), 1e-5, 'gradient');
      });
      net.dispose();
    });
  }

  it('on wasm: the Gram-loss image gradient equals central finite differences at its largest and typical pixels', async () => {
    await initBackend('wasm');
    const net = await network();
    const rgb = rgbImage();
    const loss = (x: tf.Tensor4D) => tf.tidy(() => gramLoss(net.features(x, GRAD_TAPS)).dataSync()[0]!);
    const g = tf.tidy(() => gradient(net, rgb));
    const gv = g.dataSync();
    const order = [...gv.keys()].sort((i, j) => Math.abs(gv[j]!) - Math.abs(gv[i]!));
    const scale = Math.abs(gv[order[0]!]!);
    // h = half a grey level: the loss (~2.6e3 in float32) then moves by ~2, ~1e4 times its rounding
    // noise, and few ReLU/pooling kinks are crossed; observed errors are ≤ 5e-4 of the largest entry.
    const h = 0.5;
    for (const i of [...order.slice(0, 6), ...order.slice(200, 203), ...order.slice(900, 903)]) {
      tf.tidy(() => {
        const e = tf.tensor4d(Float32Array.from(gv, (_, j) => (j === i ? h : 0)), rgb.shape);
        const fd = (loss(tf.add(rgb, e) as tf.Tensor4D) - loss(tf.sub(rgb, e) as tf.Tensor4D)) / (2 * h);
        assert.ok(Math.abs(fd - gv[i]!) <= 2e-3 * scale, `pixel ${i}: finite difference ${fd}, gradient ${gv[i]} (largest ${scale})`);
      });
    }
    tf.dispose([rgb, g]);
    net.dispose();
  });
});

describe('layers-model adapter: operations', () => {
  type Op = (t: tf.Tensor4D) => tf.Tensor;

  /**
   * Value and Σ probe·op input gradient of `mine` on cpu and on wasm against `reference` (tfjs' own ops
   * and autodiff on cpu). Each makes its operands in the backend it runs on.
   */
  async function compare(x: { data: Float32Array; shape: [number, number, number, number] }, mine: () => Op, reference: () => Op, what: string) {
    await initBackend('cpu');
    const probeOf = (shape: number[]) => tf.tensor(uniform(shape.reduce((a, b) => a * b, 1), 6, -1, 1), shape);
    const run = (make: () => Op) =>
      tf.tidy(() => {
        const f = make();
        const input = tf.tensor4d(x.data, x.shape);
        const value = f(input);
        const probe = probeOf(value.shape);
        const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t as tf.Tensor4D), probe)))(input);
        return { value: tf.keep(value), grad };
      });
    const expected = run(reference);
    for (const backend of ['cpu', 'wasm'] as const) {
      await initBackend(backend);
      const actual = run(mine);
      assertClose(actual.value, expected.value, 1e-6, `${what} value on ${backend}`);
      assertClose(actual.grad, expected.grad, 1e-6, `${what} gradient on ${backend}`);
      tf.dispose([actual.value, actual.grad]);
    }
    tf.dispose([expected.value, expected.grad]);
  }

  const CONVS = [
    [9, 8, 3, 3, 1, 'same', false], [9, 8, 3, 3, 2, 'valid', false], [10, 7, 3, 3, 2, 'same', false], [13, 11, 1, 1, 2, 'valid', false],
    [8, 8, 1, 7, 1, 'same', false], [8, 9, 7, 1, 1, 'same', false], [6, 5, 2, 2, 1, 'valid', false], [7, 7, 5, 5, 2, 'same', false],
    [9, 8, 3, 3, 1, 'same', true], [7, 6, 3, 3, 2, 'same', true], [9, 8, 3, 3, 2, 'valid', true], [8, 8, 5, 5, 1, 'valid', true],
  ] as const;
  for (const [h, w, kh, kw, s, padding, depthwise] of CONVS) {
    it(`${depthwise ? 'depthwise ' : ''}convolution ${kh}×${kw}/${s} ${padding} on ${h}×${w}: value and input gradient equal tfjs'`, async () => {
      const cin = 4;
      const cout = depthwise ? cin : 5;
      const kernelShape: [number, number, number, number] = [kh, kw, cin, depthwise ? 1 : cout];
      const kernelData = uniform(kh * kw * cin * kernelShape[3], 2, -0.6, 0.6);
      const biasData = uniform(cout, 3, -0.5, 0.5);
      const pads: Pads = [windowPads(h, kh, s, padding), windowPads(w, kw, s, padding)];
      for (const act of ['linear', 'relu', 'relu6'] as const) {
        const mine = (): Op => {
          const kernel = tf.tensor4d(kernelData, kernelShape);
          const k: Kernel = { kernel, bias: tf.tensor1d(biasData), depthwise, transposed: () => transposeKernel(kernel, depthwise) };
          return (t) => convolve(t, k, [s, s], pads, act);
        };
        const plain = (): Op => {
          const kernel = tf.tensor4d(kernelData, kernelShape);
          return (t) => {
            const z = tf.add(depthwise ? tf.depthwiseConv2d(t, kernel, s, padding) : tf.conv2d(t, kernel, s, padding), biasData);
            return act === 'relu' ? tf.relu(z) : act === 'relu6' ? tf.relu6(z) : z;
          };
        };
        await compare({ data: uniform(h * w * cin, h * kw, -3, 3), shape: [1, h, w, cin] }, mine, plain, act);
      }
    });
  }

  /** Average pooling as TensorFlow defines it, from VALID sums (tfjs' AvgPoolGrad is wrong at SAME borders). */
  const tfAvgPool = (t: tf.Tensor4D, k: Pair, s: Pair, padding: Padding) => {
    const pads: [number, number][] = [[0, 0], [...windowPads(t.shape[1], k[0], s[0], padding)], [...windowPads(t.shape[2], k[1], s[1], padding)], [0, 0]];
    const sumOf = (u: tf.Tensor4D) => tf.avgPool(tf.pad(u, pads), [k[0], k[1]], [s[0], s[1]], 'valid');
    return tf.div(sumOf(t), sumOf(tf.onesLike(t)));
  };

  const POOLS = [[13, 11, 3, 2, 'valid'], [6, 5, 2, 1, 'same'], [6, 5, 3, 1, 'same'], [7, 6, 3, 2, 'same'], [7, 9, 2, 2, 'valid'], [9, 9, 3, 3, 'valid']] as const;
  for (const [h, w, k, s, padding] of POOLS) {
    it(`max and average pooling ${k}×${k}/${s} ${padding} on ${h}×${w}, with ties: values and input gradients equal tfjs'`, async () => {
      // Small integers tie within windows: the gradient goes to the first maximum in row-major order.
      const x = { data: uniform(h * w * 3, h * w + k, -2, 4).map((v) => Math.max(0, Math.round(v))), shape: [1, h, w, 3] as [number, number, number, number] };
      await compare(x, () => (t) => maxPool(t, [k, k], [s, s], padding), () => (t) => tf.maxPool(t, k, s, padding), 'max');
      const ones = () => tf.ones([k, k, 3, 1]) as tf.Tensor4D;
      await compare(x, () => (t) => avgPool(t, [k, k], [s, s], padding, ones), () => (t) => tfAvgPool(t, [k, k], [s, s], padding), 'avg');
    });
  }

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`SAME average pooling on ${backend} divides by the pixels inside the image (TensorFlow's rule)`, async () => {
      await initBackend(backend);
      tf.tidy(() => {
        const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
        // Each 3×3 window holds all four pixels: every output is their mean, not their sum / 9.
        assert.deepEqual(Array.from(avgPool(x, [3, 3], [1, 1], 'same', () => tf.ones([3, 3, 1, 1])).dataSync()), [2.5, 2.5, 2.5, 2.5]);
      });
    });
  }

  for (const depthwise of [false, true]) {
    for (const [scale, center] of [[true, true], [false, true], [true, false]] as const) {
      it(`BatchNorm${scale ? '' : ' without scale'}${center ? '' : ' without center'} folded into a ${depthwise ? 'depthwise ' : ''}convolution equals BatchNorm after it`, async () => {
        await initBackend('wasm');
        tf.tidy(() => {
          const c = 6;
          const shape = [3, 3, depthwise ? c : 4, depthwise ? 1 : c] as const;
          const conv = { kernel: uniform(3 * 3 * (depthwise ? c : 4 * c), 1, -1, 1), shape, bias: uniform(c, 2, -1, 1) };
          const norm = { mean: uniform(c, 3, -1, 1), variance: uniform(c, 4, 0.2, 3), ...(scale ? { gamma: uniform(c, 5, 0.3, 2) } : {}), ...(center ? { beta: uniform(c, 6, -1, 1) } : {}) };
          const x = tf.randomNormal([1, 7, 6, depthwise ? c : 4], 0, 1, 'float32', 7) as tf.Tensor4D;
          const apply = (k: KernelWeights, t: tf.Tensor4D) => {
            const kernel = tf.tensor4d(k.kernel, [...k.shape]);
            return tf.add(depthwise ? tf.depthwiseConv2d(t, kernel, 1, 'same') : tf.conv2d(t, kernel, 1, 'same'), k.bias!);
          };
          const folded = foldNorm(conv, depthwise, norm, 1e-3);
          const expected = tf.batchNorm(apply(conv, x), norm.mean, norm.variance, norm.beta, norm.gamma, 1e-3);
          assertClose(apply(folded, x), expected, 1e-6, 'folded');
        });
      });
    }
  }
});

describe('layers-model adapter: resources', () => {
  it('on wasm: runs no kernel gradient, no backprop-input or pooling-gradient kernel', async () => {
    await initBackend('wasm');
    const net = await network();
    const rgb = rgbImage();
    const profile = await tf.profile(() => {
      tf.tidy(() => {
        tf.grad((x: tf.Tensor) => gramLoss(net.features(x as tf.Tensor4D, GRAD_TAPS)))(rgb);
      });
    });
    const kernels = new Set(profile.kernels.map((k) => k.name));
    for (const used of ['FusedConv2D', 'FusedDepthwiseConv2D', 'Conv2D', 'DepthwiseConv2dNative']) assert.ok(kernels.has(used), `${used} ran: ${[...kernels].join(',')}`);
    const slow = [...kernels].filter((k) => /Backprop|PoolGrad|BatchNorm/.test(k));
    assert.deepEqual(slow, [], `kernels: ${[...kernels].join(',')}`);
    rgb.dispose();
    net.dispose();
  });

  it('keeps the tensor count flat over features + gradient calls, and dispose() frees every tensor it made', async () => {
    await initBackend('wasm');
    const start = tf.memory().numTensors;
    const net = await network();
    const rgb = rgbImage();
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      tf.tidy(() => {
        tf.grad((x: tf.Tensor) => gramLoss(net.features(x as tf.Tensor4D, [...GRAD_TAPS, 'c1', 'bn3'])))(rgb).dataSync();
        net.features(rgb, ['dw', 'ap']);
      });
      counts.push(tf.memory().numTensors);
    }
    // The first call uploads the weights it needs and the transposed kernels; nothing grows after it.
    assert.deepEqual(counts, counts.map(() => counts[0]), `counts: ${counts.join(',')}`);
    net.dispose();
    rgb.dispose();
    assert.equal(tf.memory().numTensors, start);
  });
});

describe('layers-model adapter: geometry and errors', () => {
  it('minInputSize is the smallest side whose maps are all non-empty, any other size runs', async () => {
    await initBackend('wasm');
    const net = await network();
    // By hand for c6: its 2×2 VALID needs 2 rows (cat2) ← dw_s/c7 SAME /2 need 3 (cat) ← mp 3×3/2 VALID
    // needs 7 (add) ← c1 3×3/2 VALID needs 15, of which ZeroPadding2D adds 1: 14.
    assert.equal(net.minInputSize(['c6']), 14);
    assert.equal(net.minInputSize(['r1']), 2);
    assert.equal(net.minInputSize(['image']), 1);
    for (const tap of ['c6', 'mp', 'c8']) {
      const side = net.minInputSize([tap]);
      tf.tidy(() => {
        const shape = net.features(tf.zeros([1, side, side, 3]), [tap])[tap]!.shape;
        assert.ok(shape[1]! >= 1 && shape[2]! >= 1, `${tap} at ${side}: ${shape}`);
        assert.throws(() => net.features(tf.zeros([1, side - 1, side - 1, 3]), [tap]), (e: unknown) => e instanceof NstError && /too small/.test(e.message) && e.hint!.includes(`${side}×${side}`));
      });
    }
    // Not the size it was built for, and not square.
    tf.tidy(() => assert.deepEqual(net.features(tf.zeros([1, 40, 31, 3]), ['c6']).c6!.shape, [1, 4, 3, 5]));
    assert.deepEqual(net.shapes(40, 31).get('mp'), [9, 7, 8]);
    net.dispose();
  });

  it('an unknown tap names the network and lists its taps; a bad image shape is refused before compute', async () => {
    const net = await network();
    assert.throws(() => net.resolveTap('conv4_2', '--style-layers'), (e: unknown) => e instanceof NstError && e.message.includes("--style-layers: tiny has no layer 'conv4_2'") && e.hint!.includes('c1, bn1, r1'));
    assert.throws(() => tf.tidy(() => net.features(rgbImage(), ['nope'])), (e: unknown) => e instanceof NstError && e.message.includes("'nope'"));
    assert.throws(() => tf.tidy(() => net.features(tf.zeros([1, 30, 30, 1]) as tf.Tensor4D, ['c1'])), (e: unknown) => e instanceof NstError && e.message.includes('[n, height, width, 3]'));
    const { model: read } = await readLayersModel(dir);
    assert.throws(() => createLayersNetwork(read, { name: 'tiny', weights: net.weights, presets: { style: ['c1', 'conv1_1'] } }), (e: unknown) => e instanceof NstError && e.message.includes("preset 'style' of tiny: tiny has no layer 'conv1_1'"));
    net.dispose();
  });

  /** model.json with `edit` applied to its layer list, in a new directory beside the weights. */
  function editedModel(name: string, edit: (layers: Record<string, unknown>[]) => void): string {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    edit(json.modelTopology.config.layers);
    const out = join(tmp, name);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'model.json'), JSON.stringify(json));
    writeFileSync(join(out, 'weights.bin'), readFileSync(join(dir, 'weights.bin')));
    return join(out, 'model.json');
  }

  async function rejects(path: string, ...needles: string[]): Promise<void> {
    await assert.rejects(readLayersModel(path), (e: unknown) => {
      assert.ok(e instanceof NstError, String(e));
      for (const n of needles) assert.ok(e.toString().includes(n), `${e.toString()} should mention ${n}`);
      return true;
    });
  }

  it('an unsupported layer kind names itself, its layer and the file, and lists the supported kinds', async () => {
    const transposed = editedModel('transposed', (layers) => {
      layers.find((l) => l.name === 'c7')!.class_name = 'Conv2DTranspose';
    });
    await rejects(transposed, transposed, "layer 'c7' (Conv2DTranspose)", 'supported layers: InputLayer, Conv2D, DepthwiseConv2D', 'the classifier head');
    const lstm = editedModel('lstm', (layers) => {
      layers.splice(3, 0, { name: 'memory', class_name: 'LSTM', config: { units: 4 }, inbound_nodes: [[['c1', 0, 0, {}]]] });
    });
    await rejects(lstm, lstm, "layer 'memory' (LSTM)");
    const multiplier = editedModel('multiplier', (layers) => {
      (layers.find((l) => l.name === 'dw')!.config as Record<string, unknown>).depth_multiplier = 2;
    });
    await rejects(multiplier, "layer 'dw' (DepthwiseConv2D)", 'depth_multiplier 2');
    const swish = editedModel('swish', (layers) => {
      (layers.find((l) => l.name === 'a2')!.config as Record<string, unknown>).activation = 'swish';
    });
    await rejects(swish, "layer 'a2' (Activation)", 'swish', 'supported activations: linear, relu, relu6');
  });

  it('weights that do not fit the topology, or are missing, name the weight and the shape', () => {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const weights = new Map<string, Float32Array>([['c1/kernel', new Float32Array(3 * 3 * 3 * 8)]]);
    assert.throws(() => buildLayersModel(json, weights, 'm.json'), (e: unknown) => e instanceof NstError && e.message.includes("m.json: layer 'bn1' (BatchNormalization) has no weight bn1/beta"));
    weights.set('c1/kernel', new Float32Array(5));
    assert.throws(() => buildLayersModel(json, weights, 'm.json'), (e: unknown) => e instanceof NstError && e.message.includes('c1/kernel holds 5 values') && e.message.includes('[3,3,3,8]'));
  });

  it('reads a Sequential model with prefixed weight names, and drops everything after the head', async () => {
    await initBackend('wasm');
    const seq = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 10, 3], filters: 4, kernelSize: 3, activation: 'relu', name: 's1' }),
        tf.layers.maxPooling2d({ poolSize: 2, name: 's2' }),
        tf.layers.globalAveragePooling2d({ name: 'gap' }),
        tf.layers.dense({ units: 2, name: 'fc' }),
      ],
    });
    const json = JSON.parse(JSON.stringify({ modelTopology: seq.toJSON(null, false) }));
    const weights = new Map(seq.getWeights().map((w, i) => [`seq/${seq.weights[i]!.originalName}:0`, w.dataSync() as Float32Array]));
    const model = buildLayersModel(json, weights, 'seq.json');
    assert.deepEqual(model.topology.head, ['gap', 'fc']);
    const net = createLayersNetwork(model, { weights: { source: 'seq.json', format: 'tfjs-layers', random: false } });
    assert.deepEqual(net.taps.map((t) => t.name), [`s1_input`, 's1', 's2']);
    tf.tidy(() => {
      const rgb = tf.tensor4d(uniform(12 * 10 * 3, 5, 0, 255), [1, 12, 10, 3]);
      const expected = tf.model({ inputs: seq.inputs, outputs: seq.getLayer('s2').output as tf.SymbolicTensor }).predict(tf.sub(tf.div(rgb, 127.5), 1)) as tf.Tensor;
      assertClose(net.features(rgb, ['s2']).s2!, expected, 1e-5, 's2');
    });
    net.dispose();
    seq.dispose();
  });
});
