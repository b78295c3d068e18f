/**
 * The named style losses (`--style-loss`): each a statistic (statistics/) and a distance (distances/),
 * with its parameters from the config, optionally after softmax smoothing of the activations. The
 * equations and their sources are on the statistics and distances; docs/style-losses.md compares them.
 *
 * | name          | statistic                      | distance                                  |
 * | ------------- | ------------------------------ | ----------------------------------------- |
 * | `gram`        | G/M or G/(NM) (--normalization) | squared error (--normalization)          |
 * | `gram-shift`  | Gram of F + s                  | as `gram`                                 |
 * | `mean-std`    | μ, σ per filter                | mean squared error                        |
 * | `mean-std-l2` | μ, σ per filter                | ‖Δμ‖₂ + ‖Δσ‖₂ (Huang & Belongie)          |
 * | `w2`          | μ, E[ffᵀ] → μ, Σ, Σ^½          | Wasserstein-2 of Gaussians / N            |
 * | `mmd-linear`  | μ                              | ‖Δμ‖²/N                                   |
 * | `mmd-poly`    | μ, E[ffᵀ] (d = 2) or samples   | MMD²/(4N²)                                |
 * | `mmd-gauss`   | samples                        | MMD²                                      |
 * | `histogram`   | sorted activations per filter  | ‖O − R(O)‖², no gradient through R        |
 * | `mrf`         | k × k patches                  | Σ_i ‖Ψ_i − Ψ_NN(i)‖², NCC matching        |
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CONFIG, type Normalization, type RunConfig } from '../config';
import { NstError } from '../errors';
import { histogramLoss } from './distances/histogram';
import { mmdExplicit, mmdLinear, mmdQuadratic, type Kernel } from './distances/mmd';
import { meanStdNorms } from './distances/moment-norms';
import { mrfLoss } from './distances/nearest-patch';
import { prepareGaussian, wasserstein2 } from './distances/wasserstein';
import { featureMatrix } from './gram';
import { channelMeans, meanStd, rawMoments } from './statistics/moments';
import { concatPatches, extractPatches } from './statistics/patches';
import { blendSamples, weightedSamples } from './statistics/samples';
import { blendSorted, sortedChannels } from './statistics/sorted';
import { shiftActivations, softmaxSmoothing } from './statistics/transforms';
import { MEAN_STD, STYLE_MEASURES, styleStatisticOf, type StyleMeasure } from './style';
import { parseStyleLoss, styleLossOf, type StyleLossName } from './style-loss-spec';

/** The config keys that choose and parameterise the style losses. */
export type StyleLossSettings = Pick<
  RunConfig,
  'styleLoss' | 'gramShift' | 'mmdPolyC' | 'mmdPolyDegree' | 'mmdBandwidth' | 'mrfPatchSize' | 'mrfStride' | 'styleSoftmax'
>;

type Parameters = Omit<StyleLossSettings, 'styleLoss'> & { normalization: Normalization };

/** The generated image's side of losses whose distance reads the feature map itself. */
const featuresItself = (f: tf.Tensor4D): tf.Tensor => f;

/** An MMD by explicit kernel matrices, for any kernel (the named losses fix theirs from the config). */
export function explicitMmd(name: string, kernel: Kernel): StyleMeasure {
  return {
    name,
    statistic: featureMatrix,
    styleStatistic: weightedSamples,
    combine: blendSamples,
    distance: (points, samples) => mmdExplicit(points, samples, kernel),
  };
}

