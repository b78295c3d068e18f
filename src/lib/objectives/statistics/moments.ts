/**
 * First and second moments of a feature map over its M = h·w positions, per filter or jointly: the
 * statistics that mean/std matching (Huang & Belongie 2017), the Wasserstein-2 distance between
 * Gaussians (crowsonkb/style-transfer-pytorch) and the closed-form MMD kernels (Li et al. 2017) compare.
 */
import * as tf from '@tensorflow/tfjs';
import { gram } from '../gram';

/** Keeps the standard deviation differentiable where a filter is constant (dead ReLUs). */
export const MOMENT_EPSILON = 1e-5;

/**
 * [2, N]: row 0 the means μ_i = (1/M) Σ_k F_ik, row 1 the standard deviations σ_i = √(var_i + ε) with
 * the population variance (1/M) Σ_k (F_ik − μ_i)², the statistics AdaIN matches (Huang & Belongie 2017,
 * eq. 5–6, where ε sits inside the root as here).
 */
export function meanStd(features: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(features, [0, 1, 2]);
    return tf.stack([mean, tf.sqrt(tf.add(variance, MOMENT_EPSILON))]) as tf.Tensor2D;
  });
}

/** [1, N]: the means μ_i over positions. */
export function channelMeans(features: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => tf.reshape(tf.mean(features, [0, 1, 2]), [1, -1]) as tf.Tensor2D);
}

/**
 * [N + 1, N]: row 0 the means μ, rows 1…N the second raw moment E[f fᵀ] = G/M. Unlike the covariance,
 * both are linear in the empirical distribution, so the targets of several style images blend as
 * Σ_i b_i·statistic_i into the statistic of their mixture (crowsonkb's `get_target` makes the same
 * choice for its W2 loss).
 */
export function rawMoments(features: tf.Tensor4D): tf.Tensor2D {
  const [, h, w] = features.shape;
  return tf.tidy(() => tf.concat([channelMeans(features), tf.div(gram(features), h * w)], 0) as tf.Tensor2D);
}

/** Splits a rawMoments statistic into μ [1, N] and E[f fᵀ] [N, N]. */
export function splitRawMoments(moments: tf.Tensor2D): { mean: tf.Tensor2D; second: tf.Tensor2D } {
  const n = moments.shape[1];
  return { mean: tf.slice(moments, [0, 0], [1, n]), second: tf.slice(moments, [1, 0], [n, n]) };
}

/** The population covariance E[f fᵀ] − μμᵀ + εI of a rawMoments statistic (ε as MOMENT_EPSILON). */
export function covariance(moments: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, second } = splitRawMoments(moments);
    const outer = tf.matMul(mean, mean, true, false);
    return tf.add(tf.sub(second, outer), tf.mul(tf.eye(second.shape[0]), MOMENT_EPSILON)) as tf.Tensor2D;
  });
}
