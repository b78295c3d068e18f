/**
 * k × k patches of a feature map (Li & Wand 2016, §3: Ψ(Φ(x)), the local patches of a layer's
 * activations), sampled every `stride` positions.
 */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../../errors';

export interface PatchGrid {
  /** Patch positions per column and row: ⌊(h − k)/s⌋ + 1 and ⌊(w − k)/s⌋ + 1. */
  rows: number;
  cols: number;
}

/** The patch grid of an h × w map, or an NstError when the map is smaller than one patch. */
export function patchGrid(h: number, w: number, size: number, stride: number, what = 'feature map'): PatchGrid {
  if (h < size || w < size) {
    throw new NstError(`--mrf-patch-size ${size}: the ${what} is only ${h}×${w}`, 'use a smaller patch size, a shallower layer or a larger --image-size');
  }
  return { rows: Math.floor((h - size) / stride) + 1, cols: Math.floor((w - size) / stride) + 1 };
}

/**
 * The map's values at patch offset (a, b) of every patch of the grid: [1, rows, cols, N], i.e.
 * F[a + i·s, b + j·s] for patch (i, j).
 */
export function patchOffset(features: tf.Tensor4D, a: number, b: number, grid: PatchGrid, stride: number): tf.Tensor4D {
  const n = features.shape[3];
  return tf.stridedSlice(features, [0, a, b, 0], [1, a + (grid.rows - 1) * stride + 1, b + (grid.cols - 1) * stride + 1, n], [1, stride, stride, 1]) as tf.Tensor4D;
}

/**
 * [k, k, N, P]: the P = rows·cols patches of the map, row-major, laid out as convolution filters, so
 * that conv2d(F, patches) correlates every patch of F with every one of these.
 */
export function extractPatches(features: tf.Tensor4D, size: number, stride: number): tf.Tensor4D {
  const [, h, w, n] = features.shape;
  const grid = patchGrid(h, w, size, stride, 'style image\'s feature map');
  return tf.tidy(() => {
    const offsets: tf.Tensor[] = [];
    for (let a = 0; a < size; a++) {
      for (let b = 0; b < size; b++) offsets.push(tf.transpose(tf.reshape(patchOffset(features, a, b, grid, stride), [grid.rows * grid.cols, n])));
    }
    return tf.reshape(tf.stack(offsets), [size, size, n, grid.rows * grid.cols]) as tf.Tensor4D;
  });
}

/** The patches of several style images together: matching picks from all of them. */
export function concatPatches(patches: readonly tf.Tensor[]): tf.Tensor4D {
  return tf.concat(patches as tf.Tensor4D[], 3);
}
