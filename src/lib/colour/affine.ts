/**
 * Per-pixel affine colour maps x ↦ A·x + b of an image [1,H,W,3]: the YIQ conversion (b = 0) and
 * colour histogram matching both are one.
 */
import * as tf from '@tensorflow/tfjs';
import type { Matrix3 } from './matrix3';

/** A·x + b at every pixel; `a` row-major (row i gives output channel i), `b` in the image's units. */
export function applyColourMatrix(image: tf.Tensor4D, a: Matrix3, b?: readonly number[]): tf.Tensor4D {
  const [batch, h, w, c] = image.shape;
  if (c !== 3) throw new Error(`colour maps need 3 channels, got shape [${image.shape.join(',')}]`);
  return tf.tidy(() => {
    // Rows are pixels: X·Aᵀ.
    const mapped = tf.matMul(tf.reshape(image, [batch * h * w, 3]), tf.tensor2d([...a], [3, 3]), false, true);
    const shifted = b ? tf.add(mapped, tf.tensor1d([...b])) : mapped;
    return tf.reshape(shifted, [batch, h, w, 3]);
  });
}
