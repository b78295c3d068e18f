/**
 * A feature map as a weighted sample of N-dimensional points, one per position: what the MMD kernels
 * without a closed form (Li et al. 2017: Gaussian, polynomials of degree ≠ 2) compare point by point.
 */
import * as tf from '@tensorflow/tfjs';
import { featureMatrix } from '../gram';

/**
 * [M, N + 1]: the positions' feature vectors with a last column of weights 1/M. Weighted samples of
 * several style images concatenate (blendSamples), each image's weights scaled by its blend weight,
 * so that sums over the target are expectations under the mixture Σ_i b_i·P_i.
 */
export function weightedSamples(features: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const f = featureMatrix(features);
    return tf.concat([f, tf.fill([f.shape[0], 1], 1 / f.shape[0])], 1) as tf.Tensor2D;
  });
}

/** Concatenates weighted samples, scaling each one's weight column by its blend weight. */
export function blendSamples(samples: readonly tf.Tensor[], blend: readonly number[]): tf.Tensor2D {
  return tf.tidy(() =>
    tf.concat(
      samples.map((s, i) => {
        const n = s.shape[1]! - 1;
        return tf.concat([tf.slice(s, [0, 0], [-1, n]), tf.mul(tf.slice(s, [0, n], [-1, 1]), blend[i]!)], 1);
      }),
      0,
    ) as tf.Tensor2D,
  );
}

/** Splits weighted samples into the points [M, N] and their weights [M, 1]. */
export function splitSamples(samples: tf.Tensor2D): { points: tf.Tensor2D; weights: tf.Tensor2D } {
  const n = samples.shape[1] - 1;
  return { points: tf.slice(samples, [0, 0], [-1, n]), weights: tf.slice(samples, [0, n], [-1, 1]) };
}
