/**
 * The convolution's and the Gram matrix's own gradients against tfjs' gradients of the same functions
 * built from plain ops: on wasm (flipped-kernel forward conv, transpose-first Gram) and on cpu (the
 * native backprop branch that tensorflow and webgl take too); tensor hygiene; and the threaded wasm
 * backend against the single-threaded one.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { before, describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { conv2dBiasRelu, createConvLayer, flipKernel, pool2d } from '../src/lib/net/conv';
import { gramMatrix } from '../src/lib/net/gram-matrix';
import { projectRoot } from '../src/lib/paths';

/** Random operands for one layer; weights scaled so roughly half the units are active. */
function operands(h: number, w: number, cin: number, cout: number, seed: number) {
  return {
    x: tf.randomNormal([1, h, w, cin], 0, 1, 'float32', seed) as tf.Tensor4D,
    kernel: tf.randomNormal([3, 3, cin, cout], 0, Math.sqrt(2 / (9 * cin)), 'float32', seed + 1) as tf.Tensor4D,
    bias: tf.randomNormal([cout], 0, 0.1, 'float32', seed + 2) as tf.Tensor1D,
    // A random cotangent, so every output element's gradient matters.
    probe: tf.randomNormal([1, h, w, cout], 0, 1, 'float32', seed + 3) as tf.Tensor4D,
  };
}

function assertClose(actual: tf.Tensor, expected: tf.Tensor, rel: number, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, what);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let scale = 0;
  for (const v of e) scale = Math.max(scale, Math.abs(v));
  assert.ok(scale > 0, `${what}: expected gradient is all zeros`);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - e[i]!) <= rel * scale, `${what}[${i}]: ${a[i]} vs ${e[i]} (scale ${scale})`);
  }
}

const SHAPES: [number, number, number, number][] = [
  [8, 8, 3, 16],
  [12, 10, 16, 8],
  [6, 7, 32, 64],
];

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`conv2dBiasRelu on ${backend}`, () => {
    before(async () => {
      await initBackend(backend);
    });

    for (const [h, w, cin, cout] of SHAPES) {
      it(`input gradient equals tfjs' own at ${h}×${w}, ${cin}→${cout}`, () => {
        const { x, kernel, bias, probe } = operands(h, w, cin, cout, h * 100 + cin);
        const layer = createConvLayer(kernel, bias);
        tf.tidy(() => {
          const plain = (t: tf.Tensor) => tf.sum(tf.mul(tf.relu(tf.add(tf.conv2d(t as tf.Tensor4D, kernel, 1, 'same'), bias)), probe));
          const expected = tf.grad(plain)(x);
          const values = tf.sum(tf.mul(conv2dBiasRelu(x, kernel, bias), probe));
          assertClose(values, plain(x), 1e-5, 'value');
          assertClose(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(conv2dBiasRelu(t as tf.Tensor4D, kernel, bias), probe)))(x), expected, 1e-4, 'conv2dBiasRelu');
          assertClose(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t as tf.Tensor4D), probe)))(x), expected, 1e-4, 'ConvLayer');
        });
        layer.dispose();
        tf.dispose([x, probe]);
      });
    }

    it(`never computes a kernel gradient${backend === 'wasm' ? ' (nor Conv2DBackpropInput)' : ''}`, async () => {
      const { x, kernel, bias, probe } = operands(8, 8, 8, 8, 7);
      const layer = createConvLayer(kernel, bias);
      const profile = await tf.profile(() => {
        tf.tidy(() => {
          tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(layer.apply(t as tf.Tensor4D)), probe)))(x);
        });
      });
      const kernels = profile.kernels.map((k) => k.name);
      assert.ok(kernels.includes('FusedConv2D'), `forward ran fused: ${kernels.join(',')}`);
      assert.ok(!kernels.some((k) => /BackpropFilter/.test(k)), `kernels: ${kernels.join(',')}`);
      assert.equal(kernels.includes('Conv2DBackpropInput'), backend !== 'wasm', `kernels: ${kernels.join(',')}`);
      layer.dispose();
      tf.dispose([x, probe]);
    });

    it('gramMatrix: FᵀF and its gradient equal tfjs\' plain product and its autodiff', () => {
      tf.tidy(() => {
        const f = tf.randomNormal([50, 24], 0, 1, 'float32', 21) as tf.Tensor2D;
        // A non-symmetric cotangent exercises both halves of dG + dGᵀ.
        const probe = tf.randomNormal([24, 24], 0, 1, 'float32', 22);
        assertClose(gramMatrix(f), tf.matMul(f, f, true, false), 1e-5, 'value');
        const expected = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.matMul(t as tf.Tensor2D, t as tf.Tensor2D, true, false), probe)))(f);
        assertClose(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gramMatrix(t as tf.Tensor2D), probe)))(f), expected, 1e-4, 'gradient');
      });
    });

    it('keeps the tensor count flat across steps and releases everything on dispose', () => {
      const start = tf.memory().numTensors;
      const { x, kernel, bias, probe } = operands(10, 10, 8, 8, 11);
      const layer = createConvLayer(kernel, bias);
      const loss = (t: tf.Tensor) => tf.sum(tf.mul(layer.apply(layer.apply(t as tf.Tensor4D)), probe));
      const counts: number[] = [];
      for (let i = 0; i < 4; i++) {
        tf.tidy(() => {
          tf.grad(loss)(x).dataSync();
        });
        counts.push(tf.memory().numTensors);
      }
      // On wasm the first backward pass adds the cached flipped kernel; nothing grows after it.
      assert.deepEqual(counts, counts.map(() => counts[0]), `counts: ${counts.join(',')}`);
      layer.dispose();
      tf.dispose([x, probe]);
      assert.equal(tf.memory().numTensors, start);
    });
  });
}

