/**
 * An objective is a named scalar function of the feature taps (and of the image itself, for
 * regularisers). Sums keep their leaves, so a run can report every term (`style/conv3_1`,
 * `content/conv4_2`, `tv`) every iteration — the workbench's main diagnostic. Always minimised.
 */
import type * as tf from '@tensorflow/tfjs';

/** Feature maps by tap name (paper names), each [1, h, w, c]. */
export type Taps = Readonly<Record<string, tf.Tensor4D>>;

export interface Objective {
  /** e.g. `style/conv3_1`, `content/conv4_2`, `tv`. */
  readonly name: string;
  /** The taps this objective reads. */
  readonly layers: readonly string[];
  /** The value at the given taps and (preprocessed, [1,H,W,3]) image. Called inside tf.tidy. */
  evaluate(taps: Taps, image: tf.Tensor4D): tf.Scalar;
}

/**
 * The feature map an objective reads. A missing tap is a wiring bug, not a user mistake: whoever
 * evaluates an objective asks the network for its `layers`.
 */
export function tapOf(taps: Taps, layer: string): tf.Tensor4D {
  const t = taps[layer];
  if (!t) {
    throw new Error(`objective reads tap '${layer}', which the feature network did not return (got: ${Object.keys(taps).join(', ') || 'none'})`);
  }
  return t;
}
