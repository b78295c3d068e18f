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
import { combineTargets, styleLayerWeightsBy, styleLoss, styleStatisticOf, type StyleMeasure } from './style';
import { styleMeasuresFor, type StyleLossSettings } from './style-losses';
import { totalVariation } from './tv';
import { scale, weightedSum, type WeightedSum } from './sum';

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
  /** The style-loss keys of the config (`styleLoss`, its parameters); missing ones take their defaults, i.e. the Gram loss of `normalization`. */
  style?: Partial<StyleLossSettings>;
}

/** Targets computed once; they own their tensors until dispose(). */
export interface GatysTargets {
  readonly normalization: Normalization;
  /** P_l, the content image's feature maps, by layer (empty without a content image). */
  readonly content: Readonly<Record<string, tf.Tensor4D>>;
  /**
   * The style targets by layer: Σ_i b_i·A_i of the normalised Gram matrices for the Gram losses, and
   * generally what each layer's measure made of the style images (StyleMeasure.combine / prepare).
   */
  readonly styleGrams: Readonly<Record<string, tf.Tensor>>;
  /** The measure each style target was made for, by layer. */
  readonly styleMeasures: Readonly<Record<string, StyleMeasure>>;
  /** N_l, the style layers' filter counts, by layer (for the layer weights). */
  readonly styleChannels: Readonly<Record<string, number>>;
  dispose(): void;
}

/**
 * Each layer's style target from its measure: the statistic of every style image, then combined with
 * the blend weights (Σ_i b_i·statistic_i unless the measure says otherwise) and prepared once. The
 * network runs once per style image, each inside its own tidy so only one image's activations are
 * alive at a time. Also returns each layer's filter count.
 */
export function blendedStyleTargets(
  net: FeatureExtractor,
  styles: readonly tf.Tensor4D[],
  blend: readonly number[],
  layers: readonly string[],
  measures: Readonly<Record<string, StyleMeasure>>,
): { targets: Record<string, tf.Tensor>; channels: Record<string, number> } {
  if (blend.length !== styles.length) throw new Error(`${blend.length} blend weights for ${styles.length} style images`);
  const perImage: Record<string, tf.Tensor[]> = Object.fromEntries(layers.map((l) => [l, []]));
  const channels: Record<string, number> = {};
  const targets: Record<string, tf.Tensor> = {};
  try {
    for (const image of styles) {
      const stats = tf.tidy(() => {
        const features = net.features(image, layers);
        return layers.map((layer) => {
          const f = tapOf(features, layer);
          channels[layer] = f.shape[3];
          return styleStatisticOf(measures[layer]!, f);
        });
      });
      layers.forEach((layer, i) => perImage[layer]!.push(stats[i]!));
    }
    for (const layer of layers) targets[layer] = combineTargets(measures[layer]!, perImage[layer]!.splice(0), blend);
  } catch (e) {
    tf.dispose([...Object.values(perImage).flat(), ...Object.values(targets)]);
    throw e;
  }
  return { targets, channels };
}

/** Runs the network on the content and style images, once each, outside the optimisation loop. */
export function computeTargets(net: FeatureExtractor, inputs: TargetInputs): GatysTargets {
  const { content: image, styles, blend, contentLayers, styleLayers, normalization } = inputs;
  const styleMeasures = styleMeasuresFor(normalization, styleLayers, inputs.style);
  if (contentLayers.length > 0 && !image) {
    throw new NstError('content layers are set but there is no content image', 'give --content PATH, or no content layers for texture synthesis');
  }
  if (styleLayers.length > 0 && styles.length === 0) {
    throw new NstError('style layers are set but there is no style image', 'give --style PATH');
  }
  const content = image && contentLayers.length > 0 ? tf.tidy(() => net.features(image, contentLayers)) : {};
  let style: ReturnType<typeof blendedStyleTargets>;
  try {
    style = blendedStyleTargets(net, styles, blend, styleLayers, styleMeasures);
  } catch (e) {
    tf.dispose(Object.values(content));
    throw e;
  }
  const styleGrams = style.targets;
  return {
    normalization,
    content,
    styleGrams,
    styleMeasures,
    styleChannels: style.channels,
    dispose() {
      tf.dispose([...Object.values(content), ...Object.values(styleGrams)]);
    },
  };
}

/** The parts of the objective a run reports: weighted groups, as StepLogs wants them, and leaves. */
export interface GatysTerms {
  total: tf.Scalar;
  /**
   * By GatysObjective.groupNames: α·Σ content, β·Σ w_l E_l, tvWeight·tv (0 where a part is absent), and
   * any sum nested in them (a region's `style/sky`), each weighted into the total.
   */
  groups: Record<string, tf.Scalar>;
  /** Unweighted leaves: `content/<layer>`, `style/<layer>`, `tv/image`. */
  terms: Record<string, tf.Scalar>;
}

