/**
 * Horn–Schunck (Horn & Schunck 1981) with warping, at one pyramid level: the global method that
 * minimises ∫ (∇I·δ + I_t)² + α²(|∇u|² + |∇v|²) for the increment δ = w − w₀ around the current flow
 * w₀, re-linearising a few times per level (the incremental, coarse-to-fine scheme of Brox et al. 2004
 * with quadratic penalties). The Euler–Lagrange equations are solved by Horn & Schunck's Jacobi
 * iteration: w = w̄ − ∇I (∇I·(w̄ − w₀) + I_t) / (α² + |∇I|²), with w̄ the weighted neighbour average
 * (1/6 edge, 1/12 diagonal neighbours). Where the data term says nothing (no texture, or a warp that
 * leaves the image) the smoothness term fills the flow in from the neighbours.
 */
import * as tf from '@tensorflow/tfjs';
import { gradients } from './pyramid';
import { insideMask, warp } from './warp';

export interface HornSchunckOptions {
  /** Smoothness weight α, in luminance (0..1) units per pixel. */
  alpha: number;
  /** Re-linearisations (warps) per pyramid level. */
  warps: number;
  /** Jacobi iterations per warp. */
  iterations: number;
}

export const HORN_SCHUNCK_DEFAULTS: HornSchunckOptions = { alpha: 0.05, warps: 3, iterations: 40 };

/** Horn & Schunck's neighbour average w̄, per flow channel, edges mirrored. */
function neighbourAverage(flow: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.depthwiseConv2d(tf.mirrorPad(flow, [[0, 0], [1, 1], [1, 1], [0, 0]], 'symmetric'), kernel, 1, 'valid'));
}

/** Refines `init` (flow from i1 to i2, luminance images [1,H,W,1]) by warped Horn–Schunck. */
export function hornSchunckLevel(i1: tf.Tensor4D, i2: tf.Tensor4D, init: tf.Tensor4D, opts: HornSchunckOptions): tf.Tensor4D {
  const d = 1 / 6;
  const e = 1 / 12;
  const kernel = tf.tidy(() => tf.tile(tf.reshape(tf.tensor1d([e, d, e, d, 0, d, e, d, e]), [3, 3, 1, 1]), [1, 1, 2, 1]) as tf.Tensor4D);
  let flow = tf.clone(init);
  for (let k = 0; k < opts.warps; k++) {
    const base = flow;
    // Per warp: ∇I, and the parts of the Jacobi update that do not change between iterations,
    // w = w̄ − ∇I/(α² + |∇I|²) · (∇I·w̄ + (I_t − ∇I·w₀)).
    const [grad, step, offset] = tf.tidy(() => {
      const warped = warp(i2, base);
      const inside = insideMask(base);
      const { dx, dy } = gradients(tf.mul(tf.add(i1, warped), 0.5) as tf.Tensor4D);
      const g = tf.mul(tf.concat([dx, dy], 3), inside) as tf.Tensor4D;
      const it = tf.mul(tf.sub(warped, i1), inside);
      const denominator = tf.add(tf.sum(tf.square(g), 3, true), opts.alpha * opts.alpha);
      return [g, tf.div(g, denominator) as tf.Tensor4D, tf.sub(it, tf.sum(tf.mul(g, base), 3, true)) as tf.Tensor4D];
    });
    for (let n = 0; n < opts.iterations; n++) {
      const next = tf.tidy(() => {
        const avg = neighbourAverage(flow, kernel);
        const r = tf.add(tf.sum(tf.mul(grad, avg), 3, true), offset);
        return tf.sub(avg, tf.mul(step, r)) as tf.Tensor4D;
      });
      if (flow !== base) flow.dispose();
      flow = next;
    }
    if (flow !== base) base.dispose();
    tf.dispose([grad, step, offset]);
  }
  kernel.dispose();
  return flow;
}
