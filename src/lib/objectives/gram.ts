/**
 * The Gram matrix of a feature map (Gatys et al. 2016, eq. 3): G^l_ij = Σ_k F^l_ik F^l_jk, with F^l the
 * N_l × M_l matrix of N_l filters over M_l = h·w positions.
 */
import * as tf from '@tensorflow/tfjs';
import { gramMatrix } from '../net/gram-matrix';

/**
 * F^l transposed, as the M × N matrix (positions × filters) of an NHWC map [1,h,w,c]. In NHWC this is a
 * free reshape, where the paper's N × M layout would need a transpose.
 */
export function featureMatrix(features: tf.Tensor4D): tf.Tensor2D {
  const [batch, h, w, c] = features.shape;
  if (batch !== 1) throw new Error(`feature maps have batch 1, got shape [${features.shape.join(',')}]`);
  return tf.reshape(features, [h * w, c]);
}

/** G = FᵀF (N × N), with the product layout that is fastest on the current backend (net/gram-matrix). */
export function gram(features: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => gramMatrix(featureMatrix(features)));
}