export interface GatysObjective {
  /** The objective as a composable weighted sum (`content`, `style`, `tv` groups). */
  readonly sum: WeightedSum;
  readonly layers: readonly string[];
  readonly termNames: readonly string[];
  /** `content`, `style`, the sums nested in them, `tv`: the weighted groups, in tree order. */
  readonly groupNames: readonly string[];
  /** Call inside tf.tidy (or tf.valueAndGrad of `.total`). */
  evaluate(taps: Taps, image: tf.Tensor4D): GatysTerms;
}

export type GatysConfig = Pick<
  RunConfig,
  'contentLayers' | 'styleLayers' | 'styleLayerWeights' | 'contentWeight' | 'styleWeight' | 'tvWeight' | 'normalization'
> &
  Partial<StyleLossSettings & Pick<RunConfig, 'styleLayerWeighting'>>;

/**
 * α·Σ content + β·Σ w_l E_l + tvWeight·TV with the config's conventions. Without content targets
 * (texture synthesis) there are no content terms. w_l defaults per convention
 * (defaultStyleLayerWeights, with N_l read from the targets). The TV leaf is always present, so runs
 * that differ only in tvWeight report the same terms. The targets are borrowed: dispose them after the
 * objective's last use. `style` replaces the style group built from the targets (spatial control's
 * per-region sums: objectives/region-style.ts); the targets then need no style layers.
 */
export function buildGatysObjective(cfg: GatysConfig, targets: GatysTargets, style?: WeightedSum): GatysObjective {
  if (targets.normalization !== cfg.normalization) {
    throw new Error(`targets were computed for normalization '${targets.normalization}', the objective uses '${cfg.normalization}'`);
  }
  const contentLayers = Object.keys(targets.content).length > 0 ? cfg.contentLayers : [];
  const missing = [...contentLayers.filter((l) => !targets.content[l]), ...(style ? [] : cfg.styleLayers.filter((l) => !targets.styleGrams[l]))];
  if (missing.length > 0) throw new Error(`the targets lack layers ${missing.join(', ')}`);
  const sum = weightedSum([
    { objective: contentSum(cfg, targets, contentLayers), weight: cfg.contentWeight },
    { objective: style ?? styleSum(cfg, targets), weight: cfg.styleWeight },
    // A group of its own, so that every group is a sum: `tv` over the leaf `tv/image`.
    { objective: scale(totalVariation(TV_TERM), 1, 'tv'), weight: cfg.tvWeight },
  ]);
  return {
    sum,
    layers: sum.layers,
    termNames: sum.termNames,
    groupNames: sum.groupNames,
    evaluate: (taps, image) => sum.evaluateTerms(taps, image),
  };
}

function contentSum(cfg: GatysConfig, targets: GatysTargets, contentLayers: readonly string[]): WeightedSum {
  const reduction = CONTENT_REDUCTION[cfg.normalization];
  return weightedSum(
    contentLayers.map((l) => ({ objective: contentLoss(l, targets.content[l]!, reduction), weight: 1 })),
    'content',
  );
}

/** The style layer weights w_l: the config's, or its rule's for the layers' filter counts. */
export function styleWeightsFor(cfg: GatysConfig, channels: readonly number[]): number[] {
  const weights = cfg.styleLayerWeights.length > 0 ? cfg.styleLayerWeights : styleLayerWeightsBy(cfg.styleLayerWeighting ?? 'normalization', cfg.normalization, channels);
  if (weights.length !== cfg.styleLayers.length) {
    throw new NstError(`--style-layer-weights: ${weights.length} weights for ${cfg.styleLayers.length} style layers`, `one weight per layer of ${cfg.styleLayers.join(',')}`);
  }
  return weights;
}

function styleSum(cfg: GatysConfig, targets: GatysTargets): WeightedSum {
  const measures = styleMeasuresFor(cfg.normalization, cfg.styleLayers, cfg);
  for (const l of cfg.styleLayers) {
    if (targets.styleMeasures[l]!.name !== measures[l]!.name) {
      throw new Error(
        `the style target of ${l} was computed for '${targets.styleMeasures[l]!.name}', the objective uses '${measures[l]!.name}': pass the config's style-loss keys to computeTargets (TargetInputs.style)`,
      );
    }
  }
  const weights = styleWeightsFor(cfg, cfg.styleLayers.map((l) => targets.styleChannels[l]!));
  return weightedSum(
    cfg.styleLayers.map((l, i) => ({ objective: styleLoss(l, targets.styleGrams[l]!, measures[l]), weight: weights[i]! })),
    'style',
  );
}
