/**
 * A style-transfer session: everything a run needs, set up once (backend, weights, images, targets,
 * objective, optimizer), then stepped. `run()` is the common case over a session; coarse-to-fine or
 * custom loops drive sessions themselves instead of copying the loop.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { describeBackend, initBackend, type BackendInfo } from '../backend';
import { INITS, resolveConfig, stageOf, styleBlendWeights, type RunConfig } from '../config';
import { chromaError } from '../colour/chroma-error';
import { colourControlledInputs, colourControlledResult } from '../colour/control';
import { NstError } from '../errors';
import { loadImage, readPixels } from '../image/io';
import { normalSamples } from '../rng';
import type { FeatureNetwork } from '../net/network';
import { deprocess as caffeDeprocess } from '../net/preprocess';
import { cachedNetworkSource, describeNetwork, instantiateNetwork } from '../net/registry';
import { bindNetwork } from '../net/bind-network';
import { loadGuide } from '../guides/load';
import { buildGatysObjective, computeTargets, styleWeightsFor, type GatysObjective, type GatysTargets } from '../objectives/gatys';
import { regionStyle, type RegionImages, type RegionStyle } from '../objectives/region-style';
import { STYLE_MEASURES } from '../objectives/style';
import { styleMeasuresFor } from '../objectives/style-losses';
import { createImageParam } from '../param/factory';
import type { ImageParam } from '../param/image-param';
import { unionLayers, type WeightedPart } from '../objectives/sum';
import { createOptimizer } from '../optim/factory';
import type { Evaluation, Optimizer } from '../optim/optimizer';
import { toHost } from '../optim/vector';
import type { SessionCheckpoint } from './checkpoint';
import { runDir, runIdFor } from './store';
import type { RunInfo, StepLogs } from './types';

/** The objective's value and its gradient norm at an image, as `nst score` reports them. */
export interface Score {
  logs: StepLogs;
  /**
   * L2 norm of the total's gradient with respect to the RGB image; for caffe-preprocessed networks
   * (VGG) the same number as with respect to the preprocessed image, since BGR − mean is a permutation
   * plus a shift.
   */
  gradNorm: number;
}

export interface Session {
  /** The config as run: layer presets expanded to the network's tap names. */
  readonly config: RunConfig;
  readonly info: RunInfo;
  readonly net: FeatureNetwork;
  /** Leaf term names in a stable order (`content/conv4_2`, `style/conv1_1`, …, `tv/image`). */
  readonly termNames: readonly string[];
  /** The weighted groups StepLogs.groups holds, in the objective tree's order (`content`, `style`, `style/sky`, …, `tv`). */
  readonly groupNames: readonly string[];
  readonly iteration: number;
  readonly evaluations: number;
  /**
   * One optimizer iteration; returns the objective at the iterate it started from, labelled with that
   * iterate's index (0: the starting image). `score()` after the last step gives the final iterate's row.
   */
  step(): StepLogs;
  /** The current image as the network sees it, RGB 0..255 [1,H,W,3] (caller disposes). */
  image(): tf.Tensor4D;
  /**
   * The current result as a run saves it: image() with the colour controls applied (`colour:
   * luminance` recombines with the content's colours; `originalColours`). Caller disposes.
   */
  result(): tf.Tensor4D;
  /** The chroma error of an RGB image against the content image (colour/chroma-error.ts); null without one. */
  chromaError(rgb: tf.Tensor4D): number | null;
  /** Replaces the current image (RGB 0..255), e.g. to restore the last good iterate; the parameterisation keeps what it can (luminance: the Y). */
  setImage(rgb: tf.Tensor4D): void;
  /** The objective and gradient norm at the current image, or at a given RGB image of the same size. */
  score(rgb?: tf.Tensor4D): Score;
  /** True when the optimizer's own tolerances say it has converged. */
  readonly converged: boolean;
  /** Host copies of what a resumed run needs: the optimised variable, the optimizer's state, the counts. */
  checkpoint(): SessionCheckpoint;
  /** Continues from a checkpoint taken from a session of the same config (the same variable shape). */
  restore(cp: SessionCheckpoint): void;
  dispose(): void;
}

/** Finite-ness is checked on the host values the loop reads anyway. */
export class DivergedError extends NstError {
  constructor(
    iteration: number,
    /** The objective's terms at the point that was not finite (run/divergence.ts tells the cause from them). */
    readonly logs?: StepLogs,
  ) {
    super(
      `the loss became NaN or infinite at iteration ${iteration}`,
      'the last good image was kept; lower --learning-rate, or use --optimizer lbfgs with --line-search strong_wolfe',
    );
  }
}

