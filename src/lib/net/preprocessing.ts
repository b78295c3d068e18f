/**
 * The pixel spaces networks were trained in, by name (`Preprocessing` in network.ts), each with its
 * inverse: `caffe` (VGG; preprocess.ts) and Keras' `tf` mode, x/127.5 − 1 ∈ [−1, 1], the convention of
 * the Keras InceptionV3 (Szegedy et al. 2016) and MobileNetV2 (Sandler et al. 2018) weights
 * (`keras.applications.*.preprocess_input`).
 */
import * as tf from '@tensorflow/tfjs';
import type { Preprocessing } from './network';
import { deprocess as deprocessCaffe, preprocess as preprocessCaffe } from './preprocess';

/** [1,H,W,3] RGB 0..255 → [1,H,W,3] RGB in [−1, 1]. */
export function preprocessTf(rgb: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sub(tf.div(rgb, 127.5), 1) as tf.Tensor4D);
}

/** Inverse of preprocessTf, not clipped. */
export function deprocessTf(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.mul(tf.add(x, 1), 127.5) as tf.Tensor4D);
}

export interface PixelSpace {
  preprocess(rgb: tf.Tensor4D): tf.Tensor4D;
  deprocess(x: tf.Tensor4D): tf.Tensor4D;
}

export const PIXEL_SPACES: Readonly<Record<Preprocessing, PixelSpace>> = {
  caffe: { preprocess: preprocessCaffe, deprocess: deprocessCaffe },
  tf: { preprocess: preprocessTf, deprocess: deprocessTf },
};
