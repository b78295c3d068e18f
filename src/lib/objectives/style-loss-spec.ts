/**
 * The style loss chosen per layer by name (`--style-loss`): one name for every layer (`w2`), or a
 * default and per-layer exceptions (`gram,conv3_1:mrf,conv4_1:mrf`; in YAML also a mapping
 * `{default: gram, conv3_1: mrf}`). Plain data, checked once in resolveConfig; style-losses.ts turns
 * the names into statistics and distances.
 */
import { NstError } from '../errors';

/** Every style loss, with what it compares (docs/style-losses.md has the equations). */
export const STYLE_LOSS_DESCRIPTIONS = {
  gram: 'Gram matrix, squared error, normalised by --normalization (Gatys et al. 2016)',
  'gram-shift': 'Gram matrix of F + --gram-shift (Novak & Nikulin 2016)',
  'mean-std': 'per-filter mean and standard deviation, mean squared error (Huang & Belongie 2017; Li et al. 2017 "BN")',
  'mean-std-l2': 'per-filter mean and standard deviation, unsquared L2 norms (Huang & Belongie 2017, eq. 13)',
  w2: 'Wasserstein-2 distance between the Gaussians of mean and covariance (crowsonkb/style-transfer-pytorch)',
  'mmd-linear': 'MMD² with the linear kernel: squared distance of the means (Li et al. 2017)',
  'mmd-poly': 'MMD² with (xᵀy + --mmd-poly-c)^--mmd-poly-degree; c = 0, d = 2 is Gatys\' E_l (Li et al. 2017)',
  'mmd-gauss': 'MMD² with a Gaussian kernel, bandwidth by the mean squared distance × --mmd-bandwidth (Li et al. 2017)',
  histogram: 'per-filter histogram matching, ‖O − R(O)‖² (Risser, Wilmot & Barnes 2017)',
  mrf: 'nearest style patch by normalised cross-correlation, --mrf-patch-size, --mrf-stride (Li & Wand 2016)',
} as const;

export type StyleLossName = keyof typeof STYLE_LOSS_DESCRIPTIONS;
export const STYLE_LOSS_NAMES = Object.keys(STYLE_LOSS_DESCRIPTIONS) as StyleLossName[];
export const DEFAULT_STYLE_LOSS: StyleLossName = 'gram';

/** Rules for the style-layer weights w_l when --style-layer-weights does not list them (objectives/style.ts). */
export const STYLE_LAYER_WEIGHTINGS = ['normalization', 'mean', 'sum', 'inverse-square'] as const;

export interface StyleLossSpec {
  /** The loss of every layer not listed. */
  default: StyleLossName;
  /** Per-layer exceptions, by layer name. */
  layers: Readonly<Record<string, StyleLossName>>;
}

const OPTION = '--style-loss (styleLoss)';

function lossName(name: string, where: string): StyleLossName {
  if (!(STYLE_LOSS_NAMES as readonly string[]).includes(name)) {
    throw new NstError(`${OPTION}: '${name}'${where} is not a style loss`, `allowed values: ${STYLE_LOSS_NAMES.join(', ')} (alone, or per layer as LAYER:NAME, e.g. gram,conv3_1:mrf)`);
  }
  return name as StyleLossName;
}

/**
 * The text form of a config value: a string as given, or a mapping `{default?: NAME, LAYER: NAME}`
 * written as `NAME,LAYER:NAME,…`.
 */
export function styleLossText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value as Record<string, unknown>)
      .map(([layer, name]) => {
        if (typeof name !== 'string') throw new NstError(`${OPTION}: the loss of '${layer}' is ${JSON.stringify(name)}`, `give a name: ${STYLE_LOSS_NAMES.join(', ')}`);
        return layer === 'default' ? name : `${layer}:${name}`;
      })
      .join(',');
  }
  throw new NstError(`${OPTION}: expected a name or a mapping of layers to names, got ${JSON.stringify(value)}`, `e.g. w2, or gram,conv3_1:mrf, or {default: gram, conv3_1: mrf}`);
}

/** Parses `NAME` / `NAME,LAYER:NAME,…` against the style layers. */
export function parseStyleLoss(text: string, styleLayers: readonly string[]): StyleLossSpec {
  let fallback: StyleLossName | undefined;
  const layers: Record<string, StyleLossName> = {};
  for (const entry of text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const colon = entry.indexOf(':');
    if (colon < 0) {
      if (fallback !== undefined) throw new NstError(`${OPTION}: two default losses, '${fallback}' and '${entry}'`, 'give one NAME for all layers and LAYER:NAME for the exceptions');
      fallback = lossName(entry, '');
      continue;
    }
    const layer = entry.slice(0, colon).trim();
    const name = lossName(entry.slice(colon + 1).trim(), ` (for ${layer})`);
    if (!styleLayers.includes(layer)) {
      throw new NstError(`${OPTION}: '${layer}' is not a style layer`, `style layers: ${styleLayers.join(', ')}`);
    }
    if (layers[layer] !== undefined) throw new NstError(`${OPTION}: '${layer}' is given twice`, 'list each layer once');
    layers[layer] = name;
  }
  return { default: fallback ?? DEFAULT_STYLE_LOSS, layers };
}

/** The loss of one layer. */
export function styleLossOf(spec: StyleLossSpec, layer: string): StyleLossName {
  return spec.layers[layer] ?? spec.default;
}

/**
 * One spelling per meaning, so that equal choices give equal run ids: the name alone when all layers
 * agree, else the default then the exceptions in style-layer order.
 */
export function canonicalStyleLoss(text: string, styleLayers: readonly string[]): string {
  const spec = parseStyleLoss(text, styleLayers);
  const exceptions = styleLayers.filter((l) => styleLossOf(spec, l) !== spec.default);
  return [spec.default, ...exceptions.map((l) => `${l}:${styleLossOf(spec, l)}`)].join(',');
}