/** The style images as the session uses them for an output of [h, w]. */
function loadStyles(cfg: RunConfig, hw: [number, number]): Promise<tf.Tensor4D[]> {
  return Promise.all(cfg.style.map((path) => loadImage(path, cfg.styleSize === 'content' ? { size: hw } : { maxSide: cfg.imageSize })));
}

async function loadInputs(cfg: RunConfig, withStyles: boolean): Promise<{ content: tf.Tensor4D | null; styles: tf.Tensor4D[]; hw: [number, number] }> {
  let content: tf.Tensor4D | null = null;
  let hw: [number, number];
  if (cfg.content) {
    content = await loadImage(cfg.content, { maxSide: cfg.imageSize });
    hw = content.shape.slice(1, 3) as [number, number];
  } else {
    // Texture synthesis: the output takes the (first) style image's proportions.
    const { height, width } = await readPixels(cfg.style[0]!, { maxSide: cfg.imageSize });
    hw = [height, width];
  }
  const styles = withStyles ? await loadStyles(cfg, hw) : [];
  return { content, styles, hw };
}

/** Every tensor of loaded regions. */
function regionTensors(regions: readonly RegionImages[]): tf.Tensor[] {
  return regions.flatMap((r) => [r.contentMask, ...r.styles.flatMap((s) => (s.mask ? [s.image, s.mask] : [s.image]))]);
}

/**
 * The config's regions at an output of [h, w]: masks, and style images sized as the plain ones
 * (loadStyles) under the colour control (`content` at the output's size). The caller disposes them.
 */
async function loadRegions(cfg: RunConfig, hw: [number, number], content: tf.Tensor4D): Promise<RegionImages[]> {
  const out: RegionImages[] = [];
  try {
    for (const spec of cfg.regions) {
      const region: RegionImages = { name: spec.name, weight: spec.styleWeight ?? 1, contentMask: await loadGuide(spec.contentMask, hw, spec.name), styles: [] };
      out.push(region);
      const raw = await loadStyles({ ...cfg, style: spec.style }, hw);
      const { content: grey, styles } = colourControlledInputs(cfg, content, raw);
      tf.dispose([grey, ...raw]);
      region.styles = styles.map((image) => ({ image, mask: null }));
      for (const [i, path] of (spec.styleMasks ?? []).entries()) {
        region.styles[i]!.mask = await loadGuide(path, [styles[i]!.shape[1], styles[i]!.shape[2]], `${spec.name} (style image ${i + 1})`);
      }
    }
  } catch (e) {
    tf.dispose(regionTensors(out));
    throw e;
  }
  return out;
}

/** Spatial control's guided terms are Gram matrices: the other style losses are refused before any compute. */
function checkRegionStyleLoss(cfg: RunConfig): void {
  const measures = styleMeasuresFor(cfg.normalization, cfg.styleLayers, cfg);
  const other = cfg.styleLayers.find((l) => measures[l]!.name !== STYLE_MEASURES[cfg.normalization].name);
  if (other !== undefined) {
    throw new NstError(`--regions: the style loss of ${other} is '${measures[other]!.name}'; guided (per-region) style terms are Gram matrices`, 'use --style-loss gram (and no --style-softmax) with regions');
  }
}

/** Options for sessions that are driven by code rather than only by a config. */
export interface SessionOptions {
  /**
   * A network to run on instead of opening the config's (notebooks share one across runs). Borrowed:
   * the session does not dispose it. It must be the network the config names.
   */
  net?: FeatureNetwork;
  /** The starting image, RGB 0..255 [1,h,w,3] of any size (resized to the run's); wins over `init`. Borrowed. */
  initImage?: tf.Tensor4D;
  /**
   * Terms added to the config's objective, each weighted into the total and logged as a leaf under its
   * own name (e.g. video's `temporal`). Their targets are borrowed: they must outlive the session.
   */
  terms?: readonly WeightedPart[];
  /**
   * Style targets computed once for several sessions (video: every frame of a clip) by
   * `computeStyleTargets`, for this config on this network at the run's size. The session then loads
   * no style image and computes only the content targets; the objective checks that the targets'
   * layers and measures are the config's. Borrowed: they must outlive the session.
   */
  styleTargets?: GatysTargets;
  /**
   * The coarse-to-fine stage (index into the config's `schedule`) this session runs: its images are
   * loaded at that stage's size. The config, run id and folder stay the whole run's. Default: the
   * output size (`imageSize`, the last stage).
   */
  stage?: number;
}

