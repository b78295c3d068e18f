/**
 * Guides (spatial guidance channels, Gatys et al. 2017 §4) from the image to a feature map. A guide is
 * one region's mask [H,W] in 0..1 at the image's size; a tap of total stride s and receptive field r
 * (TapInfo) has a map of h × w positions, and each needs a weight T_r for the region. The paper offers
 * three ways, all here by name:
 * - `simple`: the mask resized to the map (the paper's "simply downsample"); here by area averaging,
 *   so that each position's weight is the fraction of its stride × stride cell inside the region and
 *   no thin part of a region is skipped, as point-sampling resizes can.
 * - `inside`: weight 1 only where the position's whole receptive field lies in the region (erosion of
 *   the mask by the receptive field), so that no style statistic of a region sees the other regions'
 *   pixels; the paper uses it for the sharpest separation. Thin regions vanish at deep taps.
 * - `all`: weight 1 wherever the receptive field touches the region (dilation).
 * `inside` and `all` first binarise the mask at ½, as the authors' notebooks do.
 *
 * Geometry: position i (per axis) of a tap with stride s and receptive field r sees the input pixels
 * i·s + ⌊(s − r)/2⌋ … i·s + ⌊(s − r)/2⌋ + r − 1, a window centred on its stride cell, as for VGG's
 * SAME convolutions and 2×2 pooling. Pixels beyond the image border are padding: they neither leave a
 * region nor enter one, so a region that reaches the border is not eroded from it.
 */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';
import type { TapInfo } from '../net/network';

export const GUIDE_PROPAGATIONS = ['simple', 'inside', 'all'] as const;
export type GuidePropagation = (typeof GUIDE_PROPAGATIONS)[number];

/** Binarisation threshold of `inside` and `all` (the authors' `th = .5`). */
export const GUIDE_THRESHOLD = 0.5;

export function guidePropagation(name: string, option = 'guide propagation'): GuidePropagation {
  if (!(GUIDE_PROPAGATIONS as readonly string[]).includes(name)) {
    throw new NstError(`${option}: unknown method '${name}'`, `use one of: ${GUIDE_PROPAGATIONS.join(', ')}`);
  }
  return name as GuidePropagation;
}

/** The [to, from] matrix whose row i averages the input cells overlapping output cell i. */
function areaWeights(from: number, to: number): tf.Tensor2D {
  const w = new Float32Array(to * from);
  const step = from / to;
  for (let i = 0; i < to; i++) {
    const lo = i * step;
    const hi = lo + step;
    for (let k = Math.floor(lo); k < Math.min(from, Math.ceil(hi)); k++) {
      w[i * from + k] = (Math.min(hi, k + 1) - Math.max(lo, k)) / step;
    }
  }
  return tf.tensor2d(w, [to, from]);
}

/** A mask [H,W] resized to [h,w] by area averaging (exact for any ratio: R_h · mask · R_wᵀ). */
export function areaResize(mask: tf.Tensor2D, size: readonly [number, number]): tf.Tensor2D {
  const [H, W] = mask.shape;
  if (H === size[0] && W === size[1]) return tf.clone(mask);
  return tf.tidy(() => tf.matMul(tf.matMul(areaWeights(H, size[0]), mask), areaWeights(W, size[1]), false, true));
}

/**
 * The maximum of a 0/1 mask [H,W] over each position's receptive field, for a map of [h,w] positions;
 * outside the image counts as 0.
 */
function maxOverReceptiveFields(mask: tf.Tensor2D, stride: number, field: number, size: readonly [number, number]): tf.Tensor2D {
  const offset = Math.floor((stride - field) / 2);
  return tf.tidy(() => {
    let x = tf.reshape(mask, [1, ...mask.shape, 1]) as tf.Tensor4D;
    // Shift the origin to the first window's start, then pad or crop the end to what the windows span.
    const spans = size.map((n) => (n - 1) * stride + field);
    const before = Math.max(0, -offset);
    x = tf.pad(x, [[0, 0], [before, 0], [before, 0], [0, 0]]);
    const start = Math.max(0, offset);
    const after = spans.map((span, axis) => Math.max(0, start + span - x.shape[axis + 1]!));
    x = tf.pad(x, [[0, 0], [0, after[0]!], [0, after[1]!], [0, 0]]);
    x = tf.slice(x, [0, start, start, 0], [1, spans[0]!, spans[1]!, 1]);
    const pooled = tf.maxPool(x, [field, field], [stride, stride], 'valid');
    return tf.reshape(pooled, [...size]) as tf.Tensor2D;
  });
}

/** 1 where the mask is at least GUIDE_THRESHOLD. */
function binarise(mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.greaterEqual(mask, GUIDE_THRESHOLD), 'float32') as tf.Tensor2D);
}

/**
 * A region's mask [H,W] (at the image's size) as the weights of a tap's map of [h,w] positions.
 * A new tensor [h,w]; the mask stays the caller's.
 */
export function propagateGuide(
  mask: tf.Tensor2D,
  tap: Pick<TapInfo, 'stride' | 'receptiveField'>,
  size: readonly [number, number],
  method: GuidePropagation,
): tf.Tensor2D {
  const { stride, receptiveField } = tap;
  if (!(stride >= 1 && receptiveField >= 1)) throw new Error(`tap geometry must be positive, got stride ${stride}, receptive field ${receptiveField}`);
  return tf.tidy(() => {
    switch (method) {
      case 'simple':
        return areaResize(mask, size);
      case 'inside':
        return tf.sub(1, maxOverReceptiveFields(tf.sub(1, binarise(mask)) as tf.Tensor2D, stride, receptiveField, size)) as tf.Tensor2D;
      case 'all':
        return maxOverReceptiveFields(binarise(mask), stride, receptiveField, size);
    }
  });
}

/** Morphological erosion of a mask's region by a square of side `size` (stride 1, same size out). */
export function erode(mask: tf.Tensor2D, size: number): tf.Tensor2D {
  return propagateGuide(mask, { stride: 1, receptiveField: size }, mask.shape, 'inside');
}

/** Morphological dilation of a mask's region by a square of side `size` (stride 1, same size out). */
export function dilate(mask: tf.Tensor2D, size: number): tf.Tensor2D {
  return propagateGuide(mask, { stride: 1, receptiveField: size }, mask.shape, 'all');
}
