/**
 * Per-filter sorted activations, the exact form of a per-channel histogram: histogram matching maps
 * the value of rank r to the target's value of the same quantile (Risser, Wilmot & Barnes 2017 match
 * 256-bin histograms; sorting is the limit of infinitely many bins and needs no bin edges).
 */
import * as tf from '@tensorflow/tfjs';
import { featureMatrix } from '../gram';

/** [N, M]: each filter's M activations in descending order. Not differentiable (targets only). */
export function sortedChannels(features: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const rows = tf.transpose(featureMatrix(features)) as tf.Tensor2D;
    return tf.topk(rows, rows.shape[1], true).values as tf.Tensor2D;
  });
}

/**
 * [N, q]: sorted rows resampled to q values by linear interpolation between neighbouring ranks, the
 * quantile function at q evenly spaced levels; the identity when q is the row length.
 */
export function resampleSorted(sorted: tf.Tensor2D, q: number): tf.Tensor2D {
  const m = sorted.shape[1];
  if (q === m) return tf.clone(sorted);
  const at = Array.from({ length: q }, (_, j) => (q === 1 ? 0 : (j * (m - 1)) / (q - 1)));
  const lo = at.map(Math.floor);
  const hi = at.map((x) => Math.min(Math.ceil(x), m - 1));
  const frac = at.map((x, j) => x - lo[j]!);
  return tf.tidy(() => {
    const a = tf.gather(sorted, tf.tensor1d(lo, 'int32'), 1);
    const b = tf.gather(sorted, tf.tensor1d(hi, 'int32'), 1);
    return tf.add(a, tf.mul(tf.sub(b, a), tf.tensor2d(frac, [1, q]))) as tf.Tensor2D;
  });
}

/**
 * Σ_i b_i·Q_i of the style images' quantile functions, each resampled to the first image's length: the
 * 1-D Wasserstein barycentre of their per-filter distributions, which is what a blend of histograms
 * should mean (averaging histograms instead would make a bimodal mixture, not a blend).
 */
export function blendSorted(sorted: readonly tf.Tensor[], blend: readonly number[]): tf.Tensor2D {
  const q = sorted[0]!.shape[1]!;
  return tf.tidy(() => tf.addN(sorted.map((s, i) => tf.mul(resampleSorted(s as tf.Tensor2D, q), blend[i]!))) as tf.Tensor2D);
}
