/**
 * The one typed run configuration. The CLI options (`--style-weight`), sweep files and notebooks all
 * reduce to this object with the same names in camelCase (`styleWeight`), and the resolved object is
 * saved beside every run.
 */
import { COLOUR_MATCH_METHODS, type ColourMatchMethod } from './colour/histogram-matching';
import { ORIGINAL_COLOUR_METHODS, type OriginalColourMethod } from './colour/original-colours';
import { NstError } from './errors';
import { GUIDE_PROPAGATIONS, type GuidePropagation } from './guides/propagate';
import { parseRegions, regionStyles, type RegionSpec } from './guides/regions';
import { deferredLayers, expandLayers } from './net/taps-config';
import { IMAGE_PARAMS, type ImageParamName } from './param/image-param';
import { STYLE_LAYER_WEIGHTINGS, canonicalStyleLoss, styleLossText } from './objectives/style-loss-spec';
import { presetConfig } from './papers/presets';

export const BACKENDS = ['auto', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

/**
 * Style-loss normalisations. α/β only mean something together with one of these.
 * - `gatys2016`: E_l = Σ(G−A)² / (4 N_l² M_l²), w_l = 1/|L| (the paper, eq. 4–5).
 * - `gatys-code`: G/M_l, mean squared error, w_l = 1e3/N_l² (the authors' PytorchNeuralStyleTransfer).
 * - `johnson`: G/(N_l·M_l) and mean squared error, for style and content alike, as jcjohnson/neural-style.
 */
export const NORMALIZATIONS = ['gatys2016', 'gatys-code', 'johnson'] as const;
export type Normalization = (typeof NORMALIZATIONS)[number];

export const POOLINGS = ['max', 'avg'] as const;
export type Pooling = (typeof POOLINGS)[number];

/** Named starting points; any other value of `init` is an image file (resized to the run's size). */
export const INITS = ['noise', 'content', 'style'] as const;
export type Init = (typeof INITS)[number] | string;

export const OPTIMIZERS = ['lbfgs', 'adam', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export const STYLE_SIZES = ['content', 'keep'] as const;
export type StyleSize = (typeof STYLE_SIZES)[number];

export const LINE_SEARCHES = ['strong_wolfe', 'none'] as const;
export type LineSearch = (typeof LINE_SEARCHES)[number];

export { STYLE_LAYER_WEIGHTINGS };
export type StyleLayerWeighting = (typeof STYLE_LAYER_WEIGHTINGS)[number];

/**
 * Colour control before the run (Gatys et al. 2017 §5): `luminance`: transfer on luminance only (the
 * style's luminance matched to the content's, the result's Y recombined with the content's IQ);
 * `histogram`: the style images' colour histograms matched to the content's (colourMethod).
 */
export const COLOUR_CONTROLS = ['none', 'luminance', 'histogram'] as const;
export type ColourControl = (typeof COLOUR_CONTROLS)[number];

export const ORIGINAL_COLOURS = ['none', ...ORIGINAL_COLOUR_METHODS] as const;
export type OriginalColours = 'none' | OriginalColourMethod;

export type { RegionSpec };

export interface RunConfig {
  /** Content image path; '' for texture synthesis (no content term). */
  content: string;
  /** One or more style image paths. */
  style: string[];
  /** Blend weights of the style images (normalised to sum 1); default equal. */
  styleBlend: number[];
  /** Results root: runs land in `<out>/<experiment>/<run-id>/`. */
  out: string;
  experiment: string;
  /** Longer side of the content image (and of the output) in pixels. */
  imageSize: number;
  /** `content`: resize each style image to the content image's size (the paper); `keep`: its own size at imageSize. */
  styleSize: StyleSize;
  /** α */
  contentWeight: number;
  /** β */
  styleWeight: number;
  tvWeight: number;
  contentLayers: string[];
  styleLayers: string[];
  /**
   * The feature network: a registry name (`vgg19`, `vgg16`, `inception_v3`, `mobilenet_v2`), a
   * TensorFlow.js layers model (model.json or its folder), or `auto`: VGG-19 when its weights are in
   * models/ or can be downloaded, else the InceptionV3 that ships in the nsfwjs npm package.
   */
  network: string;
  /** Per style layer; empty means the rule of styleLayerWeighting. */
  styleLayerWeights: number[];
  /** w_l when styleLayerWeights is empty: `normalization` (its default: 1/|L| for gatys2016), `mean`, `sum`, `inverse-square` (1/N_l²). */
  styleLayerWeighting: StyleLayerWeighting;
  normalization: Normalization;
  /** A paper's recipe (`gatys2016`, `gatys2016:code`, see `nst presets`): its values, under any given explicitly. */
  preset: string;
  /** The style loss by name (`gram`, `w2`, `mrf`, …), or per layer (`gram,conv3_1:mrf`); see objectives/style-loss-spec.ts. */
  styleLoss: string;
  /** `gram-shift`: the activation shift s of G = (F + s)(F + s)ᵀ (Novak & Nikulin 2016: −1). */
  gramShift: number;
  /** `mmd-poly`: c and d of the kernel (xᵀy + c)^d (Li et al. 2017: c = 0, d = 2). */
  mmdPolyC: number;
  mmdPolyDegree: number;
  /** `mmd-gauss`: 2σ² = this × the mean squared distance between the feature vectors (Li et al. 2017: 1). */
  mmdBandwidth: number;
  /** `mrf`: patch side k and sampling stride (Li & Wand 2016: 3, and 2 in their code). */
  mrfPatchSize: number;
  mrfStride: number;
  /** Softmax smoothing softmax(F/T) of every style layer before its statistic, with temperature T; 0: off (Wang et al. 2021: 1). */
  styleSoftmax: number;
  pooling: Pooling;
  init: Init;
  seed: number;
  optimizer: OptimizerName;
  /** Adam/SGD step size; L-BFGS's initial step scale (PyTorch's lr, 1 by default). */
  learningRate: number;
  /** SGD momentum. */
  momentum: number;
  iterations: number;
  /** L-BFGS history size. */
  historySize: number;
  lineSearch: LineSearch;
  /** Stop when the relative decrease of the total loss over one iteration falls below this (0: never). */
  tolerance: number;
  /** Save a snapshot every N iterations (0: never). */
  saveEvery: number;
  /** Print a progress line every N iterations (0: never). */
  printEvery: number;
  /** VGG weights: `auto` (models/ → fetch → random:0), a Keras .h5 file, a tfjs model directory, or `random:SEED`. */
  weights: string;
  backend: BackendChoice;
  /** What the optimizer changes (param/): `pixels` (the RGB image) or `luminance` (Y only, the content's colours fixed). */
  param: ImageParamName;
  /** Colour control before the run (Gatys et al. 2017 §5, see COLOUR_CONTROLS). */
  colour: ColourControl;
  /** How `colour: histogram` matches colours: A from Cholesky factors or symmetric square roots of the covariances. */
  colourMethod: ColourMatchMethod;
  /** Post-processing of final.png with the content's colours (final-raw.png keeps the result as it ran). */
  originalColours: OriginalColours;
  /** Spatial control (Gatys et al. 2017 §4): a style per region of the content image; empty: one style everywhere. */
  regions: RegionSpec[];
  /** How region masks reach each tap: `simple` (area resize), `inside` (erosion by the receptive field), `all` (dilation). */
  guidePropagation: GuidePropagation;
  /**
   * Coarse-to-fine (Gatys et al. 2017 §6): the image sizes of the stages, increasing; the last is the
   * output size (`imageSize`). Each stage starts from the previous result upsampled. Empty: one stage.
   */
  schedule: number[];
  /** Iterations of each stage (one value: every stage); empty: `iterations` each. */
  stageIterations: number[];
}

/** Gatys et al. 2016's recipe at the size jcjohnson/neural-style uses. */
export const DEFAULT_CONFIG: Readonly<RunConfig> = Object.freeze({
  content: '',
  style: [],
  styleBlend: [],
  out: 'results',
  experiment: 'default',
  imageSize: 512,
  styleSize: 'content',
  contentWeight: 1,
  styleWeight: 1e3,
  tvWeight: 0,
  network: 'auto',
  // Every network's own presets (VGG: conv4_2 and conv1_1…conv5_1, the paper's).
  contentLayers: ['content'],
  styleLayers: ['style'],
  styleLayerWeights: [],
  styleLayerWeighting: 'normalization',
  normalization: 'gatys2016',
  preset: '',
  styleLoss: 'gram',
  gramShift: -1,
  mmdPolyC: 0,
  mmdPolyDegree: 2,
  mmdBandwidth: 1,
  mrfPatchSize: 3,
  mrfStride: 1,
  styleSoftmax: 0,
  pooling: 'avg',
  init: 'noise',
  seed: 0,
  optimizer: 'lbfgs',
  learningRate: 1,
  momentum: 0.9,
  iterations: 500,
  historySize: 100,
  lineSearch: 'strong_wolfe',
  tolerance: 0,
  saveEvery: 0,
  printEvery: 50,
  weights: 'auto',
  backend: 'auto',
  param: 'pixels',
  colour: 'none',
  colourMethod: 'cholesky',
  originalColours: 'none',
  regions: [],
  guidePropagation: 'simple',
  schedule: [],
  stageIterations: [],
} satisfies RunConfig);

/**
 * Keys added after run ids were first derived: at their default they are left out of a run's identity,
 * so that results computed before they existed keep their ids (and are resumed or skipped, not redone).
 */
export const LATER_KEYS: readonly (keyof RunConfig)[] = ['param', 'colour', 'colourMethod', 'originalColours', 'regions', 'guidePropagation', 'schedule', 'stageIterations'];

export const CONFIG_KEYS = Object.keys(DEFAULT_CONFIG) as (keyof RunConfig)[];

type Kind = 'string' | 'number' | 'int' | 'strings' | 'numbers' | 'ints' | 'style-loss' | 'regions' | readonly string[];

const KINDS: Record<keyof RunConfig, Kind> = {
  content: 'string',
  style: 'strings',
  styleBlend: 'numbers',
  out: 'string',
  experiment: 'string',
  imageSize: 'int',
  styleSize: STYLE_SIZES,
  contentWeight: 'number',
  styleWeight: 'number',
  tvWeight: 'number',
  network: 'string',
  contentLayers: 'strings',
  styleLayers: 'strings',
  styleLayerWeights: 'numbers',
  styleLayerWeighting: STYLE_LAYER_WEIGHTINGS,
  normalization: NORMALIZATIONS,
  preset: 'string',
  styleLoss: 'style-loss',
  gramShift: 'number',
  mmdPolyC: 'number',
  mmdPolyDegree: 'int',
  mmdBandwidth: 'number',
  mrfPatchSize: 'int',
  mrfStride: 'int',
  styleSoftmax: 'number',
  pooling: POOLINGS,
  init: 'string',
  seed: 'int',
  optimizer: OPTIMIZERS,
  learningRate: 'number',
  momentum: 'number',
  iterations: 'int',
  historySize: 'int',
  lineSearch: LINE_SEARCHES,
  tolerance: 'number',
  saveEvery: 'int',
  printEvery: 'int',
  weights: 'string',
  backend: BACKENDS,
  param: IMAGE_PARAMS,
  colour: COLOUR_CONTROLS,
  colourMethod: COLOUR_MATCH_METHODS,
  originalColours: ORIGINAL_COLOURS,
  regions: 'regions',
  guidePropagation: GUIDE_PROPAGATIONS,
  schedule: 'ints',
  stageIterations: 'ints',
};

/** The CLI spelling of a config key: `styleWeight` → `--style-weight`. */
export function optionName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** Reverse of optionName: `style-weight` → `styleWeight`. */
export function configKey(option: string): string {
  return option.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function fail(key: string, message: string, allowed?: string): never {
  throw new NstError(`${optionName(key)} (${key}): ${message}`, allowed);
}

/** Splits `a,b` strings. */
function listOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  return [value];
}

/** The largest finite float32: the tensors, and so the losses, are float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** A decimal number as people write it: 512, -0.5, .5, 1e3, 1.5E-4. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function coerce(key: keyof RunConfig, value: unknown): unknown {
  const kind = KINDS[key];
  const num = (v: unknown): number => {
    // Decimal notation only: Number() would read '0x20' as 32 and '0b11' as 3.
    if (typeof v === 'string' && !DECIMAL.test(v.trim())) fail(key, `expected a number, got ${JSON.stringify(v)}`);
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) fail(key, `expected a number, got ${JSON.stringify(v)}`);
    return n;
  };
  if (Array.isArray(kind)) {
    if (!kind.includes(value as string)) fail(key, `'${String(value)}' is not allowed`, `allowed values: ${kind.join(', ')}`);
    return value;
  }
  switch (kind) {
    case 'string':
      if (typeof value !== 'string') fail(key, `expected a string, got ${JSON.stringify(value)}`);
      return value;
    case 'number':
      return num(value);
    case 'int': {
      const n = num(value);
      if (!Number.isInteger(n)) fail(key, `expected an integer, got ${n}`);
      return n;
    }
    case 'strings':
      return listOf(value).flatMap((v) => {
        if (typeof v !== 'string') fail(key, `expected strings, got ${JSON.stringify(v)}`);
        return [v];
      });
    case 'numbers':
      return listOf(value).map(num);
    case 'ints':
      return listOf(value).map((v) => {
        const n = num(v);
        if (!Number.isInteger(n) || n <= 0) fail(key, `expected positive integers, got ${JSON.stringify(v)}`);
        return n;
      });
    case 'regions':
      return parseRegions(value, `${optionName(key)} (${key})`);
    case 'style-loss':
      return styleLossText(value);
  }
  return value;
}

/**
 * Merges a partial config (from the CLI, a JSON/YAML file, a sweep or a notebook) over the defaults,
 * checks every field once, and returns the resolved config. Unknown keys and bad values throw an
 * NstError naming the option and the allowed values, before any compute.
 */
export function resolveConfig(partial: Readonly<Partial<RunConfig>> | Readonly<Record<string, unknown>>, base: Readonly<RunConfig> = DEFAULT_CONFIG): RunConfig {
  const cfg: Record<string, unknown> = structuredClone({ ...base });
  // A preset's values come first, so that everything given explicitly overrides them.
  const preset = typeof partial.preset === 'string' && partial.preset ? presetConfig(partial.preset, partial) : {};
  const given = { ...preset, ...partial, ...(preset.preset ? { preset: preset.preset } : {}) };
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    // Own keys only: `toString`, `constructor` and `__proto__` are in every object's prototype chain.
    if (!Object.hasOwn(KINDS, key)) {
      throw new NstError(`unknown config key '${key}'`, `known keys: ${CONFIG_KEYS.join(', ')}`);
    }
    cfg[key] = coerce(key as keyof RunConfig, value);
  }
  const c = cfg as unknown as RunConfig;
  checkControls(c, given);
  if (c.network.trim() === '') fail('network', 'is empty', 'give a network name (nst models list) or a model.json path');
  // Layer names are checked here when the network's taps are known without loading it (VGG), else
  // when the session opens the network (bindLayers), still before any compute.
  // Judged on the lists as given: whether `auto` may switch networks depends on them.
  const asGiven = { contentLayers: c.contentLayers, styleLayers: c.styleLayers };
  c.contentLayers = expandLayers({ ...c, ...asGiven }, c.contentLayers, 'contentLayers');
  c.styleLayers = expandLayers({ ...c, ...asGiven }, c.styleLayers, 'styleLayers');
  if (!deferredLayers({ ...c, ...asGiven })) c.styleLoss = canonicalStyleLoss(c.styleLoss, c.styleLayers);
  const positive: (keyof RunConfig)[] = ['imageSize', 'iterations', 'historySize', 'mmdPolyDegree', 'mmdBandwidth', 'mrfPatchSize', 'mrfStride'];
  for (const k of positive) if ((c[k] as number) <= 0) fail(k, `must be positive, got ${c[k]}`);
  const nonNegative: (keyof RunConfig)[] = ['contentWeight', 'styleWeight', 'tvWeight', 'learningRate', 'momentum', 'tolerance', 'saveEvery', 'printEvery', 'styleSoftmax'];
  for (const k of nonNegative) if ((c[k] as number) < 0) fail(k, `must not be negative, got ${c[k]}`);
  for (const k of ['styleBlend', 'styleLayerWeights'] as const) {
    if (c[k].some((w) => w < 0)) fail(k, `weights must not be negative, got ${c[k].join(',')}`);
  }
  // The losses are float32: a weight beyond its range makes every loss infinite before the first step.
  for (const k of ['contentWeight', 'styleWeight', 'tvWeight'] as const) {
    if (c[k] > FLOAT32_MAX) fail(k, `${c[k]} is beyond float32's range (${FLOAT32_MAX.toPrecision(3)}): every loss would be infinite`, 'weights that matter are ratios: e.g. --content-weight 1 --style-weight 1e3');
  }
  if (c.styleLayerWeights.some((w) => w > FLOAT32_MAX)) fail('styleLayerWeights', `a weight is beyond float32's range (${FLOAT32_MAX.toPrecision(3)})`);
  if (c.style.length === 0) fail('style', 'at least one style image is needed', 'give --style PATH (repeat it or use commas for several)');
  if (c.styleBlend.length > 0 && c.styleBlend.length !== c.style.length) {
    fail('styleBlend', `${c.styleBlend.length} blend weights for ${c.style.length} style images`, 'give one weight per --style');
  }
  if (c.styleLayerWeights.length > 0 && !deferredLayers({ ...c, ...asGiven }) && c.styleLayerWeights.length !== c.styleLayers.length) {
    fail('styleLayerWeights', `${c.styleLayerWeights.length} weights for ${c.styleLayers.length} style layers`, `one weight per layer of ${c.styleLayers.join(',')}`);
  }
  if (!c.content && c.contentWeight > 0 && c.init === 'content') {
    fail('init', 'init from content needs a content image', 'give --content PATH or --init noise');
  }
  if (c.init.trim() === '') fail('init', 'is empty', `give ${INITS.join(', ')} or an image file`);
  if (c.styleLayers.length === 0 && c.contentLayers.length === 0) fail('styleLayers', 'no layers selected');
  if (c.out.trim() === '') fail('out', 'is empty', 'give the results folder, e.g. --out results');
  if (!/^[\w.-]+$/.test(c.experiment) || /^\.+$/.test(c.experiment)) fail('experiment', `'${c.experiment}' is not a folder name`, 'use letters, digits, . _ -');
  return c;
}

/**
 * The perceptual controls' keys (Gatys et al. 2017) against each other and the rest, in place: regions
 * supply the style images (`style` becomes their union), a schedule supplies the output size.
 */
function checkControls(c: RunConfig, given: Readonly<Record<string, unknown>>): void {
  const needContent: [keyof RunConfig, boolean][] = [
    ['param', c.param !== 'pixels'],
    ['colour', c.colour !== 'none'],
    ['originalColours', c.originalColours !== 'none'],
    ['regions', c.regions.length > 0],
  ];
  for (const [k, used] of needContent) {
    if (used && !c.content) fail(k, `${JSON.stringify(c[k])} needs a content image`, 'give --content PATH (texture synthesis has no content colours or regions)');
  }
  if (c.regions.length > 0) {
    const styles = regionStyles(c.regions);
    if (c.style.length > 0 && c.style.join('\n') !== styles.join('\n')) {
      fail('style', `with regions the style images are the regions' (${styles.join(', ')}), got ${c.style.join(', ')}`, 'leave --style out: each region names its own style images');
    }
    if (c.styleBlend.length > 0) fail('styleBlend', 'does not apply to regions', "a region's style images are blended equally; weigh regions with their styleWeight");
    c.style = styles;
  }
  if (c.schedule.length > 0) {
    if (c.schedule.some((s, i) => i > 0 && s <= c.schedule[i - 1]!)) fail('schedule', `sizes must increase, got ${c.schedule.join(',')}`, 'e.g. --schedule 256,512');
    const last = c.schedule[c.schedule.length - 1]!;
    if (given.imageSize !== undefined && Number(given.imageSize) !== last) {
      fail('imageSize', `${String(given.imageSize)} differs from the schedule's last size ${last}`, 'the last stage of --schedule is the output size: leave --image-size out');
    }
    c.imageSize = last;
    if (c.stageIterations.length > 1 && c.stageIterations.length !== c.schedule.length) {
      fail('stageIterations', `${c.stageIterations.length} values for ${c.schedule.length} stages`, 'give one value per stage of --schedule, or one for all');
    }
  } else if (c.stageIterations.length > 0) {
    fail('stageIterations', 'needs a --schedule', 'give --schedule SIZES, or --iterations for a single-stage run');
  }
}

/** The stages of a run: [image size, iterations] each; one stage without a schedule. */
export function stagesOf(cfg: Pick<RunConfig, 'schedule' | 'stageIterations' | 'imageSize' | 'iterations'>): { imageSize: number; iterations: number }[] {
  if (cfg.schedule.length === 0) return [{ imageSize: cfg.imageSize, iterations: cfg.iterations }];
  return cfg.schedule.map((imageSize, i) => ({ imageSize, iterations: cfg.stageIterations[Math.min(i, cfg.stageIterations.length - 1)] ?? cfg.iterations }));
}

/** Stage `index` of stagesOf(cfg); a stage the run does not have is a wiring bug. */
export function stageOf(cfg: Parameters<typeof stagesOf>[0], index: number): { imageSize: number; iterations: number } {
  const stages = stagesOf(cfg);
  const stage = stages[index];
  if (!stage) throw new Error(`stage ${index} of a run with ${stages.length} stage(s)`);
  return stage;
}

/** Style blend weights normalised to sum 1. */
export function styleBlendWeights(cfg: Pick<RunConfig, 'style' | 'styleBlend'>): number[] {
  const raw = cfg.styleBlend.length > 0 ? cfg.styleBlend : cfg.style.map(() => 1);
  const sum = raw.reduce((a, b) => a + b, 0);
  if (sum <= 0) throw new NstError('--style-blend: the blend weights sum to 0', 'give at least one positive weight');
  return raw.map((w) => w / sum);
}
