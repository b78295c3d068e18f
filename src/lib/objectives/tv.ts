/**
 * Total-variation regulariser on the (preprocessed) image, as jcjohnson/neural-style's TVLoss.
 *
 * TV(x) = ½ Σ_{c, i<H−1, j<W−1} [(x_{i,j+1} − x_{i,j})² + (x_{i+1,j} − x_{i,j})²]
 *
 * jcjohnson's TVLoss only implements the gradient (updateGradInput, after kaishengtai/neuralart) and
 * reports no value; this is the energy whose gradient that is: both differences are taken over the
 * top-left (H−1) × (W−1) block, so the last row's horizontal and the last column's vertical differences
 * are left out, and the ½ makes the gradient match without a factor 2. Squared differences, not the
 * anisotropic Σ|·| of Rudin et al.
 */
import * as tf from '@tensorflow/tfjs';
import type { Objective } from './objective';

export function totalVariation(name = 'tv'): Objective {
  return {
    name,
    layers: [],
    evaluate(_taps, image) {
      const [, h, w, c] = image.shape;
      return tf.tidy(() => {
        const x = tf.slice(image, [0, 0, 0, 0], [1, h - 1, w - 1, c]);
        const right = tf.slice(image, [0, 0, 1, 0], [1, h - 1, w - 1, c]);
        const down = tf.slice(image, [0, 1, 0, 0], [1, h - 1, w - 1, c]);
        return tf.mul(tf.add(tf.sum(tf.squaredDifference(right, x)), tf.sum(tf.squaredDifference(down, x))), 0.5);
      });
    },
  };
}
