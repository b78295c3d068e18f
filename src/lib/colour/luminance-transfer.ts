/**
 * Luminance-only transfer, Gatys et al. 2017 §5.1: style transfer runs on the luminance channel
 * alone, and the result's luminance is recombined with the content image's colour channels (YIQ). So
 * that the style's luminance histogram does not pull the content's overall brightness and contrast,
 * the style luminance is first matched to the content's:
 *
 *   L_S' = (σ_C / σ_S) · (L_S − μ_S) + μ_C
 *
 * with μ, σ the mean and standard deviation of each luminance image over all its pixels.
 */
import * as tf from '@tensorflow/tfjs';
import { greyImage, luminance, withLuminance } from './yiq';

/** Keeps the ratio finite for a flat style image (σ_S = 0); in luminance units (0..255). */
const STD_EPSILON = 1e-6;

/**
 * `y` [1,H,W,1] shifted and scaled so that its mean and standard deviation are `reference`'s (any
 * size). A flat `y` becomes flat at the reference's mean.
 */
export function matchLuminance(y: tf.Tensor4D, reference: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const s = tf.moments(y);
    const r = tf.moments(reference);
    const gain = tf.div(tf.sqrt(r.variance), tf.add(tf.sqrt(s.variance), STD_EPSILON));
    return tf.add(tf.mul(tf.sub(y, s.mean), gain), r.mean) as tf.Tensor4D;
  });
}

/**
 * The style image of a luminance-only transfer, as the paper's method has it: the style's luminance
 * matched to the content's (any sizes), as a grey RGB image (I = Q = 0) for the feature network.
 */
export function luminanceOnlyStyle(style: tf.Tensor4D, content: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => greyImage(matchLuminance(luminance(style), luminance(content))));
}

/**
 * The final image of a luminance-only transfer: the result's luminance with the content's I and Q
 * (same size). Also the "original colours" post-processing of any result (see originalColours).
 */
export function recombineWithContentChroma(result: tf.Tensor4D, content: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => withLuminance(luminance(result), content));
}
