/**
 * Content loss (Gatys et al. 2016, eq. 1) at one layer: L = ½ Σ_ij (F_ij − P_ij)², with F and P the
 * feature maps of the generated and of the content image.
 */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';
import { tapOf, type Objective } from './objective';

/**
 * - `half-sum`: ½ Σ (F − P)², the paper.
 * - `mean`: Σ (F − P)² / (N·M), the mean squared error that jcjohnson/neural-style (nn.MSECriterion) and
 *   the authors' PytorchNeuralStyleTransfer (nn.MSELoss) use.
 */
export const CONTENT_REDUCTIONS = ['half-sum', 'mean'] as const;
export type ContentReduction = (typeof CONTENT_REDUCTIONS)[number];

/**
 * The content term `content/<layer>`. The target P is borrowed, not owned: it must outlive the
 * objective, and whoever computed it disposes it (see GatysTargets.dispose).
 */
export function contentLoss(layer: string, target: tf.Tensor4D, reduction: ContentReduction = 'half-sum'): Objective {
  const name = `content/${layer}`;
  return {
    name,
    layers: [layer],
    evaluate(taps) {
      const f = tapOf(taps, layer);
      if (!tf.util.arraysEqual(f.shape, target.shape)) {
        throw new NstError(
          `${name}: the feature map [${f.shape.join(',')}] does not match the content target [${target.shape.join(',')}]`,
          'the generated image must have the size of the content image the target was computed from',
        );
      }
      return tf.tidy(() => {
        const squared = tf.squaredDifference(f, target);
        return reduction === 'mean' ? tf.mean(squared) : tf.mul(tf.sum(squared), 0.5);
      });
    },
  };
}
