/**
 * The per-pixel weights c of Ruder, Dosovitskiy & Brox, "Artistic style transfer for videos" (GCPR
 * 2016, §3.2): 1 where the flow from the current frame back to the previous one can be trusted, 0 where
 * the current frame shows something the previous one did not (disocclusion) and at motion boundaries,
 * and their long-term combination over several previous frames (§3.3).
 */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';
import { gradients } from './pyramid';
import { insideMask, warp } from './warp';

/**
 * c in the grid of the current frame i, [1,H,W,1] of 0s and 1s, from the backward flow ŵ (frame i →
 * frame i−1, the flow that warps the previous output into frame i) and the forward flow w (i−1 → i).
 * With w̃(p) = w(p + ŵ(p)), the forward flow carried to frame i, c(p) = 0 where
 *
 *   |w̃ + ŵ|² > 0.01·(|w̃|² + |ŵ|²) + 0.5            (disocclusion: the flows are not each other's inverse)
 *   |∇û|² + |∇v̂|² > 0.01·|ŵ|² + 0.002               (motion boundary)
 *
 * and 1 elsewhere. The inequalities and constants are the paper's as we recall them (§3.2, constants
 * taken from Sundaram, Brox & Keutzer 2010); the authors' released consistencyChecker agrees on them
 * (it tests the first with ≥, immaterial for real-valued flows). The paper does not say what to do
 * where p + ŵ(p) leaves the previous frame; there the check cannot be evaluated, and like the released
 * checker we set c = 0 — that is the band a camera pan uncovers. Deviation: the released checker also
 * blurs c (a Gaussian of σ 0.8) in some versions; the paper's c is binary and so is ours. ∇ is the
 * central difference, edges mirrored.
 */
export function consistencyWeights(forward: tf.Tensor4D, backward: tf.Tensor4D): tf.Tensor4D {
  if (!tf.util.arraysEqual(forward.shape, backward.shape) || forward.shape[3] !== 2) {
    throw new NstError(`consistency weights need two flows [1,H,W,2] of one size (got [${forward.shape.join(',')}] and [${backward.shape.join(',')}])`);
  }
  return tf.tidy(() => {
    const carried = warp(forward, backward);
    const sq = (t: tf.Tensor) => tf.sum(tf.square(t), 3, true);
    const disoccluded = tf.greater(sq(tf.add(carried, backward)), tf.add(tf.mul(tf.add(sq(carried), sq(backward)), 0.01), 0.5));
    const { dx, dy } = gradients(backward, 'central');
    const boundary = tf.greater(tf.add(sq(dx), sq(dy)), tf.add(tf.mul(sq(backward), 0.01), 0.002));
    const reliable = tf.logicalNot(tf.logicalOr(disoccluded, boundary));
    return tf.mul(insideMask(backward), tf.cast(reliable, 'float32')) as tf.Tensor4D;
  });
}

/**
 * The long-term weights (Ruder et al. 2016, §3.3): given c^(i−j,i) for the offsets j ∈ J in ascending
 * order (the nearest previous frame first), c_long^(i−j,i) = max(c^(i−j,i) − Σ_{k∈J, k<j} c^(i−k,i), 0),
 * so each pixel is counted once, against the most recent previous frame where it is visible. New
 * tensors, owned by the caller.
 */
export function longTermWeights(weights: readonly tf.Tensor4D[]): tf.Tensor4D[] {
  return weights.map((c, j) =>
    tf.tidy(() => (j === 0 ? tf.clone(c) : (tf.relu(tf.sub(c, tf.addN(weights.slice(0, j) as tf.Tensor4D[]))) as tf.Tensor4D))),
  );
}
