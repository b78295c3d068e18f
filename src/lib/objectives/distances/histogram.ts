/**
 * The histogram loss of Risser, Wilmot & Barnes 2017 ("Stable and Controllable Neural Texture Synthesis
 * and Style Transfer Using Histogram Losses", arXiv:1701.08893, the histogram loss):
 *
 *   L = ‖O − R(O)‖²_F,
 *
 * with R(O) the activations O histogram-matched, channel by channel, to the style image's, and no
 * gradient through R: ∂L/∂O = 2(O − R(O)). Matching here is exact quantile matching (each activation
 * takes the style value of its rank, statistics/sorted.ts), where Risser et al. use 256-bin histograms.
 * The sum is over all N·M entries, as in the paper.
 */
import * as tf from '@tensorflow/tfjs';
import { featureMatrix } from '../gram';
import { resampleSorted } from '../statistics/sorted';

/** R(O): each activation replaced by the target's value of the same rank within its channel. */
export function histogramRemap(features: tf.Tensor4D, sortedTarget: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const rows = tf.transpose(featureMatrix(features)) as tf.Tensor2D;
    const [n, m] = rows.shape;
    const target = resampleSorted(sortedTarget, m);
    // order[c][r]: the position of rank r; sorting the positions back gives rank[c][p].
    const order = tf.topk(rows, m, true).indices;
    const rank = tf.topk(tf.neg(tf.cast(order, 'float32')), m, true).indices;
    const offsets = tf.mul(tf.reshape(tf.range(0, n, 1, 'int32'), [n, 1]), tf.scalar(m, 'int32'));
    const remapped = tf.gather(tf.reshape(target, [-1]), tf.reshape(tf.add(rank, offsets), [-1]));
    return tf.reshape(tf.transpose(tf.reshape(remapped, [n, m])), features.shape) as tf.Tensor4D;
  });
}

export function histogramLoss(features: tf.Tensor, sortedTarget: tf.Tensor): tf.Scalar {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [f, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
    const residual = tf.tidy(() => tf.sub(f, histogramRemap(f, sortedTarget as tf.Tensor2D)));
    save([residual]);
    return {
      value: tf.sum(tf.square(residual)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(saved[0]!, tf.mul(dy, 2)),
    };
  });
  return op(features) as tf.Scalar;
}
