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
 * (normalised to sum 1), as jcjohnson's -style_blend_weights. Statistics that do not blend linearly
 * (patches, sorted values) say how they combine (StyleMeasure.combine).
 *
 * The other statistics and distances are in statistics/ and distances/, named and put together in
 * style-losses.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { Normalization, StyleLayerWeighting } from '../config';
import { meanSquaredError } from './distances/squared-error';
import { gram } from './gram';
import { tapOf, type Objective } from './objective';
import { meanStd } from './statistics/moments';

export interface StyleMeasure {
  /** Names the statistic, the distance and their parameters: targets are checked against it. */
  readonly name: string;
  /** The statistic of a feature map [1,h,w,c]; style targets are made with the same function unless styleStatistic is given. */
  statistic(features: tf.Tensor4D): tf.Tensor;
  /** Distance from the generated image's statistic to the target; 0 when they match. */
  distance(statistic: tf.Tensor, target: tf.Tensor): tf.Scalar;
  /** The style image's statistic, where it differs from the generated image's (patches, sorted values, samples). */
  styleStatistic?(features: tf.Tensor4D): tf.Tensor;
  /** The target from the style images' statistics and blend weights; Σ_i b_i·s_i unless given. */
  combine?(statistics: readonly tf.Tensor[], blend: readonly number[]): tf.Tensor;
  /** What the distance needs of the combined target, computed once (e.g. W2's Σ_S^½); the identity unless given. */
  prepare?(target: tf.Tensor): tf.Tensor;
}

/** G/M: comparable across image sizes. */
function gramPerPosition(features: tf.Tensor4D): tf.Tensor {
  const [, h, w] = features.shape;
  return tf.tidy(() => tf.div(gram(features), h * w));
}

/** The style measure of each `--normalization`: the `gram` style loss under that convention. */
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

/**
 * The `mean-std` style loss: first and second moments per filter, [2, N] (mean and standard deviation
 * over positions, statistics/moments.ts), the statistics AdaIN matches (Huang & Belongie 2017), with the
 * mean squared error over the 2N entries, 1/(2N)·[Σ(μ_F − μ_S)² + Σ(σ_F − σ_S)²]: half of Li et al.'s
 * (2017) "BN" statistics-matching loss, smooth where the moments match. Huang & Belongie's own style loss
 * (unsquared norms) is `mean-std-l2`; their code's (sums of squares) is this one with w_l = 2N_l.
 */
export const MEAN_STD: StyleMeasure = { name: 'mean-std', statistic: meanStd, distance: meanSquaredError };

/** The first name of MEAN_STD, from before the style losses had names. */
export const MOMENTS = MEAN_STD;

/** The statistic the target is made of, for one style image's feature map. */
export function styleStatisticOf(measure: StyleMeasure, features: tf.Tensor4D): tf.Tensor {
  return measure.styleStatistic ? measure.styleStatistic(features) : measure.statistic(features);
}

/** The target from the style images' statistics (consumed: they are disposed) and blend weights. */
export function combineTargets(measure: StyleMeasure, statistics: tf.Tensor[], blend: readonly number[]): tf.Tensor {
  try {
    return tf.tidy(() => {
      const combined = measure.combine ? measure.combine(statistics, blend) : tf.addN(statistics.map((s, i) => tf.mul(s, blend[i]!)));
      return measure.prepare ? measure.prepare(combined) : combined;
    });
  } finally {
    tf.dispose(statistics);
  }
}

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

/**
 * w_l by rule (`--style-layer-weighting`): `normalization` follows defaultStyleLayerWeights; `mean` is
 * 1/|L| (Gatys et al. 2016), `sum` 1 (Li & Wand 2016, Huang & Belongie 2017), `inverse-square`
 * 1/N_l² (Gatys et al. 2017: their NeuralImageSynthesis code as pystiche_papers reads it, with β = 1e3).
 */
export function styleLayerWeightsBy(weighting: StyleLayerWeighting, normalization: Normalization, channels: readonly number[]): number[] {
  switch (weighting) {
    case 'normalization':
      return defaultStyleLayerWeights(normalization, channels);
    case 'mean':
      return channels.map(() => 1 / channels.length);
    case 'sum':
      return channels.map(() => 1);
    case 'inverse-square':
      return channels.map((n) => 1 / (n * n));
  }
}
