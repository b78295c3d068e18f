/**
 * A style-transfer session: everything a run needs, set up once (backend, weights, images, targets,
 * objective, optimizer), then stepped. `run()` is the common case over a session; coarse-to-fine or
 * custom loops drive sessions themselves instead of copying the loop.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, statSync } from 'node:fs';
import { describeBackend, initBackend, type BackendInfo } from '../backend';
import { resolveConfig, styleBlendWeights, type RunConfig } from '../config';
import { NstError } from '../errors';
import { loadImage, readPixels } from '../image/io';
import { normalSamples } from '../rng';
import { createVgg19, type FeatureNet } from '../net/vgg';
import { deprocess, preprocess } from '../net/preprocess';
import { loadWeights, type LoadedWeights } from '../net/weights/load';
import { requireLayers } from '../net/weights/validate';
import { buildGatysObjective, computeTargets, type GatysObjective, type GatysTargets } from '../objectives/gatys';
import { createOptimizer } from '../optim/factory';
import type { Evaluation, Optimizer } from '../optim/optimizer';
import { toHost } from '../optim/vector';
import type { SessionCheckpoint } from './checkpoint';
import { runDir, runIdFor } from './store';
import type { RunInfo, StepLogs } from './types';

/** The objective's value and its gradient norm at an image, as `nst score` reports them. */
export interface Score {
  logs: StepLogs;
  /** L2 norm of the total's gradient with respect to the preprocessed image. */
  gradNorm: number;
}

