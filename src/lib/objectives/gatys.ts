/**
 * The objective of Gatys et al. 2016 (eq. 7): L = α·Σ_l L_content,l + β·Σ_l w_l E_l (+ a total-variation
 * weight, as jcjohnson/neural-style and most later work add), built from the leaf objectives, and the
 * targets it needs, computed once before the loop.
 */
import * as tf from '@tensorflow/tfjs';
import type { Normalization, RunConfig } from '../config';
import { NstError } from '../errors';
import { contentLoss, type ContentReduction } from './content';
import { tapOf, type Taps } from './objective';
import { defaultStyleLayerWeights, STYLE_MEASURES, styleLoss, type StyleMeasure } from './style';
import { totalVariation } from './tv';
import { weightedSum, type WeightedSum } from './sum';

/** The TV leaf's name: distinct from the weighted `tv` group that metrics.csv and StepLogs also carry. */
export const TV_TERM = 'tv/image';

/** The paper's ½Σ(F−P)²; both codebases use the mean squared error (see content.ts). */
export const CONTENT_REDUCTION: Readonly<Record<Normalization, ContentReduction>> = {
  gatys2016: 'half-sum',
  'gatys-code': 'mean',
  johnson: 'mean',
};

/** What computeTargets needs of a network; FeatureNet (net/vgg) is one. */
export interface FeatureExtractor {
  /** Feature maps at `taps` for a preprocessed image [1,H,W,3]; the caller owns the result. */
  features(x: tf.Tensor4D, taps: readonly string[]): Record<string, tf.Tensor4D>;
}

export interface TargetInputs {
  /** The preprocessed content image, or null for texture synthesis. Borrowed: the caller disposes it. */
  content: tf.Tensor4D | null;
  /** The preprocessed style images. Borrowed: the caller disposes them. */
  styles: readonly tf.Tensor4D[];
  /** One blend weight per style image, already normalised (styleBlendWeights in config.ts). */
  blend: readonly number[];
  contentLayers: readonly string[];
  styleLayers: readonly string[];
  normalization: Normalization;
}

/** Targets computed once; they own their tensors until dispose(). */
export interface GatysTargets {
  readonly normalization: Normalization;
  /** P_l, the content image's feature maps, by layer (empty without a content image). */
  readonly content: Readonly<Record<string, tf.Tensor4D>>;
  /** Σ_i b_i·A_i, the blended style statistics (normalised Gram matrices, see style.ts), by layer. */
  readonly styleGrams: Readonly<Record<string, tf.Tensor>>;
  dispose(): void;
}

/**
 * Σ_i b_i·statistic(features_i) per layer: the network runs once per style image, each inside its own
 * tidy so only one image's activations are alive at a time.
 */
export function blendedStyleTargets(
  net: FeatureExtractor,
  styles: readonly tf.Tensor4D[],
  blend: readonly number[],
  layers: readonly string[],
  measure: StyleMeasure,
): Record<string, tf.Tensor> {
  if (blend.length !== styles.length) throw new Error(`${blend.length} blend weights for ${styles.length} style images`);
  let acc: Record<string, tf.Tensor> = {};
  styles.forEach((image, i) => {
    const next = tf.tidy(() => {
      const features = net.features(image, layers);
      const sum: Record<string, tf.Tensor> = {};
      for (const layer of layers) {
        const weighted = tf.mul(measure.statistic(tapOf(features, layer)), blend[i]!);
        sum[layer] = acc[layer] ? tf.add(acc[layer]!, weighted) : weighted;
      }
      return sum;
    });
    tf.dispose(Object.values(acc));
    acc = next;
  });
  return acc;
}

/** Runs the network on the content and style images, once each, outside the optimisation loop. */
export function computeTargets(net: FeatureExtractor, inputs: TargetInputs): GatysTargets {
  const { content: image, styles, blend, contentLayers, styleLayers, normalization } = inputs;
  if (contentLayers.length > 0 && !image) {
    throw new NstError('content layers are set but there is no content image', 'give --content PATH, or no content layers for texture synthesis');
  }
  if (styleLayers.length > 0 && styles.length === 0) {
    throw new NstError('style layers are set but there is no style image', 'give --style PATH');
  }
  const content = image && contentLayers.length > 0 ? tf.tidy(() => net.features(image, contentLayers)) : {};
  let styleGrams: Record<string, tf.Tensor>;
  try {
    styleGrams = blendedStyleTargets(net, styles, blend, styleLayers, STYLE_MEASURES[normalization]);
  } catch (e) {
    tf.dispose(Object.values(content));
    throw e;
  }
  return {
    normalization,
    content,
    styleGrams,
    dispose() {
      tf.dispose([...Object.values(content), ...Object.values(styleGrams)]);
    },
  };
}

