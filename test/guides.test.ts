/**
 * Spatial guides (Gatys et al. 2017 §4): propagation against brute-force windows written out here,
 * the guided Gram against plain-JS sums, mask files, the shipped Neckarfront masks, and tensor counts.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { initBackend } from '../src/lib/backend';
import { NstError } from '../src/lib/errors';
import { guideCoverage, guidedFeatures, guidedGram } from '../src/lib/guides/guided-gram';
import { disposeGuides, loadColourGuides, loadGuide, loadGuides } from '../src/lib/guides/load';
import { areaResize, dilate, erode, guidePropagation, propagateGuide } from '../src/lib/guides/propagate';
import { gram } from '../src/lib/objectives/gram';
import { createRng } from '../src/lib/rng';

await initBackend('wasm');

function read(make: () => tf.Tensor): Float32Array {
  const t = tf.tidy(make);
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  return Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
};
function assertBelow(value: number, limit: number, what: string): void {
  assert.ok(value < limit, `${what}: ${value} is not below ${limit}`);
}

/** An [h,w] 0/1 mask with an axis-aligned box of ones at rows r0.., columns c0.. */
function box(h: number, w: number, r0: number, c0: number, rows: number, cols: number): tf.Tensor2D {
  const v = new Float32Array(h * w);
  for (let r = r0; r < r0 + rows; r++) for (let c = c0; c < c0 + cols; c++) v[r * w + c] = 1;
  return tf.tensor2d(v, [h, w]);
}

/** Rows and columns that hold a nonzero value, and the number of nonzero values. */
function extent(v: Float32Array, w: number): { rows: number; cols: number; count: number } {
  const rows = new Set<number>();
  const cols = new Set<number>();
  let count = 0;
  v.forEach((x, i) => {
    if (x > 0) {
      rows.add(Math.floor(i / w));
      cols.add(i % w);
      count++;
    }
  });
  return { rows: rows.size, cols: cols.size, count };
}

/** The documented geometry by brute force: min (inside) or max (all) of the mask over each window. */
function bruteForce(mask: Float32Array, H: number, W: number, stride: number, field: number, h: number, w: number, reduce: 'min' | 'max'): number[] {
  const offset = Math.floor((stride - field) / 2);
  const out: number[] = [];
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const seen: number[] = [];
      for (let y = i * stride + offset; y < i * stride + offset + field; y++) {
        for (let x = j * stride + offset; x < j * stride + offset + field; x++) {
          if (y >= 0 && y < H && x >= 0 && x < W) seen.push(mask[y * W + x]! >= 0.5 ? 1 : 0);
        }
      }
      out.push(reduce === 'min' ? Math.min(...seen) : Math.max(...seen));
    }
  }
  return out;
}

