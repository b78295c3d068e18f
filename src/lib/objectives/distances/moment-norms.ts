/**
 * The AdaIN style loss of Huang & Belongie 2017 (§6.2, eq. 13) at one layer, between [2, N] mean/std
 * statistics (statistics/moments.ts meanStd): ‖μ(F) − μ(S)‖₂ + ‖σ(F) − σ(S)‖₂, the unsquared Euclidean
 * norms. The norm's gradient x/‖x‖ is undefined at 0, so each norm is taken as √(‖x‖² + ε) − √ε, which
 * is 0 at the target and differs from ‖x‖ by less than √ε = 1e-6 elsewhere.
 */
import * as tf from '@tensorflow/tfjs';

const NORM_EPSILON = 1e-12;

function smoothNorm(x: tf.Tensor): tf.Scalar {
  return tf.sub(tf.sqrt(tf.add(tf.sum(tf.square(x)), NORM_EPSILON)), Math.sqrt(NORM_EPSILON));
}

export function meanStdNorms(statistic: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const d = tf.sub(statistic, target);
    const n = d.shape[1]!;
    return tf.add(smoothNorm(tf.slice(d, [0, 0], [1, n])), smoothNorm(tf.slice(d, [1, 0], [1, n])));
  });
}
