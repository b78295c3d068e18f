/**
 * The temporal loss of Ruder, Dosovitskiy & Brox, "Artistic style transfer for videos" (GCPR 2016),
 * as an objective over the RGB image.
 */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';
import type { Objective } from '../objectives/objective';

/** One previous output, warped into the current frame's grid, with the weights c of its pixels. */
export interface TemporalTarget {
  /** ω(x^(i−j)): the stylised frame i−j warped into frame i, RGB 0..255, [1,H,W,3]. */
  readonly warped: tf.Tensor4D;
  /** c^(i−j,i) (short-term) or c_long^(i−j,i) (long-term), [1,H,W,1], 0..1. */
  readonly weights: tf.Tensor4D;
}

/**
 * L = (1/D) Σ_j Σ_k c_j,k·(x_k − ω_j,k)², D = H·W·3, over the RGB 0..255 image x [1,H,W,3].
 *
 * With one target (the previous frame, weights c) this is the paper's short-term temporal loss
 * L_temporal(x, ω, c) (§3.2, eq. 3, D = W×H×C); with the targets of the previous frames i−j, j ∈ J,
 * weighted by `longTermWeights`, it is the long-term loss (§3.3), the sum of L_temporal over j. The
 * targets are borrowed: they must outlive the objective, and whoever made them disposes them. The
 * weight γ of the term belongs to the weighted sum it joins.
 */
export function temporalLoss(targets: readonly TemporalTarget[], name = 'temporal'): Objective {
  if (targets.length === 0) throw new NstError(`${name}: a temporal loss needs at least one previous frame`);
  const [, h, w] = targets[0]!.warped.shape;
  for (const { warped, weights } of targets) {
    if (!tf.util.arraysEqual(warped.shape, [1, h, w, 3]) || !tf.util.arraysEqual(weights.shape, [1, h, w, 1])) {
      throw new NstError(
        `${name}: a target's warped frame [${warped.shape.join(',')}] and weights [${weights.shape.join(',')}] must be [1,${h},${w},3] and [1,${h},${w},1]`,
        'warp every previous output into the current frame and compute its weights at that size',
      );
    }
  }
  const d = h * w * 3;
  return {
    name,
    layers: [],
    evaluate(_taps, image) {
      if (!tf.util.arraysEqual(image.shape, [1, h, w, 3])) {
        throw new NstError(`${name}: the image [${image.shape.join(',')}] does not match the warped previous frames [1,${h},${w},3]`, 'compute the temporal targets at the size of the image being optimised');
      }
      return tf.tidy(() => tf.div(tf.addN(targets.map(({ warped, weights }) => tf.sum(tf.mul(weights, tf.squaredDifference(image, warped))))), d) as tf.Scalar);
    },
  };
}
