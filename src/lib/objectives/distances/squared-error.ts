/** Squared-error distances between a statistic and its target. */
import * as tf from '@tensorflow/tfjs';

/** mean((s − t)²) over the entries: nn.MSELoss / nn.MSECriterion, what most codebases apply to Gram matrices. */
export function meanSquaredError(statistic: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(statistic, target)));
}

/** Σ (s − t)²: the squared Frobenius norm. */
export function sumSquaredError(statistic: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.squaredDifference(statistic, target)));
}
