/**
 * The YIQ colour space (NTSC 1953), in which Gatys et al. 2017 (§5, "Colour Control") separate
 * luminance Y from the colour channels I and Q: luminance-only transfer optimises Y and keeps the
 * content's I and Q.
 *
 * The map is linear, without offsets, so an RGB image in 0..255 has Y in 0..255 and I, Q in about
 * ±152 and ±134. The I and Q rows sum to 0 and the Y row to 1: a grey pixel (R = G = B) has I = Q = 0,
 * and the inverse's first column is (1, 1, 1) — changing Y by d changes R, G and B by d each, which
 * `withLuminance` uses.
 */
import * as tf from '@tensorflow/tfjs';
import { applyColourMatrix } from './affine';
import { inverse3, type Matrix3 } from './matrix3';

/** RGB → YIQ, the FCC (NTSC) coefficients. */
export const RGB_TO_YIQ: Matrix3 = [0.299, 0.587, 0.114, 0.596, -0.274, -0.322, 0.211, -0.523, 0.312];

/** The exact (float64) inverse of RGB_TO_YIQ, not the rounded published one, so round trips are exact. */
export const YIQ_TO_RGB: Matrix3 = inverse3(RGB_TO_YIQ);

/** [1,H,W,3] RGB → [1,H,W,3] YIQ, in the same units. */
export function rgbToYiq(rgb: tf.Tensor4D): tf.Tensor4D {
  return applyColourMatrix(rgb, RGB_TO_YIQ);
}

/** [1,H,W,3] YIQ → [1,H,W,3] RGB. */
export function yiqToRgb(yiq: tf.Tensor4D): tf.Tensor4D {
  return applyColourMatrix(yiq, YIQ_TO_RGB);
}

/** Y of an RGB image, [1,H,W,1]. */
export function luminance(rgb: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sum(tf.mul(rgb, tf.tensor1d(RGB_TO_YIQ.slice(0, 3))), -1, true) as tf.Tensor4D);
}

/** The RGB image with the colour (I, Q) of `rgb` and Y = 0: add a luminance to it to get an image. */
export function chromaOnly(rgb: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sub(rgb, luminance(rgb)));
}

/**
 * The RGB image with luminance `y` [1,H,W,1] and the I and Q of `chromaSource` [1,H,W,3] (same size):
 * chroma-only + y on every channel, differentiable in both.
 */
export function withLuminance(y: tf.Tensor4D, chromaSource: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.add(chromaOnly(chromaSource), y));
}

/** The grey RGB image (I = Q = 0) of a luminance [1,H,W,1]. */
export function greyImage(y: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.tile(y, [1, 1, 1, 3]));
}