const FACTORIES: Readonly<Record<StyleLossName, (p: Parameters) => StyleMeasure>> = {
  gram: (p) => STYLE_MEASURES[p.normalization],
  'gram-shift': (p) => {
    const base = STYLE_MEASURES[p.normalization];
    return {
      name: `gram-shift(s=${p.gramShift})/${base.name}`,
      statistic: (f) => tf.tidy(() => base.statistic(shiftActivations(f, p.gramShift))),
      distance: base.distance,
    };
  },
  'mean-std': () => MEAN_STD,
  'mean-std-l2': () => ({ name: 'mean-std-l2', statistic: meanStd, distance: meanStdNorms }),
  w2: () => ({ name: 'w2', statistic: rawMoments, prepare: prepareGaussian, distance: wasserstein2 }),
  'mmd-linear': () => ({ name: 'mmd-linear', statistic: channelMeans, distance: mmdLinear }),
  'mmd-poly': (p) => {
    const name = `mmd-poly(c=${p.mmdPolyC},d=${p.mmdPolyDegree})`;
    if (p.mmdPolyDegree === 2) return { name, statistic: rawMoments, distance: (s, t) => mmdQuadratic(s, t, p.mmdPolyC) };
    return explicitMmd(name, { kind: 'polynomial', c: p.mmdPolyC, degree: p.mmdPolyDegree });
  },
  'mmd-gauss': (p) => explicitMmd(`mmd-gauss(bandwidth=${p.mmdBandwidth})`, { kind: 'gaussian', bandwidth: p.mmdBandwidth }),
  histogram: () => ({ name: 'histogram', statistic: featuresItself, styleStatistic: sortedChannels, combine: blendSorted, distance: histogramLoss }),
  mrf: (p) => ({
    name: `mrf(${p.mrfPatchSize}x${p.mrfPatchSize}/${p.mrfStride})`,
    statistic: featuresItself,
    styleStatistic: (f) => extractPatches(f, p.mrfPatchSize, p.mrfStride),
    combine: (patches, blend) => {
      if (blend.some((b) => Math.abs(b - blend[0]!) > 1e-9)) {
        throw new NstError('--style-loss mrf: patches of all style images are matched alike', 'remove --style-blend, or use another style loss to blend styles');
      }
      return concatPatches(patches);
    },
    distance: (f, patches) => mrfLoss(f, patches, p.mrfStride),
  }),
};

/** softmax(F/T) before the measure's statistics, on both sides (statistics/transforms.ts). */
function smoothed(measure: StyleMeasure, temperature: number): StyleMeasure {
  return {
    ...measure,
    name: `softmax(T=${temperature})+${measure.name}`,
    statistic: (f) => tf.tidy(() => measure.statistic(softmaxSmoothing(f, temperature))),
    styleStatistic: (f) => tf.tidy(() => styleStatisticOf(measure, softmaxSmoothing(f, temperature))),
  };
}

/** The measure of one named loss with the given parameters. */
export function styleMeasure(name: StyleLossName, parameters: Parameters): StyleMeasure {
  const measure = FACTORIES[name](parameters);
  return parameters.styleSoftmax > 0 ? smoothed(measure, parameters.styleSoftmax) : measure;
}

/**
 * The measure of every style layer under `normalization` and the style-loss keys (missing keys take
 * their defaults, so that callers with only a normalization get the Gram losses of today).
 */
export function styleMeasuresFor(normalization: Normalization, layers: readonly string[], settings: Partial<StyleLossSettings> = {}): Record<string, StyleMeasure> {
  const s = { ...pickSettings(DEFAULT_CONFIG), ...pickSettings(settings) } as StyleLossSettings;
  const spec = parseStyleLoss(s.styleLoss, layers);
  return Object.fromEntries(layers.map((l) => [l, styleMeasure(styleLossOf(spec, l), { ...s, normalization })]));
}

const SETTING_KEYS: readonly (keyof StyleLossSettings)[] = ['styleLoss', 'gramShift', 'mmdPolyC', 'mmdPolyDegree', 'mmdBandwidth', 'mrfPatchSize', 'mrfStride', 'styleSoftmax'];

/** The style-loss keys that are set in a config (or in anything that has them). */
export function pickSettings(cfg: Partial<StyleLossSettings>): Partial<StyleLossSettings> {
  return Object.fromEntries(SETTING_KEYS.filter((k) => cfg[k] !== undefined).map((k) => [k, cfg[k]]));
}
