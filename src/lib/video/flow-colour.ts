/**
 * A flow field as a picture, in the usual optical-flow convention (Baker et al. 2011): the direction
 * is the hue, the length the saturation, white where nothing moves.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * RGB 0..255 [1,H,W,3] of a flow [1,H,W,2]: hue = direction (0° = +x red, 120° = +y as y points down,
 * green-ish … through the HSV circle), saturation = |w| / maxMagnitude clipped to 1, value 1.
 * maxMagnitude defaults to the field's largest vector, so pass one value to compare several fields.
 */
export function flowToRgb(flow: tf.Tensor4D, maxMagnitude?: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [u, v] = tf.split(flow, 2, 3);
    const magnitude = tf.sqrt(tf.add(tf.square(u!), tf.square(v!)));
    const scale = maxMagnitude ?? Math.max(tf.max(magnitude).dataSync()[0]!, 1e-6);
    const s = tf.clipByValue(tf.div(magnitude, scale), 0, 1);
    // Hue in sextants [0, 6); HSV → RGB with V = 1: c_n = 1 − S·clip(min(k, 4 − k), 0, 1), k = (n + H) mod 6.
    const h = tf.mod(tf.add(tf.div(tf.atan2(v!, u!), Math.PI / 3), 6), 6);
    const channel = (n: number) => {
      const k = tf.mod(tf.add(h, n), 6);
      return tf.sub(1, tf.mul(s, tf.clipByValue(tf.minimum(k, tf.sub(4, k)), 0, 1)));
    };
    return tf.mul(tf.concat([channel(5), channel(3), channel(1)], 3), 255) as tf.Tensor4D;
  });
}
