/** The network's building blocks: 3×3 SAME convolution with bias and ReLU, and 2×2 pooling. */
import * as tf from '@tensorflow/tfjs';

export function conv2dBiasRelu(x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter: kernel, strides: 1, pad: 'same', bias, activation: 'relu' });
}

export function pool2d(x: tf.Tensor4D, kind: 'max' | 'avg'): tf.Tensor4D {
  return kind === 'max' ? tf.maxPool(x, 2, 2, 'valid') : tf.avgPool(x, 2, 2, 'valid');
}