export interface Session {
  readonly config: RunConfig;
  readonly info: RunInfo;
  /** Leaf term names in a stable order (`content/conv4_2`, `style/conv1_1`, …, `tv`). */
  readonly termNames: readonly string[];
  readonly iteration: number;
  readonly evaluations: number;
  /** One optimizer iteration; returns the objective at the iterate it started from. */
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

async function loadInputs(cfg: RunConfig): Promise<{ content: tf.Tensor4D | null; styles: tf.Tensor4D[]; hw: [number, number] }> {
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
  const styles = await Promise.all(
    cfg.style.map((path) => loadImage(path, cfg.styleSize === 'content' ? { size: hw } : { maxSide: cfg.imageSize })),
  );
  return { content, styles, hw };
}

function initialImage(cfg: RunConfig, content: tf.Tensor4D | null, styles: tf.Tensor4D[], hw: [number, number]): tf.Tensor4D {
  return tf.tidy(() => {
    switch (cfg.init) {
      case 'content':
        return preprocess(content!);
      case 'style':
        return preprocess(tf.image.resizeBilinear(styles[0]!, hw) as tf.Tensor4D);
      case 'noise':
        // The authors' code starts from randn in the preprocessed space.
        return tf.tensor4d(normalSamples(hw[0] * hw[1] * 3, 1, cfg.seed), [1, hw[0], hw[1], 3]);
    }
  });
}

function weightsLabel(w: { source: string; format: string; sha256?: string; random: boolean }): string {
  if (w.random) return `${w.source} — RANDOM WEIGHTS, not a trained VGG-19: losses run, images are not paintings`;
  return `${w.format} ${w.source}${w.sha256 ? ` (sha256 ${w.sha256.slice(0, 12)}…)` : ''}`;
}

let lastWeights: { key: string; weights: Promise<LoadedWeights> } | undefined;

/**
 * The weights of the previous session when the spec (and the file's size and mtime) are unchanged:
 * sweeps and notebooks run many sessions on one network, and reading or generating 80 MB takes seconds.
 */
function cachedWeights(spec: string): Promise<LoadedWeights> {
  const st = existsSync(spec) ? statSync(spec) : undefined;
  const key = `${spec}|${st?.size}|${st?.mtimeMs}`;
  if (lastWeights?.key !== key) {
    const weights = loadWeights(spec);
    // A failed load is not remembered.
    weights.catch(() => lastWeights?.weights === weights && (lastWeights = undefined));
    lastWeights = { key, weights };
  }
  return lastWeights.weights;
}

/** Missing input files are reported before weights are loaded or anything is computed. */
function checkInputs(cfg: RunConfig): void {
  const files: [string, string][] = [...(cfg.content ? [['--content', cfg.content] as [string, string]] : []), ...cfg.style.map((s) => ['--style', s] as [string, string])];
  for (const [option, path] of files) {
    if (!existsSync(path)) throw new NstError(`${option}: image not found: ${path}`, 'check the path (relative paths are from the current directory)');
  }
}

export async function createSession(partial: Partial<RunConfig> | RunConfig): Promise<Session> {
  const cfg = resolveConfig(partial);
  checkInputs(cfg);
  const backend: BackendInfo = await initBackend(cfg.backend);
  const weights = await cachedWeights(cfg.weights);
  requireLayers(weights, cfg.content ? cfg.contentLayers : [], '--content-layers');
  requireLayers(weights, cfg.styleLayers, '--style-layers');
  const { content, styles, hw } = await loadInputs(cfg);
  let net: FeatureNet | undefined;
  let targets: GatysTargets | undefined;
  let objective: GatysObjective | undefined;
  let optimizer: Optimizer | undefined;
  let x: tf.Variable<tf.Rank.R4> | undefined;
  try {
    net = createVgg19(weights, { pooling: cfg.pooling });
    const inputs = { content: content ? preprocess(content) : null, styles: styles.map((s) => preprocess(s)) };
    try {
      targets = computeTargets(net, {
        ...inputs,
        blend: styleBlendWeights(cfg),
        contentLayers: cfg.content ? cfg.contentLayers : [],
        styleLayers: cfg.styleLayers,
        normalization: cfg.normalization,
      });
    } finally {
      tf.dispose([...(inputs.content ? [inputs.content] : []), ...inputs.styles]);
    }
    objective = buildGatysObjective(cfg, targets);
    x = tf.variable(initialImage(cfg, content, styles, hw), true, 'image');
    optimizer = createOptimizer(cfg);
  } catch (e) {
    targets?.dispose();
    net?.dispose();
    x?.dispose();
    optimizer?.dispose();
    throw e;
  } finally {
    for (const t of [content, ...styles]) t?.dispose();
  }

  const runId = runIdFor(cfg);
  const info: RunInfo = {
    config: cfg,
    runId,
    dir: runDir(cfg),
    backend,
    weightsLabel: weightsLabel(weights),
    weightsNote: weights.reason,
    randomWeights: weights.random,
    weightsSha256: weights.sha256,
  };
  const termNames = objective.termNames;
  let startedAt = performance.now();
  let iteration = 0;
  let evaluations = 0;

  /** The objective's terms and its gradient at `image` (preprocessed). */
  function evaluateAt(image: tf.Tensor4D): { logs: StepLogs; grad: tf.Tensor } {
    const layers = objective!.layers;
    let packed!: tf.Tensor1D;
    const f = (img: tf.Tensor4D) => {
      const r = objective!.evaluate(net!.features(img, layers), img);
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
      // Logged at the iterate the step started from (L-BFGS may reuse its last line-search point there).
      return { ...optimizer!.step(x!, closure).start.logs, iteration, evaluations, elapsedMs: performance.now() - startedAt };
    },
    image() {
      return deprocess(x!);
    },
    setImage(rgb) {
      tf.tidy(() => x!.assign(preprocess(rgb)));
    },
    score(rgb) {
      const image = rgb ? preprocess(rgb) : x!;
      const { logs, grad } = evaluateAt(image);
      const gradNorm = tf.tidy(() => tf.norm(grad).dataSync()[0]!);
      grad.dispose();
      if (rgb) image.dispose();
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
      net!.dispose();
    },
  };
}

export function describeSession(s: Session): string[] {
  const note = s.info.weightsNote ? [`  why: ${s.info.weightsNote}`] : [];
  return [`weights: ${s.info.weightsLabel}`, ...note, describeBackend(s.info.backend)];
}
