/**
 * The wasm backend's Slice and SplitV (src/lib/wasm/slice.ts, runs copied within the heap) against
 * tfjs' cpu backend, whose slice is the per-element reference: every rank up to 6, dtypes float32,
 * int32 and bool, slices whose run is the whole tensor, one element, or anything between.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';

/** A deterministic pseudo-random integer in [0, n). */
function pick(seed: number, n: number): number {
  const x = Math.sin(seed * 12.9898) * 43758.5453;
  return Math.floor((x - Math.floor(x)) * n);
}

/** Slices of `shape`: random ones, plus the whole tensor and a single element. */
function slicesOf(shape: number[], seed: number): [number[], number[]][] {
  const out: [number[], number[]][] = [[shape.map(() => 0), [...shape]], [shape.map((s) => s - 1), shape.map(() => 1)]];
  for (let t = 0; t < 6; t++) {
    const begin = shape.map((s, a) => pick(seed + 31 * t + a, s));
    out.push([begin, shape.map((s, a) => 1 + pick(seed + 17 * t + a + 7, s - begin[a]!))]);
  }
  return out;
}

async function on<T>(backend: 'cpu' | 'wasm', f: () => T): Promise<T> {
  await tf.setBackend(backend);
  return f();
}

describe('wasm Slice and SplitV copy runs', () => {
  before(async () => {
    await initBackend('wasm');
  });

  const shapes = [[7], [5, 6], [4, 3, 5], [3, 4, 2, 6], [2, 3, 2, 4, 3], [2, 2, 3, 2, 2, 3], [1, 9, 9, 3]];
  for (const dtype of ['float32', 'int32', 'bool'] as const) {
    for (const [i, shape] of shapes.entries()) {
      it(`slices a ${dtype} [${shape.join(', ')}] as the cpu backend does`, async () => {
        const size = shape.reduce((a, b) => a * b, 1);
        const values = Array.from({ length: size }, (_, k) => (dtype === 'bool' ? k % 3 : k * 1.5 - 7));
        for (const [begin, extent] of slicesOf(shape, 100 * i)) {
          const got = await on('wasm', () => tf.tidy(() => tf.slice(tf.tensor(values, shape, dtype), begin, extent).arraySync()));
          const want = await on('cpu', () => tf.tidy(() => tf.slice(tf.tensor(values, shape, dtype), begin, extent).arraySync()));
          assert.deepEqual(got, want, `begin ${begin}, size ${extent}`);
        }
      });
    }
  }

  it('slices a gradient-recorded image (a shifted view, as the TV term takes) and a zero-size slice', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomUniform([1, 6, 5, 3], 0, 1, 'float32', 3);
    const right = tf.slice(x, [0, 0, 1, 0], [1, 5, 4, 3]);
    const values = x.arraySync() as number[][][][];
    assert.deepEqual(right.arraySync(), [values[0]!.slice(0, 5).map((row) => row.slice(1, 5))]);
    assert.deepEqual(tf.slice(x, [0, 2, 0, 0], [1, 0, 5, 3]).shape, [1, 0, 5, 3]);
    tf.dispose([x, right]);
  });

  const splitCases: [number[], number | number[], number][] = [[[2, 5, 7], [2, 3, 2], 2], [[4, 6, 3], 3, 1], [[6, 2], [1, 5], 0]];
  for (const [shape, splits, axis] of splitCases) {
    it(`splits [${shape.join(', ')}] into ${JSON.stringify(splits)} along axis ${axis} as the cpu backend does`, async () => {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: size }, (_, k) => k);
      const run = () => tf.tidy(() => tf.split(tf.tensor(values, shape), splits, axis).map((t) => t.arraySync()));
      assert.deepEqual(await on('wasm', run), await on('cpu', run));
    });
  }
});
