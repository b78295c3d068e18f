/**
 * What the temporal loss and the warped initialisation of one frame need, from the content frames and
 * the previous outputs (Ruder, Dosovitskiy & Brox 2016, §3.1–3.3).
 */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';
import { consistencyWeights, longTermWeights } from './consistency';
import { bidirectionalFlow, type FlowSettings } from './flow';
import type { TemporalTarget } from './temporal-loss';
import { warp } from './warp';

/** A previous frame i−j: its content frame and its stylised output (both RGB 0..255, [1,H,W,3]). */
export interface PreviousFrame {
  /** j ≥ 1: how many frames back. */
  readonly offset: number;
  readonly content: tf.Tensor4D;
  readonly output: tf.Tensor4D;
}

export interface FrameTargets {
  /**
   * One per previous frame, nearest first: its output warped into the current frame and its weights,
   * c_long^(i−j,i) (for the nearest frame that is c^(i−1,i) itself).
   */
  readonly targets: readonly TemporalTarget[];
  /** The short-term weights c^(i−j,i) before the long-term combination, nearest first. */
  readonly weights: readonly tf.Tensor4D[];
  /** The estimated flows ŵ from the current frame back to frame i−j, nearest first. */
  readonly flows: readonly tf.Tensor4D[];
  /** Frees every tensor above. */
  dispose(): void;
}

/**
 * The temporal targets of the current frame: for each previous frame i−j, the flow from the current
 * content frame back to it (ŵ) and forward again (w), estimated directly between the two frames as the
 * paper does for long-term pairs, the weights c from them, and the previous output warped by ŵ.
 * `previous` is ordered by offset, nearest first; `targets[0].warped` is the paper's initialisation
 * x'^(i) = ω(x^(i−1)) when offset 1 comes first. The frames are borrowed; the result is owned.
 */
export function frameTargets(content: tf.Tensor4D, previous: readonly PreviousFrame[], flow: FlowSettings = {}): FrameTargets {
  previous.forEach((p, k) => {
    if (!Number.isInteger(p.offset) || p.offset < 1 || (k > 0 && p.offset <= previous[k - 1]!.offset)) {
      throw new NstError(`temporal targets: previous frames must have increasing whole offsets ≥ 1 (got ${previous.map((q) => q.offset).join(', ')})`);
    }
    if (!tf.util.arraysEqual(p.content.shape, content.shape) || !tf.util.arraysEqual(p.output.shape, content.shape)) {
      throw new NstError(
        `temporal targets: frame −${p.offset} has content [${p.content.shape.join(',')}] and output [${p.output.shape.join(',')}], the current frame [${content.shape.join(',')}]`,
        'stylise every frame of a clip at one size',
      );
    }
  });
  const warped: tf.Tensor4D[] = [];
  const weights: tf.Tensor4D[] = [];
  const flows: tf.Tensor4D[] = [];
  for (const p of previous) {
    const { forward, backward } = bidirectionalFlow(p.content, content, flow);
    weights.push(consistencyWeights(forward, backward));
    warped.push(warp(p.output, backward));
    flows.push(backward);
    forward.dispose();
  }
  const combined = longTermWeights(weights);
  return {
    targets: warped.map((w, k) => ({ warped: w, weights: combined[k]! })),
    weights,
    flows,
    dispose: () => tf.dispose([...warped, ...weights, ...combined, ...flows]),
  };
}