/**
 * The style targets a session of `cfg` (bound to `net`: bindNetwork) computes for an output of [h, w],
 * for `SessionOptions.styleTargets`. The caller disposes them.
 */
export async function computeStyleTargets(cfg: RunConfig, net: FeatureNetwork, hw: [number, number]): Promise<GatysTargets> {
  const styles = await loadStyles(cfg, hw);
  try {
    return computeTargets(net, { content: null, styles, blend: styleBlendWeights(cfg), contentLayers: [], styleLayers: cfg.styleLayers, normalization: cfg.normalization, style: cfg });
  } finally {
    tf.dispose(styles);
  }
}

/** The starting image, RGB 0..255, at the run's size. */
async function initialImage(cfg: RunConfig, net: FeatureNetwork, inputs: { content: tf.Tensor4D | null; styles: tf.Tensor4D[]; hw: [number, number] }, given?: tf.Tensor4D): Promise<tf.Tensor4D> {
  const { content, styles, hw } = inputs;
  const resized = (img: tf.Tensor4D) => tf.tidy(() => (tf.util.arraysEqual(img.shape.slice(1, 3), hw) ? img.clone() : (tf.image.resizeBilinear(img, hw) as tf.Tensor4D)));
  if (given) return resized(given);
  switch (cfg.init) {
    case 'content':
      return content!.clone();
    case 'style':
      return resized(styles[0]!);
    case 'noise':
      // The authors' code starts from randn in caffe space: the ImageNet mean plus unit-variance noise
      // in 0..255 units. Kept in those pixel terms for every network, so that one seed is one image
      // (in a [-1, 1] input space, unit noise would be a saturated ±127 px).
      return tf.tidy(() => caffeDeprocess(tf.tensor4d(normalSamples(hw[0] * hw[1] * 3, 1, cfg.seed), [1, hw[0], hw[1], 3])));
    default: {
      const img = await loadImage(cfg.init, { size: hw });
      return img;
    }
  }
}

/** Missing input files are reported before the network is loaded or anything is computed. */
function checkInputs(cfg: RunConfig): void {
  const files: [string, string][] = [
    ...(cfg.content ? [['--content', cfg.content] as [string, string]] : []),
    ...cfg.style.map((s) => ['--style', s] as [string, string]),
    ...((INITS as readonly string[]).includes(cfg.init) ? [] : [['--init', cfg.init] as [string, string]]),
  ];
  for (const [option, path] of files) {
    if (!existsSync(path)) {
      const hint = option === '--init' ? `give ${INITS.join(', ')} or an image file` : 'check the path (relative paths are from the current directory)';
      throw new NstError(`${option}: image not found: ${path}`, hint);
    }
  }
}

/** The network a config names (loaded once per process, instantiated per session). */
export async function openNetwork(cfg: RunConfig): Promise<FeatureNetwork> {
  return instantiateNetwork(await cachedNetworkSource(cfg), { pooling: cfg.pooling });
}

