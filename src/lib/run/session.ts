/**
 * A style-transfer session: everything a run needs, set up once (backend, weights, images, targets,
 * objective, optimizer), then stepped. `run()` is the common case over a session; coarse-to-fine or
 * custom loops drive sessions themselves instead of copying the loop.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { describeBackend, initBackend, type BackendInfo } from '../backend';
import { INITS, resolveConfig, styleBlendWeights, type RunConfig } from '../config';
import { NstError } from '../errors';
import { loadImage, readPixels } from '../image/io';
import { normalSamples } from '../rng';
import type { FeatureNetwork } from '../net/network';
import { deprocess as caffeDeprocess } from '../net/preprocess';
import { cachedNetworkSource, describeNetwork, instantiateNetwork } from '../net/registry';
import { bindNetwork } from '../net/bind-network';
import { buildGatysObjective, computeTargets, type GatysObjective, type GatysTargets } from '../objectives/gatys';
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
  /** Leaf term names in a stable order (`content/conv4_2`, `style/conv1_1`, …, `tv`). */
  readonly termNames: readonly string[];
  readonly iteration: number;
  readonly evaluations: number;
  /**
   * One optimizer iteration; returns the objective at the iterate it started from, labelled with that
   * iterate's index (0: the starting image). `score()` after the last step gives the final iterate's row.
   */
  step(): StepLogs;
  /** The current image, RGB 0..255 [1,H,W,3] (caller disposes). */
  image(): tf.Tensor4D;
  /** Replaces the current image (RGB 0..255), e.g. to restore the last good iterate. */
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
  let targets: GatysTargets | undefined;
  let objective: GatysObjective | undefined;
  let optimizer: Optimizer | undefined;
  let x: tf.Variable<tf.Rank.R4> | undefined;
  try {
    // Layer names are checked against the network before anything is computed.
    const bound = bindNetwork(requested, net);
    cfg = bound.config;
    notes = bound.notes;
    const given = opts.styleTargets;
    inputs = await loadInputs(cfg, !given);
    const own = computeTargets(net, {
      content: inputs.content,
      styles: inputs.styles,
      blend: given ? [] : styleBlendWeights(cfg),
      contentLayers: cfg.content ? cfg.contentLayers : [],
      styleLayers: given ? [] : cfg.styleLayers,
      normalization: cfg.normalization,
      style: cfg,
    });
    // With given style targets the session owns (and disposes) only its content targets.
    targets = given ? { ...given, content: own.content, dispose: own.dispose } : own;
    objective = buildGatysObjective(cfg, targets);
    // The optimised variable is the RGB image (the pixel parameterisation); the network preprocesses.
    const start = await initialImage(cfg, net, inputs, opts.initImage);
    // The variable keeps its own reference to the data; the starting tensor would leak one per session.
    x = tf.variable(start, true, 'image');
    start.dispose();
    optimizer = createOptimizer(cfg);
  } catch (e) {
    targets?.dispose();
    if (ownsNet) net.dispose();
    x?.dispose();
    optimizer?.dispose();
    throw e;
  } finally {
    for (const t of inputs ? [inputs.content, ...inputs.styles] : []) t?.dispose();
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
  const clash = termNames.find((n, i) => termNames.indexOf(n) !== i);
  if (clash !== undefined) throw new NstError(`two objective terms are named '${clash}'`, 'give each added term its own name');
  const layers = unionLayers([objective.sum, ...extra.map((t) => t.objective)]);
  let startedAt = performance.now();
  let iteration = 0;
  let evaluations = 0;

  /** The objective's terms and its gradient at an RGB image. */
  function evaluateAt(image: tf.Tensor4D): { logs: StepLogs; grad: tf.Tensor } {
    let packed!: tf.Tensor1D;
    const f = (img: tf.Tensor4D) => {
      const taps = net.features(img, layers);
      const r = objective!.evaluate(taps, img);
      for (const { objective: o, weight } of extra) {
        r.terms[o.name] = o.evaluate(taps, img);
        r.total = tf.add(r.total, tf.mul(r.terms[o.name]!, weight));
      }
      // One host read per evaluation for every term: the per-term curves are the main diagnostic.
      packed = tf.keep(tf.stack([r.total, r.groups.content, r.groups.style, r.groups.tv, ...termNames.map((n) => r.terms[n]!)]) as tf.Tensor1D);
      return r.total;
    };
    const { value, grad } = tf.valueAndGrad(f)(image);
    value.dispose();
    const v = packed.dataSync();
    packed.dispose();
    const terms: Record<string, number> = {};
    termNames.forEach((n, i) => (terms[n] = v[4 + i]!));
    const logs: StepLogs = {
      iteration,
      elapsedMs: performance.now() - startedAt,
      evaluations,
      total: v[0]!,
      content: v[1]!,
      style: v[2]!,
      tv: v[3]!,
      terms,
    };
    return { logs, grad };
  }

  const closure = (): Evaluation & { logs: StepLogs } => {
    evaluations++;
    const { logs, grad } = evaluateAt(x!);
    if (!Number.isFinite(logs.total)) {
      grad.dispose();
      throw new DivergedError(iteration, logs);
    }
    return { loss: logs.total, grad, logs };
  };

  return {
    config: cfg,
    info,
    net,
    termNames,
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
      return { ...optimizer!.step(x!, closure).start.logs, iteration: iteration - 1, evaluations, elapsedMs: performance.now() - startedAt };
    },
    image() {
      return x!.clone();
    },
    setImage(rgb) {
      x!.assign(rgb);
    },
    score(rgb) {
      const { logs, grad } = evaluateAt(rgb ?? x!);
      const gradNorm = tf.tidy(() => tf.norm(grad).dataSync()[0]!);
      grad.dispose();
      return { logs, gradNorm };
    },
    checkpoint() {
      return { iteration, evaluations, elapsedMs: performance.now() - startedAt, variable: toHost(x!), optimizer: optimizer!.getState() };
    },
    restore(cp) {
      if (cp.variable.shape.join('x') !== x!.shape.join('x')) {
        throw new Error(`checkpoint of a ${cp.variable.shape.join('x')} image restored into a ${x!.shape.join('x')} session`);
      }
      tf.tidy(() => x!.assign(tf.tensor4d(cp.variable.data, x!.shape, 'float32')));
      optimizer!.setState(cp.optimizer, x!);
      iteration = cp.iteration;
      evaluations = cp.evaluations;
      startedAt = performance.now() - cp.elapsedMs;
    },
    dispose() {
      optimizer!.dispose();
      x!.dispose();
      targets!.dispose();
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
