/**
 * Caffe preprocessing, the convention of the original VGG-19 weights (and of the Keras files):
 * RGB 0..255 → BGR, minus the ImageNet mean per channel. The optimised variable is the
 * preprocessed image, as in Gatys et al.'s code and the PyTorch reference.
 */
import * as tf from '@tensorflow/tfjs';

/** Mean in BGR order. */
export const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;

/** [1,H,W,3] RGB 0..255 → [1,H,W,3] BGR minus mean. */
export function preprocess(rgb: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sub(tf.reverse(rgb, -1), tf.tensor1d([...CAFFE_MEAN_BGR])) as tf.Tensor4D);
}

/** Inverse of preprocess: [1,H,W,3] BGR minus mean → RGB, not clipped (clip when encoding). */
export function deprocess(bgr: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.reverse(tf.add(bgr, tf.tensor1d([...CAFFE_MEAN_BGR])), -1) as tf.Tensor4D);
}
