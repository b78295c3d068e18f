/**
 * Squared maximum mean discrepancies between the generated image's and the style image's feature
 * distributions (Li, Wang, Liu & Hou 2017, "Demystifying Neural Style Transfer", IJCAI, §3–4):
 *
 *   MMD²[F, S] = E k(f, f') + E k(s, s') − 2 E k(f, s),
 *
 * expectations over the M (and M_s) positions' N-dimensional feature vectors, each layer's term divided
 * by a normaliser Z_k. Li et al. show that Gatys et al.'s E_l = Σ(G − A)²/(4N²M²) is 1/(4N²)·MMD² with
 * k(x, y) = (xᵀy)²: for same-sized maps Σ(G − A)² = M²·MMD²_poly(c = 0, d = 2). The normalisers used
 * here: Z = 4N² for polynomial kernels (so that c = 0, d = 2 is E_l exactly), Z = N for the linear
 * kernel, Z = 1 for the Gaussian, after Li et al.'s "normalisation term corresponding to the scale of
 * the feature map and the kernel".
 *
 * The linear kernel and the polynomial of degree 2 have closed forms in the means and second moments
 * (N and N² numbers, any image size). Other kernels compare every pair of positions: M × M_s matrices,
 * refused beyond MAX_KERNEL_ENTRIES with a hint. Li et al.'s code (lyttonhao/Neural-Style-MMD,
 * mmd_loss.py) estimates the Gaussian MMD from random pairs instead; the full quadratic estimate here
 * is deterministic, which L-BFGS needs.
 */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../../errors';
import { splitRawMoments } from '../statistics/moments';
import { splitSamples } from '../statistics/samples';

/** Kernel entries (pairs of positions) one evaluation may hold, about 256 MB per float32 matrix. */
export const MAX_KERNEL_ENTRIES = 2 ** 26;

export type Kernel =
  | { kind: 'polynomial'; c: number; degree: number }
  /** 2σ² = bandwidth × the mean squared distance, or `scale` itself where given. */
  | { kind: 'gaussian'; bandwidth: number; scale?: number };

/** ‖μ_F − μ_S‖²/N: the linear kernel k(x, y) = xᵀy, whose MMD² is the squared distance of the means. */
export function mmdLinear(means: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.squaredDifference(means, target)), means.shape[1]!));
}

/**
 * (‖Ĝ_F − Ĝ_S‖² + 2c‖μ_F − μ_S‖²)/(4N²) with Ĝ = G/M, from rawMoments statistics: the closed form of
 * MMD² for k(x, y) = (xᵀy + c)², since E(xᵀy + c)² = ⟨Ĝ_X, Ĝ_Y⟩ + 2c μ_Xᵀμ_Y + c².
 */
export function mmdQuadratic(moments: tf.Tensor, target: tf.Tensor, c: number): tf.Scalar {
  return tf.tidy(() => {
    const f = splitRawMoments(moments as tf.Tensor2D);
    const s = splitRawMoments(target as tf.Tensor2D);
    const n = f.second.shape[0];
    const gram = tf.sum(tf.squaredDifference(f.second, s.second));
    const mean = tf.mul(tf.sum(tf.squaredDifference(f.mean, s.mean)), 2 * c);
    return tf.div(tf.add(gram, mean), 4 * n * n);
  });
}

/** ‖x_i − y_j‖² for all pairs, [|X|, |Y|], clamped at 0 against rounding. */
function squaredDistances(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
  const xx = tf.sum(tf.square(x), 1, true);
  const yy = tf.reshape(tf.sum(tf.square(y), 1), [1, -1]);
  return tf.relu(tf.sub(tf.add(xx, yy), tf.mul(tf.matMul(x, y, false, true), 2))) as tf.Tensor2D;
}

/**
 * 2σ² = bandwidth · the mean squared distance over all pairs of the pooled points (Li et al.'s
 * heuristic; their code's γ = 1/mean), as 2(mean‖z‖² − ‖z̄‖²), held fixed: no gradient flows through it.
 */
function gaussianScale(points: tf.Tensor2D, targetPoints: tf.Tensor2D, bandwidth: number): tf.Scalar {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [p, q] = args as [tf.Tensor2D, tf.Tensor2D];
    const value = tf.tidy(() => {
      const z = tf.concat([p, q], 0);
      const meanSq = tf.mean(tf.sum(tf.square(z), 1));
      const centroid = tf.sum(tf.square(tf.mean(z, 0)));
      return tf.mul(tf.sub(meanSq, centroid), 2 * bandwidth) as tf.Scalar;
    });
    return { value, gradFunc: () => [tf.zerosLike(p), tf.zerosLike(q)] };
  });
  return op(points, targetPoints) as tf.Scalar;
}

function kernelMatrix(x: tf.Tensor2D, y: tf.Tensor2D, kernel: Kernel, scale: tf.Scalar | null): tf.Tensor2D {
  if (kernel.kind === 'polynomial') return tf.pow(tf.add(tf.matMul(x, y, false, true), kernel.c), kernel.degree) as tf.Tensor2D;
  return tf.exp(tf.neg(tf.div(squaredDistances(x, y), scale!))) as tf.Tensor2D;
}

/**
 * MMD²/Z by explicit kernel matrices, between the generated image's feature matrix [M, N] and weighted
 * style samples [M_s, N + 1] (statistics/samples.ts), with Z = 4N² (polynomial) or 1 (Gaussian).
 */
export function mmdExplicit(points: tf.Tensor, samples: tf.Tensor, kernel: Kernel): tf.Scalar {
  const [m, n] = points.shape as [number, number];
  const ms = samples.shape[0]!;
  const entries = m * m + m * ms + ms * ms;
  if (entries > MAX_KERNEL_ENTRIES) {
    throw new NstError(
      `--style-loss mmd-${kernel.kind === 'polynomial' ? 'poly' : 'gauss'}: ${m} × ${ms} positions need ${entries.toExponential(1)} kernel entries (at most ${MAX_KERNEL_ENTRIES.toExponential(1)})`,
      'use this loss on deeper layers or a smaller --image-size; mmd-linear and mmd-poly with --mmd-poly-degree 2 have closed forms for any size',
    );
  }
  return tf.tidy(() => {
    const f = points as tf.Tensor2D;
    const { points: s, weights } = splitSamples(samples as tf.Tensor2D);
    const scale = kernel.kind !== 'gaussian' ? null : kernel.scale !== undefined ? tf.scalar(kernel.scale) : gaussianScale(f, s, kernel.bandwidth);
    const kff = tf.mean(kernelMatrix(f, f, kernel, scale));
    const kfs = tf.div(tf.sum(tf.matMul(kernelMatrix(f, s, kernel, scale), weights)), m);
    const kss = tf.sum(tf.mul(tf.matMul(kernelMatrix(s, s, kernel, scale), weights), weights));
    const mmd = tf.add(tf.sub(kff, tf.mul(kfs, 2)), kss);
    return (kernel.kind === 'polynomial' ? tf.div(mmd, 4 * n * n) : mmd) as tf.Scalar;
  });
}
