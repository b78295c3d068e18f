/**
 * Measures of flow accuracy and of a clip's temporal consistency, as plain numbers.
 */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';
import { consistencyWeights } from './consistency';
import type { ClipFlows } from './flow';
import { warp } from './warp';

/** The [H−2m, W−2m] interior of a [1,H,W,C] tensor. */
function interior(t: tf.Tensor4D, margin: number): tf.Tensor4D {
  const [, h, w, c] = t.shape;
  if (2 * margin >= Math.min(h, w)) throw new NstError(`a margin of ${margin} px leaves nothing of a ${w}×${h} frame`, 'use a smaller margin');
  return tf.slice(t, [0, margin, margin, 0], [1, h - 2 * margin, w - 2 * margin, c]);
}

/**
 * Mean endpoint error |w − w*| in pixels (Baker et al. 2011, the Middlebury measure) of an estimated
 * flow against the true one, over pixels at least `margin` pixels from the borders.
 */
export function endpointError(flow: tf.Tensor4D, truth: tf.Tensor4D, margin = 0): number {
  if (!tf.util.arraysEqual(flow.shape, truth.shape)) {
    throw new NstError(`endpoint error: flow [${flow.shape.join(',')}] and ground truth [${truth.shape.join(',')}] differ in shape`);
  }
  return tf.tidy(() => {
    const d = interior(tf.sub(flow, truth) as tf.Tensor4D, margin);
    return tf.mean(tf.sqrt(tf.sum(tf.square(d), 3))).dataSync()[0]!;
  });
}

/**
 * The warping error between a frame x and the previous frame warped into its grid, ω(x_prev), on the
 * pixels the weights c mark as reliable: Σ c·(x − ω)² / (3·Σ c), a mean over colour values (0..255
 * scale, so 0..65025). With c from `consistencyWeights`, this is the measure of temporal consistency
 * Ruder et al. (2016, §5) report, averaged per pixel and channel over the reliable pixels only. NaN
 * where no pixel is reliable.
 */
export function warpingError(frame: tf.Tensor4D, warpedPrevious: tf.Tensor4D, weights: tf.Tensor4D): number {
  return tf.tidy(() => {
    const sq = tf.sum(tf.mul(weights, tf.squaredDifference(frame, warpedPrevious)));
    const count = tf.mul(tf.sum(weights), frame.shape[3]);
    return tf.div(sq, count).dataSync()[0]!;
  });
}

/**
 * The temporal consistency of an output clip: for each k ≥ 1, the warping error between output k and
 * output k−1 warped by the flow, on the pixels where c^(k−1,k) = 1 (see `warpingError`). The flows are
 * those of the content clip — estimated, or the ground truth of a synthetic clip; they are borrowed.
 * Lower is steadier; a clip stylised frame by frame flickers and scores high.
 */
export function consecutiveWarpingErrors(outputs: readonly tf.Tensor4D[], flows: ClipFlows): number[] {
  if (flows.forward.length !== outputs.length - 1 || flows.backward.length !== outputs.length - 1) {
    throw new NstError(`warping errors: ${outputs.length} frames need ${outputs.length - 1} flows each way (got ${flows.forward.length} and ${flows.backward.length})`);
  }
  return outputs.slice(1).map((frame, k) => {
    const warped = warp(outputs[k]!, flows.backward[k]!);
    const c = consistencyWeights(flows.forward[k]!, flows.backward[k]!);
    try {
      return warpingError(frame, warped, c);
    } finally {
      tf.dispose([warped, c]);
    }
  });
}

/** Frames finished per minute of wall time. */
export function framesPerMinute(frames: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (frames * 60_000) / elapsedMs : NaN;
}