/** The parts of the objective a run reports: weighted groups, as StepLogs wants them, and leaves. */
export interface GatysTerms {
  total: tf.Scalar;
  /** α·Σ content, β·Σ w_l E_l, tvWeight·tv (0 where a part is absent). */
  groups: { content: tf.Scalar; style: tf.Scalar; tv: tf.Scalar };
  /** Unweighted leaves: `content/<layer>`, `style/<layer>`, `tv/image`. */
  terms: Record<string, tf.Scalar>;
}

export interface GatysObjective {
  /** The objective as a composable weighted sum (`content`, `style`, `tv` groups). */
  readonly sum: WeightedSum;
  readonly layers: readonly string[];
  readonly termNames: readonly string[];
  /** Call inside tf.tidy (or tf.valueAndGrad of `.total`). */
  evaluate(taps: Taps, image: tf.Tensor4D): GatysTerms;
}

export type GatysConfig = Pick<
  RunConfig,
  'contentLayers' | 'styleLayers' | 'styleLayerWeights' | 'contentWeight' | 'styleWeight' | 'tvWeight' | 'normalization'
>;

/**
 * α·Σ content + β·Σ w_l E_l + tvWeight·TV with the config's conventions. Without content targets
 * (texture synthesis) there are no content terms. w_l defaults per convention
 * (defaultStyleLayerWeights, with N_l read from the targets). The TV leaf is always present, so runs
 * that differ only in tvWeight report the same terms. The targets are borrowed: dispose them after the
 * objective's last use.
 */
export function buildGatysObjective(cfg: GatysConfig, targets: GatysTargets): GatysObjective {
  if (targets.normalization !== cfg.normalization) {
    throw new Error(`targets were computed for normalization '${targets.normalization}', the objective uses '${cfg.normalization}'`);
  }
  const contentLayers = Object.keys(targets.content).length > 0 ? cfg.contentLayers : [];
  const missing = [...contentLayers.filter((l) => !targets.content[l]), ...cfg.styleLayers.filter((l) => !targets.styleGrams[l])];
  if (missing.length > 0) throw new Error(`the targets lack layers ${missing.join(', ')}`);
  const channels = cfg.styleLayers.map((l) => targets.styleGrams[l]!.shape.at(-1)!);
  const weights = cfg.styleLayerWeights.length > 0 ? cfg.styleLayerWeights : defaultStyleLayerWeights(cfg.normalization, channels);
  if (weights.length !== cfg.styleLayers.length) {
    throw new NstError(`--style-layer-weights: ${weights.length} weights for ${cfg.styleLayers.length} style layers`, `one weight per layer of ${cfg.styleLayers.join(',')}`);
  }
  const reduction = CONTENT_REDUCTION[cfg.normalization];
  const measure = STYLE_MEASURES[cfg.normalization];
  const content = weightedSum(
    contentLayers.map((l) => ({ objective: contentLoss(l, targets.content[l]!, reduction), weight: 1 })),
    'content',
  );
  const style = weightedSum(
    cfg.styleLayers.map((l, i) => ({ objective: styleLoss(l, targets.styleGrams[l]!, measure), weight: weights[i]! })),
    'style',
  );
  const sum = weightedSum([
    { objective: content, weight: cfg.contentWeight },
    { objective: style, weight: cfg.styleWeight },
    { objective: totalVariation(TV_TERM), weight: cfg.tvWeight },
  ]);
  return {
    sum,
    layers: sum.layers,
    termNames: sum.termNames,
    evaluate(taps, image) {
      const { total, groups, terms } = sum.evaluateTerms(taps, image);
      return { total, groups: { content: groups.content!, style: groups.style!, tv: groups[TV_TERM]! }, terms };
    },
  };
}