describe('guide propagation', () => {
  it('inside shrinks a square of side s at stride 1 to side s − r + 1; all grows it to s + r − 1', () => {
    const s = 9;
    const square = box(24, 24, 7, 8, s, s);
    for (const r of [3, 5, 7]) {
      const inside = extent(read(() => propagateGuide(square, { stride: 1, receptiveField: r }, [24, 24], 'inside')), 24);
      assert.deepEqual(inside, { rows: s - r + 1, cols: s - r + 1, count: (s - r + 1) ** 2 }, `inside, r = ${r}`);
      const all = extent(read(() => propagateGuide(square, { stride: 1, receptiveField: r }, [24, 24], 'all')), 24);
      assert.deepEqual(all, { rows: s + r - 1, cols: s + r - 1, count: (s + r - 1) ** 2 }, `all, r = ${r}`);
    }
    square.dispose();
  });

  it('strided taps match brute-force windows (VGG-like geometry), and the border does not erode', () => {
    const H = 37;
    const W = 29;
    const r = createRng(11);
    // Blobs: a smoothed random field thresholded, plus a region touching the top border.
    const v = Float32Array.from({ length: H * W }, (_, i) => {
      const y = Math.floor(i / W);
      const x = i % W;
      return y < 6 || Math.sin(x / 3 + r()) * Math.cos(y / 4) > 0.3 ? 1 : 0;
    });
    const mask = tf.tensor2d(v, [H, W]);
    for (const [stride, field] of [[1, 3], [2, 6], [2, 10], [4, 16], [8, 44], [3, 2]] as const) {
      const size = [Math.floor(H / stride), Math.floor(W / stride)] as const;
      for (const [method, reduce] of [['inside', 'min'], ['all', 'max']] as const) {
        const got = read(() => propagateGuide(mask, { stride, receptiveField: field }, size, method));
        assert.deepEqual(Array.from(got), bruteForce(v, H, W, stride, field, size[0], size[1], reduce), `${method}, stride ${stride}, field ${field}`);
      }
    }
    // The band along the top survives erosion next to the border.
    const topRow = read(() => erode(mask, 5)).slice(0, W);
    assert.ok(topRow.every((x) => x === 1), 'the top row should stay inside the region');
    mask.dispose();
  });

  it('simple is area averaging: exact cell fractions, also for ratios that are not integers', () => {
    const m = tf.tensor2d([1, 0, 0, 1, 1, 0], [3, 2]);
    // 3 rows → 2: row 0 = (1·row0 + ½·row1)/1.5, row 1 = (½·row1 + 1·row2)/1.5; columns 2 → 1: mean.
    const expected = [(1 * 0.5 + 0.5 * 0.5) / 1.5, (0.5 * 0.5 + 1 * 0.5) / 1.5];
    assertBelow(maxAbs(read(() => propagateGuide(m, { stride: 2, receptiveField: 6 }, [2, 1], 'simple')), expected), 1e-6, 'area averages');
    const ones = tf.ones([16, 12]) as tf.Tensor2D;
    assertBelow(maxAbs(read(() => areaResize(ones, [3, 5])), new Array(15).fill(1)), 1e-6, 'ones stay ones');
    tf.dispose([m, ones]);
  });

  it('dilate and erode are the stride-1 all / inside; unknown methods are refused', () => {
    const square = box(12, 12, 3, 3, 5, 5);
    assert.equal(extent(read(() => dilate(square, 3)), 12).count, 49);
    assert.equal(extent(read(() => erode(square, 3)), 12).count, 9);
    assert.throws(() => guidePropagation('erode'), (e: unknown) => e instanceof NstError && /simple, inside, all/.test(e.hint ?? ''));
    square.dispose();
  });

  it('leaves no tensors behind', () => {
    const mask = box(20, 20, 2, 3, 9, 11);
    const before = tf.memory().numTensors;
    for (const method of ['simple', 'inside', 'all'] as const) propagateGuide(mask, { stride: 4, receptiveField: 16 }, [5, 5], method).dispose();
    assert.equal(tf.memory().numTensors, before);
    mask.dispose();
  });
});

describe('guided Gram', () => {
  const [h, w, c] = [6, 7, 4];
  const r = createRng(5);
  const features = tf.tensor4d(Float32Array.from({ length: h * w * c }, () => r()), [1, h, w, c]);
  const f = features.dataSync();

  /** Σ_k T_k² F_ki F_kj / Σ_k T_k², in float64. */
  function jsGuidedGram(t: ArrayLike<number>): number[] {
    const g = new Array<number>(c * c).fill(0);
    let mass = 0;
    for (let k = 0; k < h * w; k++) {
      mass += t[k]! ** 2;
      for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) g[i * c + j]! += t[k]! ** 2 * f[k * c + i]! * f[k * c + j]!;
    }
    return g.map((x) => x / mass);
  }

  it('with an all-ones guide equals the plain Gram per position, G/M', () => {
    const ones = tf.ones([h, w]) as tf.Tensor2D;
    const plain = read(() => tf.div(gram(features), h * w));
    assertBelow(maxAbs(read(() => guidedGram(features, ones)), plain), 1e-6, 'guided vs plain');
    ones.dispose();
  });

  it('with a hard or soft guide equals Σ T² F Fᵀ / Σ T²', () => {
    const hard = box(h, w, 1, 2, 3, 4);
    assertBelow(maxAbs(read(() => guidedGram(features, hard)), jsGuidedGram(hard.dataSync())), 1e-6, 'hard guide');
    const soft = tf.tensor2d(Float32Array.from({ length: h * w }, () => r()), [h, w]);
    assertBelow(maxAbs(read(() => guidedGram(features, soft)), jsGuidedGram(soft.dataSync())), 1e-6, 'soft guide');
    assertBelow(Math.abs(guideCoverage(hard) - 12 / (h * w)), 1e-7, "coverage");
    tf.dispose([hard, soft]);
  });

  it('guidedFeatures is T ∘ F and refuses a guide of another size', () => {
    const hard = box(h, w, 0, 0, 2, 2);
    const got = read(() => guidedFeatures(features, hard));
    assert.equal(got[0], f[0]);
    assert.equal(got[(3 * w + 3) * c], 0);
    const wrong = tf.ones([h + 1, w]) as tf.Tensor2D;
    assert.throws(() => guidedFeatures(features, wrong), /propagate it/);
    tf.dispose([hard, wrong]);
  });

  it('leaves no tensors behind, and its gradient reaches the features', () => {
    const guide = box(h, w, 1, 1, 4, 4);
    const before = tf.memory().numTensors;
    const g = tf.grad((x: tf.Tensor) => tf.sum(guidedGram(x as tf.Tensor4D, guide)))(features);
    const gv = g.dataSync();
    g.dispose();
    assert.equal(tf.memory().numTensors, before);
    // Outside the guide the gradient is 0, inside it is not.
    assert.equal(gv[0], 0);
    assert.notEqual(gv[(2 * w + 2) * c], 0);
    guide.dispose();
  });
});

