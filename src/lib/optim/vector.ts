/**
 * Vector algebra over tensors of any shape, for optimizers that keep their vectors on the device and
 * read only scalars back.
 */
import * as tf from '@tensorflow/tfjs';
import type { HostTensor } from './optimizer';

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

/** A host copy of a float32 tensor (one read). */
export function toHost(t: tf.Tensor): HostTensor {
  if (t.dtype !== 'float32') throw new Error(`optimizer state must be float32, got ${t.dtype}`);
  return { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) };
}

/** The tensor of a host copy: the same float32 values, bit for bit. */
export function fromHost(h: HostTensor): tf.Tensor {
  return tf.tensor(h.data, h.shape, 'float32');
}
