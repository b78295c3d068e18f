/**
 * Dense iterative Lucas–Kanade (Lucas & Kanade 1981) at one pyramid level, the refinement step of a
 * coarse-to-fine scheme in the manner of Bouguet's pyramidal tracker, but for every pixel at once.
 *
 * Each iteration warps the second image by the current flow, linearises brightness constancy around it,
 * I₂(p + w + δ) ≈ I₁(p) ⇒ ∇I·δ + I_t = 0, and solves for δ in the least-squares sense over a Gaussian
 * window around every pixel: (Σ ∇I∇Iᵀ + λ·1) δ = −Σ ∇I·I_t. λ (a Tikhonov term, our addition) keeps
 * the 2×2 system solvable where the window has no texture; there δ → 0 and the pixel keeps the flow
 * carried up from the coarser level. Pixels whose warp leaves the second image contribute no equation.
 */
import * as tf from '@tensorflow/tfjs';
import { gradients } from './pyramid';
import { insideMask, warp } from './warp';

export interface LucasKanadeOptions {
  /** Iterations (warp + solve) per pyramid level. */
  iterations: number;
  /** σ of the Gaussian integration window, pixels. */
  window: number;
  /** λ added to the structure tensor's diagonal, in (luminance 0..1 per pixel)². */
  regularisation: number;
}

export const LUCAS_KANADE_DEFAULTS: LucasKanadeOptions = { iterations: 4, window: 2, regularisation: 1e-4 };

/** Normalised Gaussian taps of σ, radius ⌈2σ⌉. */
function gaussianTaps(sigma: number): number[] {
  const r = Math.max(1, Math.ceil(2 * sigma));
  const taps = Array.from({ length: 2 * r + 1 }, (_, k) => Math.exp(-((k - r) ** 2) / (2 * sigma * sigma)));
  const sum = taps.reduce((a, b) => a + b, 0);
  return taps.map((t) => t / sum);
}

/** Gaussian-weighted window sums of every channel (zeros beyond the border: no equations there). */
function windowSum(t: tf.Tensor4D, taps: readonly number[]): tf.Tensor4D {
  const c = t.shape[3];
  return tf.tidy(() => {
    const k = tf.tensor1d(taps as number[]);
    const kx = tf.tile(tf.reshape(k, [1, taps.length, 1, 1]), [1, 1, c, 1]) as tf.Tensor4D;
    const ky = tf.tile(tf.reshape(k, [taps.length, 1, 1, 1]), [1, 1, c, 1]) as tf.Tensor4D;
    return tf.depthwiseConv2d(tf.depthwiseConv2d(t, kx, 1, 'same'), ky, 1, 'same');
  });
}

/** Refines `init` (flow from i1 to i2, luminance images [1,H,W,1]) by Lucas–Kanade iterations. */
export function lucasKanadeLevel(i1: tf.Tensor4D, i2: tf.Tensor4D, init: tf.Tensor4D, opts: LucasKanadeOptions): tf.Tensor4D {
  const taps = gaussianTaps(opts.window);
  let flow = tf.clone(init);
  for (let it = 0; it < opts.iterations; it++) {
    const next = tf.tidy(() => {
      const warped = warp(i2, flow);
      const inside = insideMask(flow);
      const { dx, dy } = gradients(tf.mul(tf.add(i1, warped), 0.5) as tf.Tensor4D);
      const ix = tf.mul(dx, inside);
      const iy = tf.mul(dy, inside);
      const itd = tf.mul(tf.sub(warped, i1), inside);
      const s = windowSum(tf.concat([tf.mul(ix, ix), tf.mul(ix, iy), tf.mul(iy, iy), tf.mul(ix, itd), tf.mul(iy, itd)], 3) as tf.Tensor4D, taps);
      const [sxx, sxy, syy, sxt, syt] = tf.split(s, 5, 3).map((t, k) => (k === 0 || k === 2 ? tf.add(t, opts.regularisation) : t));
      const det = tf.sub(tf.mul(sxx!, syy!), tf.mul(sxy!, sxy!));
      const du = tf.div(tf.sub(tf.mul(sxy!, syt!), tf.mul(syy!, sxt!)), det);
      const dv = tf.div(tf.sub(tf.mul(sxy!, sxt!), tf.mul(sxx!, syt!)), det);
      return tf.add(flow, tf.concat([du, dv], 3)) as tf.Tensor4D;
    });
    flow.dispose();
    flow = next;
  }
  return flow;
}
