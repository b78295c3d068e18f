/**
 * Matrix square roots of symmetric positive definite matrices for the Wasserstein-2 loss, built from
 * matrix products only: tfjs has no eigendecomposition, and products are what every backend runs
 * fastest.
 *
 * The coupled Newton–Schulz iteration (Higham 2008, "Functions of Matrices", eq. 6.35; the form
 * crowsonkb/style-transfer-pytorch's sqrtm.py and Lin & Maji 2017 use): with A normalised by its
 * Frobenius norm, Y₀ = A/‖A‖, Z₀ = I, T = (3I − Z_k Y_k)/2, Y_{k+1} = Y_k T, Z_{k+1} = T Z_k;
 * Y → (A/‖A‖)^½ and Z → (A/‖A‖)^-½ quadratically once close. An eigenvalue λ of A/‖A‖ needs about
 * log(1/λ)/log 2.25 iterations to converge; one that has not is underestimated, by less than √λ·‖A‖^½.
 *
 * Why not differentiate the iteration: the W2 loss needs only tr √M, whose gradient is ½ M^-½ — the
 * iteration's own Z. So traceSqrtm carries that gradient (symmetrised) instead of a tape of 2K matrix
 * products (crowsonkb back-propagates through a Lyapunov iteration because it needs the full √M).
 */
import * as tf from '@tensorflow/tfjs';

/** Most iterations per evaluation of the loss; the target's root, computed once, may take TARGET_ITERATIONS. */
export const NEWTON_SCHULZ_ITERATIONS = 30;
export const TARGET_ITERATIONS = 60;
/** ‖I − ZY‖_F below which every eigenvalue has converged. */
const RESIDUAL_TOLERANCE = 1e-5;

/**
 * √A and A^-½ of a symmetric positive definite A. Iterates until ‖I − Z_k Y_k‖_F (read on the host
 * each iteration) falls below RESIDUAL_TOLERANCE or stops falling, and returns the iterate with the
 * smallest residual: in float32, rounding leaves some eigenvalues of an ill-conditioned A (the
 * covariance of a layer with fewer positions than filters, plus εI) slightly negative, and the
 * iteration amplifies those 2.25× per step until it overflows; the residual's rise shows when.
 */
export function newtonSchulz(a: tf.Tensor2D, iterations = NEWTON_SCHULZ_ITERATIONS): { sqrt: tf.Tensor2D; invSqrt: tf.Tensor2D } {
  const n = a.shape[0];
  const norm = tf.norm(a);
  const eye = tf.eye(n);
  let y = tf.div(a, norm) as tf.Tensor2D;
  let z = tf.eye(n) as tf.Tensor2D;
  let best: { y: tf.Tensor2D; z: tf.Tensor2D } | null = null;
  let bestResidual = Infinity;
  for (let k = 0; ; k++) {
    const zy = tf.matMul(z, y);
    const residual = tf.tidy(() => tf.norm(tf.sub(eye, zy)).dataSync()[0]!);
    const improved = best === null || residual < bestResidual;
    if (improved) {
      if (best) tf.dispose([best.y, best.z]);
      best = { y, z };
      bestResidual = residual;
    }
    if (k === iterations || residual < RESIDUAL_TOLERANCE || !(residual < 2 * bestResidual)) {
      zy.dispose();
      if (!improved) tf.dispose([y, z]);
      break;
    }
    const t = tf.tidy(() => tf.mul(tf.sub(tf.mul(eye, 3), zy), 0.5));
    zy.dispose();
    const next: [tf.Tensor2D, tf.Tensor2D] = [tf.matMul(y, t as tf.Tensor2D), tf.matMul(t as tf.Tensor2D, z)];
    t.dispose();
    if (!improved) tf.dispose([y, z]);
    [y, z] = next;
  }
  const result = tf.tidy(() => {
    const root = tf.sqrt(norm);
    return { sqrt: tf.mul(best!.y, root) as tf.Tensor2D, invSqrt: tf.div(best!.z, root) as tf.Tensor2D };
  });
  tf.dispose([norm, eye, best!.y, best!.z]);
  return result;
}

/** tr √M, differentiable in M with the gradient ½ M^-½ (symmetrised). */
export function traceSqrtm(m: tf.Tensor2D): tf.Scalar {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [matrix, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const { sqrt, invSqrt } = newtonSchulz(matrix);
    const value = tf.sum(tf.mul(sqrt, tf.eye(matrix.shape[0])));
    sqrt.dispose();
    save([invSqrt]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const inv = saved[0] as tf.Tensor2D;
        return tf.mul(tf.add(inv, tf.transpose(inv)), tf.mul(dy, 0.25));
      },
    };
  });
  return op(m) as tf.Scalar;
}