describe('pool2d on wasm', () => {
  /** Gradients of Σ probe·pool(x) from tfjs' own pooling ops on the cpu backend. */
  async function cpuGradients(x: Float32Array, shape: [number, number, number, number], probe: Float32Array) {
    await initBackend('cpu');
    return tf.tidy(() => {
      const t = tf.tensor4d(x, shape);
      const p = tf.tensor(probe, tf.maxPool(t, 2, 2, 'valid').shape);
      const grad = (pool: (u: tf.Tensor4D) => tf.Tensor) => tf.grad((u: tf.Tensor) => tf.sum(tf.mul(pool(u as tf.Tensor4D), p)))(t).dataSync();
      return { avg: grad((u) => tf.avgPool(u, 2, 2, 'valid')), max: grad((u) => tf.maxPool(u, 2, 2, 'valid')) };
    });
  }

  // Odd sizes (VALID drops the last row/column), and ReLU'd integers, whose windows tie: the gradient
  // goes to the first maximum in row-major order, as tfjs' cpu backend and PyTorch do.
  for (const [h, w, c, ties] of [[8, 8, 3, false], [7, 9, 4, false], [10, 6, 5, true]] as const) {
    it(`equals tfjs' cpu gradients at ${h}×${w}×${c}${ties ? ' with ties' : ''}`, async () => {
      const shape: [number, number, number, number] = [1, h, w, c];
      const x = tf.tidy(() => {
        const r = tf.randomNormal(shape, 0, 1.5, 'float32', h * w + c);
        return (ties ? tf.relu(tf.round(r)) : r).dataSync() as Float32Array;
      });
      const probe = tf.tidy(() => tf.randomNormal([1, h >> 1, w >> 1, c], 0, 1, 'float32', 9).dataSync() as Float32Array);
      const expected = await cpuGradients(x, shape, probe);
      await initBackend('wasm');
      tf.tidy(() => {
        const t = tf.tensor4d(x, shape);
        const p = tf.tensor4d(probe, [1, h >> 1, w >> 1, c]);
        for (const kind of ['avg', 'max'] as const) {
          const actual = tf.grad((u: tf.Tensor) => tf.sum(tf.mul(pool2d(u as tf.Tensor4D, kind), p)))(t);
          // Exactly equal (+ 0 turns the −0 of 0·negative into 0).
          assert.deepEqual(Array.from(actual.dataSync(), (v) => v + 0), Array.from(expected[kind], (v) => v + 0), kind);
        }
      });
    });
  }
});

