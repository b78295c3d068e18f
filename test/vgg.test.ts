/** The feature network against a convolution written out by hand, and the caffe preprocessing. */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { NstError } from '../src/lib/errors';
import { deprocess, preprocess } from '../src/lib/net/preprocess';
import { createVgg19 } from '../src/lib/net/vgg';
import { cumulativeLayerSets, layerIndex, paperName, VGG19_CONVS, VGG19_LAYERS } from '../src/lib/net/vgg19';
import type { ConvWeights, VggWeights } from '../src/lib/net/weights/types';

/** A tiny deterministic generator, independent of tfjs' own RNG. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** VGG-19 weights for the first `convs` convolutions only (a truncated file). */
function truncatedWeights(convs: number, seed = 1): VggWeights {
  const rand = lcg(seed);
  const layers = new Map<string, ConvWeights>();
  for (const c of VGG19_CONVS.slice(0, convs)) {
    const n = 9 * c.inChannels * c.outChannels;
    layers.set(c.keras, {
      kernel: Float32Array.from({ length: n }, () => rand() * 0.2),
      kernelShape: [3, 3, c.inChannels, c.outChannels],
      bias: Float32Array.from({ length: c.outChannels }, () => rand() * 0.1),
    });
  }
  return { layers, format: 'random', source: 'test', random: true, info: {} };
}

/** conv 3×3 SAME + bias + ReLU over plain arrays, HWC layout. */
function convByHand(x: Float32Array, h: number, w: number, cin: number, cw: ConvWeights): Float32Array {
  const cout = cw.kernelShape[3];
  const y = new Float32Array(h * w * cout);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++)
      for (let o = 0; o < cout; o++) {
        let acc = cw.bias[o]!;
        for (let di = -1; di <= 1; di++)
          for (let dj = -1; dj <= 1; dj++) {
            const ii = i + di;
            const jj = j + dj;
            if (ii < 0 || jj < 0 || ii >= h || jj >= w) continue;
            for (let c = 0; c < cin; c++) acc += x[(ii * w + jj) * cin + c]! * cw.kernel[(((di + 1) * 3 + (dj + 1)) * cin + c) * cout + o]!;
          }
        y[(i * w + j) * cout + o] = Math.max(0, acc);
      }
  return y;
}

function avgPoolByHand(x: Float32Array, h: number, w: number, c: number): Float32Array {
  const y = new Float32Array((h / 2) * (w / 2) * c);
  for (let i = 0; i < h / 2; i++)
    for (let j = 0; j < w / 2; j++)
      for (let k = 0; k < c; k++) {
        const at = (a: number, b: number) => x[(a * w + b) * c + k]!;
        y[(i * (w / 2) + j) * c + k] = (at(2 * i, 2 * j) + at(2 * i + 1, 2 * j) + at(2 * i, 2 * j + 1) + at(2 * i + 1, 2 * j + 1)) / 4;
      }
  return y;
}

before(async () => {
  await initBackend('wasm');
});

describe('VGG-19 layer table', () => {
  it('has 16 convolutions and 5 pools with paper and Keras names', () => {
    assert.equal(VGG19_CONVS.length, 16);
    assert.equal(VGG19_LAYERS.filter((l) => l.kind === 'pool').length, 5);
    assert.equal(paperName('block4_conv2'), 'conv4_2');
    assert.equal(layerIndex('conv5_4'), 19);
    assert.deepEqual(cumulativeLayerSets().map((s) => s.length), [1, 2, 3, 4, 5]);
  });
  it('an unknown name lists the valid ones', () => {
    assert.throws(() => layerIndex('conv6_1'), (e: unknown) => e instanceof NstError && /conv5_4/.test(e.hint ?? ''));
  });
});

describe('features', () => {
  it('conv1_1, conv1_2 and pool1 equal a hand computation', () => {
    const weights = truncatedWeights(3);
    const net = createVgg19(weights, { pooling: 'avg' });
    const rand = lcg(7);
    const [h, w] = [6, 4];
    const x = Float32Array.from({ length: h * w * 3 }, () => rand() * 50);
    const feats = tf.tidy(() => {
      // The network takes RGB and preprocesses it: hand it the RGB image whose caffe form is x.
      const f = net.features(deprocess(tf.tensor4d(x, [1, h, w, 3])), ['conv1_1', 'block1_conv2', 'pool1']);
      return Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v.dataSync()]));
    });
    const c11 = convByHand(x, h, w, 3, weights.layers.get('block1_conv1')!);
    const c12 = convByHand(c11, h, w, 64, weights.layers.get('block1_conv2')!);
    const p1 = avgPoolByHand(c12, h, w, 64);
    const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
      assert.equal(a.length, b.length, what);
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-3 * (1 + Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
    };
    close(feats.conv1_1!, c11, 'conv1_1');
    close(feats.block1_conv2!, c12, 'conv1_2');
    close(feats.pool1!, p1, 'pool1');
    net.dispose();
  });

  it('runs only as deep as the deepest tap, and names a missing layer', () => {
    const net = createVgg19(truncatedWeights(4), { pooling: 'max' });
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const f = net.features(tf.zeros([1, 8, 8, 3]), ['conv2_2']);
      assert.deepEqual(f.conv2_2!.shape, [1, 4, 4, 128]);
    });
    assert.equal(tf.memory().numTensors, before);
    assert.throws(
      () => net.features(tf.zeros([1, 8, 8, 3]), ['conv3_1']),
      (e: unknown) => e instanceof NstError && /block3_conv1 \(conv3_1\)/.test(e.message),
    );
    net.dispose();
  });
});

describe('caffe preprocessing', () => {
  it('is RGB→BGR minus the mean, and deprocess inverts it', () => {
    const rgb = tf.tensor4d([10, 20, 30, 200, 100, 0], [1, 1, 2, 3]);
    const p = preprocess(rgb);
    const expected = [30 - 103.939, 20 - 116.779, 10 - 123.68, 0 - 103.939, 100 - 116.779, 200 - 123.68];
    Array.from(p.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-4));
    const back = deprocess(p);
    Array.from(back.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - rgb.dataSync()[i]!) < 1e-4));
    tf.dispose([rgb, p, back]);
  });
});
