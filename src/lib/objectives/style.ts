/**
 * Style losses as a statistic plus a distance (crowsonkb's phrasing): a statistic of the feature map,
 * computed once for the style image(s) as the target, and a distance between the generated image's
 * statistic and that target. The Gram conventions differ only in how they normalise the two.
 *
 * With N filters over M positions (F: N × M, G = F Fᵀ, A the style image's Gram matrix):
 * - `gatys2016`: E_l = Σ (G − A)² / (4 N² M²) (Gatys et al. 2016, eq. 4). Implemented as the statistic
 *   G/M and the distance ¼·mean over the N² entries of (G/M − A/M_s)², which is the same number when the
 *   style image has the generated image's size (M_s = M, the paper's setting); with other style sizes
 *   (`--style-size keep`) it compares per-position Gram matrices instead of raw ones of different scale.
 * - `gatys-code`: the authors' PytorchNeuralStyleTransfer: GramMatrix divides by h·w (G/M), GramMSELoss is
 *   nn.MSELoss, the mean over the N² entries of (G/M − A/M)²; its layer weights are 1e3/N_l².
 * - `johnson`: jcjohnson/neural-style: StyleLoss divides the Gram matrix by input:nElement() = N·M and
 *   applies nn.MSECriterion, the mean over the N² entries of (G/(N·M) − A/(N·M))²; every layer is
 *   weighted by style_weight alone (w_l = 1).
 * Multiple style images: the target is Σ_i b_i·A_i of the normalised statistics, with blend weights b_i
 * (normalised to sum 1), as jcjohnson's -style_blend_weights.
 */
import * as tf from '@tensorflow/tfjs';
import type { Normalization } from '../config';
import { gram } from './gram';
import { tapOf, type Objective } from './objective';

export interface StyleMeasure {
  readonly name: string;
  /** The statistic of a feature map [1,h,w,c]; style targets are made with the same function. */
  statistic(features: tf.Tensor4D): tf.Tensor;
  /** Distance from the generated image's statistic to the target; 0 when they match. */
  distance(statistic: tf.Tensor, target: tf.Tensor): tf.Scalar;
}

/** G/M: comparable across image sizes. */
function gramPerPosition(features: tf.Tensor4D): tf.Tensor {
  const [, h, w] = features.shape;
  return tf.tidy(() => tf.div(gram(features), h * w));
}

function meanSquaredError(statistic: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(statistic, target)));
}

/** The style measure of each `--normalization`. */
export const STYLE_MEASURES: Readonly<Record<Normalization, StyleMeasure>> = {
  gatys2016: {
    name: 'gatys2016',
    statistic: gramPerPosition,
    distance: (s, t) => tf.tidy(() => tf.mul(meanSquaredError(s, t), 0.25)),
  },
  'gatys-code': { name: 'gatys-code', statistic: gramPerPosition, distance: meanSquaredError },
  johnson: {
    name: 'johnson',
    statistic: (f) => tf.tidy(() => tf.div(gram(f), f.size)),
    distance: meanSquaredError,
  },
};

/** Keeps the standard deviation differentiable where a filter is constant (dead ReLUs). */
const MOMENT_EPSILON = 1e-5;

/**
 * First and second moments per filter, [2, N]: mean and standard deviation over positions, the
 * statistics AdaIN matches (Huang & Belongie 2017, whose style loss sums the unsquared L2 distances of
 * the means and of the standard deviations). Here the distance is the mean squared error over the 2N
 * entries, which is smooth where the moments match. Not a `--normalization`: for notebooks, to show
 * that any statistic and distance compose with the rest.
 */
export const MOMENTS: StyleMeasure = {
  name: 'moments',
  statistic: (f) =>
    tf.tidy(() => {
      const { mean, variance } = tf.moments(f, [0, 1, 2]);
      return tf.stack([mean, tf.sqrt(tf.add(variance, MOMENT_EPSILON))]);
    }),
  distance: meanSquaredError,
};

/**
 * The style term `style/<layer>` (E_l of the paper under `gatys2016`). The target is borrowed: it must
 * outlive the objective, and whoever computed it disposes it (see GatysTargets.dispose).
 */
export function styleLoss(layer: string, target: tf.Tensor, measure: StyleMeasure = STYLE_MEASURES.gatys2016): Objective {
  return {
    name: `style/${layer}`,
    layers: [layer],
    evaluate(taps) {
      return tf.tidy(() => measure.distance(measure.statistic(tapOf(taps, layer)), target));
    },
  };
}

/**
 * Default style-layer weights w_l of each convention, given the filter counts N_l of the style layers:
 * 1/|L| (`gatys2016`, the paper), 1e3/N_l² (`gatys-code`, the authors' code), 1 (`johnson`).
 */
export function defaultStyleLayerWeights(normalization: Normalization, channels: readonly number[]): number[] {
  switch (normalization) {
    case 'gatys2016':
      return channels.map(() => 1 / channels.length);
    case 'gatys-code':
      return channels.map((n) => 1e3 / (n * n));
    case 'johnson':
      return channels.map(() => 1);
  }
}