describe('flipKernel', () => {
  it('maps K[i,j,a,b] to K[2−i,2−j,b,a]', async () => {
    await initBackend('wasm');
    const k = tf.tensor4d(Float32Array.from({ length: 3 * 3 * 2 * 4 }, (_, i) => i), [3, 3, 2, 4]);
    const f = flipKernel(k);
    assert.deepEqual(f.shape, [3, 3, 4, 2]);
    const kv = k.arraySync();
    const fv = f.arraySync();
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let a = 0; a < 2; a++) for (let b = 0; b < 4; b++) assert.equal(fv[2 - i]![2 - j]![b]![a], kv[i]![j]![a]![b]);
    tf.dispose([k, f]);
  });
});

describe('wasm Identity', () => {
  it('shares its input\'s memory, and each tensor outlives the other\'s disposal', async () => {
    await initBackend('wasm');
    const a = tf.tensor([1, 2, 3, 4]);
    const buffers = tf.memory().numDataBuffers;
    const b = tf.clone(a);
    assert.equal(b.dataId, a.dataId);
    assert.equal(tf.memory().numDataBuffers, buffers);
    a.dispose();
    assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3, 4]);
    const c = tf.clone(b);
    b.dispose();
    assert.deepEqual(tf.tidy(() => Array.from(tf.add(c, 1).dataSync())), [2, 3, 4, 5]);
    c.dispose();
    assert.equal(tf.memory().numDataBuffers, buffers - 1);
  });
});

describe('wasm threads', () => {
  /** A child process computes a VGG-sized conv's value and input gradient; prints a checksum and its thread count. */
  function probe(threads: string) {
    const script = `
      import * as tf from '@tensorflow/tfjs';
      import { initBackend } from './src/lib/backend.ts';
      import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
      import { conv2dBiasRelu } from './src/lib/net/conv.ts';
      const info = await initBackend('wasm');
      const x = tf.randomNormal([1, 32, 32, 64], 0, 1, 'float32', 1);
      const k = tf.randomNormal([3, 3, 64, 64], 0, 0.06, 'float32', 2);
      const b = tf.randomNormal([64], 0, 0.1, 'float32', 3);
      const p = tf.randomNormal([1, 32, 32, 64], 0, 1, 'float32', 4);
      const f = (t) => tf.sum(tf.mul(conv2dBiasRelu(t, k, b), p));
      const y = Array.from(conv2dBiasRelu(x, k, b).dataSync());
      const g = Array.from(tf.grad(f)(x).dataSync());
      console.log(JSON.stringify({ device: info.device, threads: getThreadsCount(), y, g }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: projectRoot(),
      // Without the test runner's context variable, which would make the child report to the runner.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), NST_WASM_THREADS: threads },
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      timeout: 60_000,
    });
    // A worker left referenced would keep the child alive until the timeout kills it.
    assert.equal(r.status, 0, `child exited with ${r.status} (signal ${r.signal}): ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { device: string; threads: number; y: number[]; g: number[] };
  }

  it('reports its thread count and computes what the single-threaded build computes', () => {
    const single = probe('1');
    assert.equal(single.threads, 1);
    assert.match(single.device, /WebAssembly SIMD, 1 thread\b/);
    if (availableParallelism() < 2) return;
    const multi = probe('2');
    assert.equal(multi.threads, 2, `device: ${multi.device}`);
    assert.match(multi.device, /WebAssembly SIMD, 2 threads/);
    const close = (a: number[], b: number[], what: string) => {
      const scale = Math.max(...b.map(Math.abs));
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= 1e-5 * scale, `${what}[${i}]: ${v} vs ${b[i]}`));
    };
    close(multi.y, single.y, 'value');
    close(multi.g, single.g, 'gradient');
  });
});
