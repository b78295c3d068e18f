/**
 * Transforms of a feature map applied before a statistic, on the generated and the style image alike.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * F + s elementwise: Novak & Nikulin 2016 ("Improving the Neural Algorithm of Artistic Style",
 * arXiv:1605.04603, "activation shift") compute the Gram matrix of the shifted map, G = (F + s)(F + s)ᵀ,
 * with s = −1, so that the many zero activations after a ReLU take part in the correlations instead of
 * leaving sparse, near-zero Gram entries.
 */
export function shiftActivations(features: tf.Tensor4D, shift: number): tf.Tensor4D {
  return tf.add(features, shift);
}

/**
 * softmax(F/T) over all N·M entries of the map together (Wang, Li & Vasconcelos 2021, "Rethinking and
 * Improving the Robustness of Image Style Transfer", CVPR, §4 "SWAG"; peiwang062/swag resnet_swag.py
 * `softmax3d`, which flattens C·H·W before the softmax, T = 1). It raises the entropy of the peaky
 * activations of residual networks, which is what makes their Gram statistics usable for style. The
 * values then sum to 1, so style weights must grow accordingly (the authors' code uses β = 1e17).
 */
export function softmaxSmoothing(features: tf.Tensor4D, temperature: number): tf.Tensor4D {
  return tf.tidy(() => tf.reshape(tf.softmax(tf.reshape(tf.div(features, temperature), [1, -1])), features.shape) as tf.Tensor4D);
}
