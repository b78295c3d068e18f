/**
 * The Wasserstein-2 distance between the Gaussians N(μ_F, Σ_F) and N(μ_S, Σ_S) fitted to the generated
 * and the style image's features (the closed form of Dowson & Landau 1982 / Givens & Shortt 1984, used
 * as a style loss by crowsonkb/style-transfer-pytorch, StyleLossW2):
 *
 *   W₂² = ‖μ_F − μ_S‖² + tr(Σ_F + Σ_S − 2 (Σ_S^½ Σ_F Σ_S^½)^½),
 *
 * divided by N here (crowsonkb averages both terms over the channels; the reference gatys_torch.py
 * style-stats divides the sum by N, which this matches). Both covariances are the population ones plus
 * εI, ε = 1e-5 (statistics/moments.ts; crowsonkb adds 1e-4). The target keeps Σ_S and Σ_S^½, computed
 * once; the per-evaluation root is the Newton–Schulz iteration of sqrtm.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { covariance, splitRawMoments } from '../statistics/moments';
import { newtonSchulz, TARGET_ITERATIONS, traceSqrtm } from './sqrtm';

/** rawMoments of the style → [μ_S; Σ_S; Σ_S^½], (2N + 1) × N. */
export function prepareGaussian(moments: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const m = moments as tf.Tensor2D;
    const cov = covariance(m);
    const { sqrt } = newtonSchulz(cov, TARGET_ITERATIONS);
    return tf.concat([splitRawMoments(m).mean, cov, sqrt], 0) as tf.Tensor2D;
  });
}

/** W₂²/N between the rawMoments of the generated image and a prepared Gaussian target. */
export function wasserstein2(moments: tf.Tensor, gaussian: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const m = moments as tf.Tensor2D;
    const n = m.shape[1];
    const meanS = tf.slice(gaussian, [0, 0], [1, n]);
    const covS = tf.slice(gaussian, [1, 0], [n, n]) as tf.Tensor2D;
    const rootS = tf.slice(gaussian, [1 + n, 0], [n, n]) as tf.Tensor2D;
    const covF = covariance(m);
    const meanTerm = tf.sum(tf.squaredDifference(splitRawMoments(m).mean, meanS));
    const trace = (x: tf.Tensor2D) => tf.sum(tf.mul(x, tf.eye(n)));
    const cross = traceSqrtm(tf.matMul(tf.matMul(rootS, covF), rootS));
    return tf.div(tf.add(meanTerm, tf.sub(tf.add(trace(covF), trace(covS)), tf.mul(cross, 2))), n) as tf.Scalar;
  });
}