export async function createSession(partial: Partial<RunConfig> | RunConfig, opts: SessionOptions = {}): Promise<Session> {
  const requested = resolveConfig(partial);
  checkInputs(requested);
  const backend: BackendInfo = await initBackend(requested.backend);
  const ownsNet = !opts.net;
  const net = opts.net ?? (await openNetwork(requested));
  let cfg: RunConfig;
  let notes: string[] = [];
  let inputs: Awaited<ReturnType<typeof loadInputs>> | undefined;
  let controlled: ReturnType<typeof colourControlledInputs> | null = null;
  let regions: RegionImages[] = [];
  let guided: RegionStyle | undefined;
  let targets: GatysTargets | undefined;
  let objective: GatysObjective | undefined;
  let optimizer: Optimizer | undefined;
  let param: ImageParam | undefined;
  // Kept for the colour controls' result and the chroma error.
  let content: tf.Tensor4D | null = null;
  try {
    // Layer names are checked against the network before anything is computed.
    const bound = bindNetwork(requested, net);
    cfg = bound.config;
    notes = bound.notes;
    const given = opts.styleTargets;
    const spatial = cfg.regions.length > 0;
    if (spatial && given) throw new NstError('--regions: a session with given style targets has no regions', 'compute the style targets per region, or run without regions');
    // Shared targets (video: one set for every frame) are made before any frame's colours are known.
    if (given && cfg.colour !== 'none') throw new NstError(`--colour ${cfg.colour}: style targets shared across sessions (video) are computed without a colour control`, 'give --colour none for a video');
    if (spatial) checkRegionStyleLoss(cfg);
    // Images at this stage's size; everything else is the whole run's config.
    const sized: RunConfig = opts.stage === undefined ? cfg : { ...cfg, imageSize: stageOf(cfg, opts.stage).imageSize };
    inputs = await loadInputs(sized, !given && (!spatial || cfg.init === 'style'));
    content = inputs.content;
    // The targets see the images under the colour control (Gatys et al. 2017 §5).
    controlled = content ? colourControlledInputs(cfg, content, inputs.styles) : null;
    const own = computeTargets(net, {
      content: controlled?.content ?? null,
      styles: given || spatial ? [] : (controlled?.styles ?? inputs.styles),
      blend: given || spatial ? [] : styleBlendWeights(cfg),
      contentLayers: cfg.content ? cfg.contentLayers : [],
      styleLayers: given || spatial ? [] : cfg.styleLayers,
      normalization: cfg.normalization,
      style: cfg,
    });
    // With given style targets the session owns (and disposes) only its content targets.
    targets = given ? { ...given, content: own.content, dispose: own.dispose } : own;
    if (spatial) {
      regions = await loadRegions(sized, inputs.hw, content!);
      const layerWeights = styleWeightsFor(cfg, cfg.styleLayers.map((l) => net.taps.find((t) => t.name === l)!.channels));
      guided = regionStyle(net, controlled!.content, regions, { styleLayers: cfg.styleLayers, layerWeights, normalization: cfg.normalization, propagation: cfg.guidePropagation });
    }
    objective = buildGatysObjective(cfg, targets, guided?.style);
    const start = await initialImage(cfg, net, inputs, opts.initImage);
    try {
      // The optimised variable is the parameterisation's (pixels: the RGB image); the network preprocesses.
      param = createImageParam(cfg.param, start, { content: content ?? undefined, chroma: cfg.colour === 'luminance' ? 'grey' : 'content' }, '--param');
    } finally {
      // The variable keeps its own reference to the data; the starting tensor would leak one per session.
      start.dispose();
    }
    optimizer = createOptimizer(cfg);
  } catch (e) {
    targets?.dispose();
    guided?.dispose();
    if (ownsNet) net.dispose();
    param?.dispose();
    optimizer?.dispose();
    content?.dispose();
    throw e;
  } finally {
    for (const t of inputs ? inputs.styles : []) t.dispose();
    if (controlled) tf.dispose([controlled.content, ...controlled.styles]);
    tf.dispose(regionTensors(regions));
  }

  const runId = runIdFor(requested);
  const w = net.weights;
  const info: RunInfo = {
    config: cfg,
    requested,
    runId,
    dir: runDir(requested),
    backend,
    network: { name: net.name, preprocessing: net.preprocessing, weights: w, taps: [...new Set([...cfg.contentLayers, ...cfg.styleLayers])].map((t) => net.taps.find((i) => i.name === t)!) },
    weightsLabel: describeNetwork(net).replace(/^network: /, ''),
    weightsNote: w.reason,
    randomWeights: w.random,
    weightsSha256: w.sha256,
    notes,
  };
  const extra = opts.terms ?? [];
  const termNames = [...objective.termNames, ...extra.map((t) => t.objective.name)];
  const groupNames = objective.groupNames;
  const clash = termNames.find((n, i) => termNames.indexOf(n) !== i);
  if (clash !== undefined) throw new NstError(`two objective terms are named '${clash}'`, 'give each added term its own name');
  const layers = unionLayers([objective.sum, ...extra.map((t) => t.objective)]);
  let startedAt = performance.now();
  let iteration = 0;
  let evaluations = 0;

  /**
   * The objective's terms and its gradient with respect to `input`, for the RGB image `imageOf(input)`:
   * the parameterisation's variable (the optimizer's gradient) or an RGB image itself (score's).
   */
  function evaluateAt(input: tf.Tensor, imageOf: (input: tf.Tensor) => tf.Tensor4D): { logs: StepLogs; grad: tf.Tensor } {
    let packed!: tf.Tensor1D;
    const f = (x: tf.Tensor) => {
      const img = imageOf(x);
      const taps = net.features(img, layers);
      const r = objective!.evaluate(taps, img);
      for (const { objective: o, weight } of extra) {
        r.terms[o.name] = o.evaluate(taps, img);
        if (weight !== 0) r.total = tf.add(r.total, tf.mul(r.terms[o.name]!, weight));
      }
      // One host read per evaluation for every group and term: the per-term curves are the main diagnostic.
      packed = tf.keep(tf.stack([r.total, ...groupNames.map((n) => r.groups[n]!), ...termNames.map((n) => r.terms[n]!)]) as tf.Tensor1D);
      return r.total as tf.Scalar;
    };
    const { value, grad } = tf.valueAndGrad(f)(input);
    value.dispose();
    const v = packed.dataSync();
    packed.dispose();
    const groups: Record<string, number> = {};
    groupNames.forEach((n, i) => (groups[n] = v[1 + i]!));
    const terms: Record<string, number> = {};
    termNames.forEach((n, i) => (terms[n] = v[1 + groupNames.length + i]!));
    const logs: StepLogs = {
      iteration,
      elapsedMs: performance.now() - startedAt,
      evaluations,
      total: v[0]!,
      content: groups.content ?? 0,
      style: groups.style ?? 0,
      tv: groups.tv ?? 0,
      groups,
      terms,
    };
    return { logs, grad };
  }

  const closure = (): Evaluation & { logs: StepLogs } => {
    evaluations++;
    const { logs, grad } = evaluateAt(param!.variable, () => param!.toRgb());
    if (!Number.isFinite(logs.total)) {
      grad.dispose();
      throw new DivergedError(iteration, logs);
    }
    return { loss: logs.total, grad, logs };
  };

  const scoreAt = (rgb: tf.Tensor4D): Score => {
    const { logs, grad } = evaluateAt(rgb, (x) => x as tf.Tensor4D);
    const gradNorm = tf.tidy(() => tf.norm(grad).dataSync()[0]!);
    grad.dispose();
    return { logs, gradNorm };
  };

  return {
    config: cfg,
    info,
    net,
    termNames,
    groupNames,
    get iteration() {
      return iteration;
    },
    get evaluations() {
      return evaluations;
    },
    get converged() {
      return optimizer!.converged ?? false;
    },
    step() {
      iteration++;
      // The iterate the step started from (L-BFGS may reuse its last line-search point there): its
      // loss is known without another evaluation, so the row is that iterate's, `iteration - 1`.
      return { ...optimizer!.step(param!.variable, closure).start.logs, iteration: iteration - 1, evaluations, elapsedMs: performance.now() - startedAt };
    },
    image() {
      return param!.toRgb();
    },
    result() {
      const img = param!.toRgb();
      if (!content) return img;
      try {
        return colourControlledResult(cfg, img, content);
      } finally {
        img.dispose();
      }
    },
    chromaError(rgb) {
      return content ? chromaError(rgb, content) : null;
    },
    setImage(rgb) {
      param!.setFromRgb(rgb);
    },
    score(rgb) {
      if (rgb) return scoreAt(rgb);
      const img = param!.toRgb();
      try {
        return scoreAt(img);
      } finally {
        img.dispose();
      }
    },
    checkpoint() {
      return { iteration, evaluations, elapsedMs: performance.now() - startedAt, variable: toHost(param!.variable), optimizer: optimizer!.getState() };
    },
    restore(cp) {
      const x = param!.variable;
      if (cp.variable.shape.join('x') !== x.shape.join('x')) {
        throw new Error(`checkpoint of a ${cp.variable.shape.join('x')} ${param!.name} variable restored into a ${x.shape.join('x')} session`);
      }
      tf.tidy(() => x.assign(tf.tensor(cp.variable.data, x.shape, 'float32')));
      optimizer!.setState(cp.optimizer, x);
      iteration = cp.iteration;
      evaluations = cp.evaluations;
      startedAt = performance.now() - cp.elapsedMs;
    },
    dispose() {
      optimizer!.dispose();
      param!.dispose();
      targets!.dispose();
      guided?.dispose();
      content?.dispose();
      if (ownsNet) net.dispose();
    },
  };
}

/**
 * The lines a run starts with. RANDOM WEIGHTS come first; otherwise a fallback's reason does ("no
 * pretrained VGG-19 … using inception_v3 from nsfwjs …"), so the first line always says the surprise.
 */
export function describeSession(s: Session): string[] {
  const { weightsLabel, weightsNote, randomWeights } = s.info;
  const network = `network: ${weightsLabel}`;
  const lines = !weightsNote ? [network] : randomWeights ? [network, `  why: ${weightsNote}`] : [`network: ${weightsNote}`, network];
  return [...lines, ...s.info.notes.map((n) => `note: ${n}`), describeBackend(s.info.backend)];
}
