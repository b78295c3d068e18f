/**
 * Vector algebra over tensors of any shape, for optimizers that keep their vectors on the device and
 * read only scalars back.
 */
import * as tf from '@tensorflow/tfjs';

export function dot(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.sum(tf.mul(a, b));
}

/** ‖v‖_∞ */
export function maxAbs(v: tf.Tensor): tf.Scalar {
  return tf.max(tf.abs(v));
}

/** Computes several scalars and reads them to the host in one transfer (one sync on a GPU). */
export function hostNumbers(compute: () => tf.Scalar[]): number[] {
  const packed = tf.tidy(() => tf.stack(compute()));
  try {
    return Array.from(packed.dataSync());
  } finally {
    packed.dispose();
  }
}

/** Assigns `f()` to `x`, freeing the intermediates. */
export function assignFrom(x: tf.Variable, f: () => tf.Tensor): void {
  tf.tidy(() => x.assign(f()));
}
