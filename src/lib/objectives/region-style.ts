/**
 * Spatial control's style group (Gatys et al. 2017 §4): one Gram-matrix style loss per region and
 * layer, `style/<region>/<layer>`, between the guided Gram matrix of the generated image inside the
 * region's content mask and the guided Gram matrices of the region's style images inside their masks
 * (guides/guided-gram.ts), each mask propagated to the tap by the network's geometry
 * (guides/propagate.ts). The style group is Σ_r weight_r · Σ_l w_l E_{r,l}, with a sum `style/<region>`
 * per region, so that logs, metrics.csv and charts report each region's share.
 *
 * Deviation: the paper (and its code) use one guided style loss with the `gatys2016` normalisation;
 * here the distance is the config's normalisation's (gatys2016: ¼·mean square; gatys-code: mean
 * square; johnson: the guided Gram divided by N too, as its plain statistic).
 */
import * as tf from '@tensorflow/tfjs';
import type { Normalization } from '../config';
import { NstError } from '../errors';
import { guideCoverage, guidedGram } from '../guides/guided-gram';
import { propagateGuide, type GuidePropagation } from '../guides/propagate';
import type { TapInfo } from '../net/network';
import type { FeatureExtractor } from './gatys';
import { tapOf, type Objective } from './objective';
import { STYLE_MEASURES } from './style';
import { weightedSum, type WeightedSum } from './sum';

/** One region's images, RGB 0..255, and masks [H,W] in 0..1 at their images' sizes; borrowed. */
export interface RegionImages {
  name: string;
  /** The region's weight in the style group (RegionSpec.styleWeight). */
  weight: number;
  /** At the output image's size. */
  contentMask: tf.Tensor2D;
  /** Each style image with its mask, or null: the whole image. */
  styles: { image: tf.Tensor4D; mask: tf.Tensor2D | null }[];
}

export interface RegionStyleSettings {
  styleLayers: readonly string[];
  /** w_l per style layer. */
  layerWeights: readonly number[];
  normalization: Normalization;
  propagation: GuidePropagation;
}

export interface RegionStyle {
  /** The style group, for buildGatysObjective's `style`. */
  readonly style: WeightedSum;
  /** Frees the propagated guides and targets. */
  dispose(): void;
}

/** The guided statistic of a normalisation: G_r of guided-gram.ts, divided by N for `johnson` as its plain Gram. */
function guidedStatistic(normalization: Normalization, features: tf.Tensor4D, guide: tf.Tensor2D): tf.Tensor {
  return tf.tidy(() => (normalization === 'johnson' ? tf.div(guidedGram(features, guide), features.shape[3]) : guidedGram(features, guide)));
}

/** A mask propagated to a tap's map; a region that vanishes there is refused, naming what to change. */
function guideAt(mask: tf.Tensor2D, tap: TapInfo, map: readonly [number, number], propagation: GuidePropagation, what: string): tf.Tensor2D {
  const guide = propagateGuide(mask, tap, map, propagation);
  if (guideCoverage(guide) === 0) {
    guide.dispose();
    throw new NstError(
      `${what} vanishes at ${tap.name} under --guide-propagation ${propagation} (its ${map[1]}×${map[0]} map has no position inside it)`,
      propagation === 'inside' ? 'use --guide-propagation simple or all, leave out the deepest style layers, or enlarge the region' : 'leave out the deepest style layers, or enlarge the region',
    );
  }
  return guide;
}

/**
 * The style group of `regions` on `net`, for an output like `output` (RGB 0..255, the content image
 * as the targets see it: only its feature-map sizes are used). Runs the network once per image.
 */
export function regionStyle(net: FeatureExtractor & { taps: readonly TapInfo[] }, output: tf.Tensor4D, regions: readonly RegionImages[], s: RegionStyleSettings): RegionStyle {
  const owned: tf.Tensor[] = [];
  const tapInfo = (l: string) => net.taps.find((t) => t.name === l)!;
  try {
    // The output's map size at each style layer (the activations themselves are not needed).
    const mapSizes = tf.tidy(() => {
      const maps = net.features(output, s.styleLayers);
      return s.styleLayers.map((l) => [tapOf(maps, l).shape[1], tapOf(maps, l).shape[2]]);
    }) as [number, number][];
    const contentGuides = regions.map((r) =>
      s.styleLayers.map((l, li) => {
        const guide = guideAt(r.contentMask, tapInfo(l), mapSizes[li]!, s.propagation, `region '${r.name}' of the content image`);
        owned.push(guide);
        return guide;
      }),
    );
    const targets = regions.map((r) => {
      const perImage = r.styles.map(({ image, mask }, i) => {
        const stats = tf.tidy(() => {
          const maps = net.features(image, s.styleLayers);
          return s.styleLayers.map((l) => {
            const map = tapOf(maps, l);
            const guide = mask ? guideAt(mask, tapInfo(l), [map.shape[1], map.shape[2]], s.propagation, `region '${r.name}' of its style image ${i + 1}`) : tf.ones([map.shape[1], map.shape[2]]);
            return guidedStatistic(s.normalization, map, guide as tf.Tensor2D);
          });
        });
        owned.push(...stats);
        return stats;
      });
      // The region's style images blend equally, as the plain style images do by default.
      const blended = s.styleLayers.map((_, li) => tf.tidy(() => tf.div(tf.addN(perImage.map((stats) => stats[li]!)), perImage.length)));
      owned.push(...blended);
      return blended;
    });
    const distance = STYLE_MEASURES[s.normalization].distance;
    const style = weightedSum(
      regions.map((r, ri) => ({
        objective: weightedSum(
          s.styleLayers.map((layer, li): { objective: Objective; weight: number } => ({
            objective: {
              name: `style/${r.name}/${layer}`,
              layers: [layer],
              evaluate: (taps) => tf.tidy(() => distance(guidedStatistic(s.normalization, tapOf(taps, layer), contentGuides[ri]![li]!), targets[ri]![li]!)),
            },
            weight: s.layerWeights[li]!,
          })),
          `style/${r.name}`,
        ),
        weight: r.weight,
      })),
      'style',
    );
    return { style, dispose: () => tf.dispose(owned) };
  } catch (e) {
    tf.dispose(owned);
    throw e;
  }
}