describe('mask files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nst-guides-'));
  after(() => rm(dir, { recursive: true, force: true }));

  /** Writes a raw RGB image as PNG. */
  const png = (path: string, w: number, h: number, pixel: (x: number, y: number) => [number, number, number]) => {
    const buf = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) buf.set(pixel(x, y), (y * w + x) * 3);
    return sharp(buf, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path);
  };

  it('one file per region: white is the region, resized to the image', async () => {
    const left = join(dir, 'left.png');
    await png(left, 8, 4, (x) => (x < 4 ? [255, 255, 255] : [0, 0, 0]));
    const guides = await loadGuides({ left }, [4, 8]);
    assert.deepEqual(Array.from(guides.left!.dataSync()).slice(0, 8), [1, 1, 1, 1, 0, 0, 0, 0]);
    disposeGuides(guides);
  });

  it('a colour-coded file: each pixel to the nearest listed colour, area-resized', async () => {
    const coded = join(dir, 'coded.png');
    // Left half near-blue (JPEG-like noise), right half near-red.
    await png(coded, 8, 8, (x) => (x < 4 ? [10, 5, 240] : [235, 20, 12]));
    const guides = await loadColourGuides(coded, { sky: '#0000ff', town: '#ff0000' }, [4, 4]);
    assert.deepEqual(Array.from(guides.sky!.dataSync()).slice(0, 4), [1, 1, 0, 0]);
    assert.deepEqual(Array.from(guides.town!.dataSync()).slice(0, 4), [0, 0, 1, 1]);
    disposeGuides(guides);
    await assert.rejects(loadColourGuides(coded, { sky: 'blue' }, [4, 4]), (e: unknown) => e instanceof NstError && /#rrggbb/.test(e.hint ?? ''));
  });

  it('an empty region is refused, naming it, and nothing is left allocated', async () => {
    const black = join(dir, 'black.png');
    await png(black, 4, 4, () => [0, 0, 0]);
    const before = tf.memory().numTensors;
    await assert.rejects(loadGuide(black, [4, 4], 'sky'), (e: unknown) => e instanceof NstError && /'sky'/.test(e.message));
    await assert.rejects(loadColourGuides(black, { sky: '#0000ff', town: '#000000' }, [4, 4]), (e: unknown) => e instanceof NstError && /'sky'/.test(e.message));
    assert.equal(tf.memory().numTensors, before);
  });

  it('the shipped Neckarfront masks split the photo into sky above and town below', async () => {
    const size = [96, 128] as const;
    const guides = await loadGuides({ sky: 'data/masks/tubingen_sky.png', town: 'data/masks/tubingen_town.png' }, size);
    const sky = guides.sky!.dataSync();
    const town = guides.town!.dataSync();
    assertBelow(maxAbs(Array.from(sky).map((s, i) => s + town[i]!), new Array(sky.length).fill(1)), 2.5 / 255, 'the masks are complementary (up to 8-bit rounding of the resized edges)');
    const coverage = guideCoverage(guides.sky!);
    assert.ok(coverage > 0.25 && coverage < 0.45, `sky covers ${coverage}`);
    const rowMean = (y: number) => Array.from(sky.slice(y * size[1], (y + 1) * size[1])).reduce((a, b) => a + b, 0) / size[1];
    assert.ok(rowMean(2) > 0.85, `the top rows are sky (${rowMean(2)})`);
    assert.equal(rowMean(size[0] - 1), 0, 'the bottom rows (river) are town');
    disposeGuides(guides);
  });
});
