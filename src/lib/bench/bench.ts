/**
 * The speed benchmark: the paper's objective (Gatys et al. 2016: content conv4_2, style conv1_1…conv5_1,
 * β/α = 1e3, average pooling) on VGG-19 with random weights — or any network at its default presets —
 * at N×N pixels, built from the library's own parts (the network registry, computeTargets,
 * buildGatysObjective, createOptimizer), so it measures what a run pays per iteration. Random images
 * are the same objective's cost as photographs.
 *
 * Phases: each timed iteration also times the objective alone (forward) just before it, and the time
 * spent inside the optimizer's closure calls (forward + backward); backward = closure time per
 * evaluation − forward, optimizer step = iteration − closure time. Everything on wasm, cpu and
 * tensorflow is synchronous, so reading the loss (as the optimizers do) ends each timing.
 */
import * as tf from '@tensorflow/tfjs';
import { availableParallelism, loadavg } from 'node:os';
import { median } from './compare';
import { machineInfo, type MachineInfo } from './machine';
import { initBackend, type BackendInfo } from '../backend';
import { resolveConfig, type RunConfig } from '../config';
import { NstError } from '../errors';
import { instantiateNetwork, loadNetworkSource } from '../net/registry';
import { bindLayers } from '../net/taps-config';
import { buildGatysObjective, computeTargets } from '../objectives/gatys';
import { createOptimizer } from '../optim/factory';
import type { Evaluation } from '../optim/optimizer';
import { CONVOLUTION_KERNELS, profileKernels, type KernelTime } from './kernel-profile';

/** Config keys the benchmark takes (the objective itself is fixed to the paper's). */
export const BENCH_CONFIG_KEYS = ['backend', 'network', 'iterations', 'optimizer', 'historySize', 'lineSearch', 'learningRate', 'pooling', 'weights'] as const;
export type BenchConfig = Pick<RunConfig, (typeof BENCH_CONFIG_KEYS)[number]>;

/** One evaluation per iteration (Adam), as the reference's forward + backward step. */
export const BENCH_DEFAULTS: Readonly<BenchConfig & { size: number; warmup: number }> = Object.freeze({
  size: 128,
  warmup: 1,
  iterations: 5,
  optimizer: 'adam',
  historySize: 100,
  lineSearch: 'strong_wolfe',
  learningRate: 1,
  pooling: 'avg',
  network: 'vgg19',
  weights: 'random:0',
  backend: 'auto',
});

export interface BenchOptions extends Partial<BenchConfig> {
  /** Image side in pixels (the image is size × size). */
  size?: number;
  /** Untimed iterations before timing (the first pays for kernel set-up and cached weights). */
  warmup?: number;
  /** Then run as many iterations again with every kernel timed (BenchResult.kernels). */
  kernels?: boolean;
}

/** Kernel times per iteration (`kernels: true`), from as many iterations again, run after the timed ones. */
export interface KernelReport {
  /** Wall time per profiled iteration. */
  iteration_ms: number;
  /** Per kernel name, ms and calls per iteration, slowest first. */
  by_kernel: KernelTime[];
  /** Time in all kernels per iteration; the rest of the iteration is tfjs' bookkeeping. */
  total_ms: number;
  /** Time in the convolution kernels per iteration, and the counted GFLOP per iteration over it. */
  convolution_ms: number;
  convolution_gflops: number;
}

export interface BenchResult {
  backend: BackendInfo['name'];
  device: string;
  size: number;
  iterations: number;
  warmup: number;
  optimizer: RunConfig['optimizer'];
  historySize: number;
  pooling: RunConfig['pooling'];
  network: string;
  weights: string;
  /** The taps the objective reads (the network's content and style presets). */
  taps: string[];
  /** Convolution FLOPs of one evaluation: forward to the deepest tap plus the input gradient (4 × MACs). */
  gflop_per_evaluation: number;
  /** gflop_per_evaluation × evaluations per iteration / median time. */
  gflops: number;
  ms_per_iter_median: number;
  ms_per_iter_min: number;
  /** Objective evaluations per iteration (median; 1 for Adam and SGD). */
  evaluations_per_iter: number;
  /** Medians in ms: forward and backward per evaluation, optimizer step per iteration (its own work). */
  phases: { forward: number; backward: number; optimizer: number };
  /** Peak resident memory of the process so far, in MB (workers included). */
  peak_rss_mb: number;
  /** Bytes held in tensors at the end, in MB. */
  tensor_mb: number;
  /** tf.memory().numTensors after each timed iteration. */
  tensor_counts: number[];
  kernels?: KernelReport;
  /** L-BFGS only: the history at its full size (2 × historySize image-sized tensors), in MB. */
  lbfgs_full_history_mb?: number;
  /** 1-minute load average at the start and end, and the machine's cores: the timings' context. */
  load: { start: number; end: number; cores: number };
  machine: MachineInfo;
}


function timed<T>(f: () => T): [number, T] {
  const t = performance.now();
  const r = f();
  return [performance.now() - t, r];
}

/** Per-iteration kernel times of `iterations` profiled iterations (their wall time and evaluations, and each kernel's). */
function kernelReport([[wallMs, evaluations], byKernel]: [[number, number[]], KernelTime[]], iterations: number, gflopPerEvaluation: number): KernelReport {
  const per = byKernel.map((k) => ({ kernel: k.kernel, ms: k.ms / iterations, calls: k.calls / iterations }));
  const convolution = per.filter((k) => CONVOLUTION_KERNELS.has(k.kernel)).reduce((a, k) => a + k.ms, 0);
  const gflop = (gflopPerEvaluation * evaluations.reduce((a, e) => a + e, 0)) / iterations;
  return { iteration_ms: wallMs / iterations, by_kernel: per, total_ms: per.reduce((a, k) => a + k.ms, 0), convolution_ms: convolution, convolution_gflops: gflop / (convolution / 1000) };
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new NstError(`--${name}: expected an integer ≥ ${min}, got ${value}`);
}

export async function runBench(options: BenchOptions = {}): Promise<BenchResult> {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const { size, warmup, kernels: profile = false, ...rest } = { ...BENCH_DEFAULTS, ...given };
  checkCount('size', size, 16);
  checkCount('warmup', warmup, 0);
  // The paper's objective from the config defaults; placeholder image names only satisfy validation.
  // Networks that bring their own weights ignore the VGG default random:0.
  const ownWeights = !['vgg19', 'vgg16', 'auto'].includes(rest.network) && rest.weights === BENCH_DEFAULTS.weights;
  const requested = resolveConfig({ ...rest, weights: ownWeights ? 'auto' : rest.weights, content: 'random', style: ['random'], imageSize: size });
  const loadStart = loadavg()[0]!;
  const backend = await initBackend(requested.backend);
  const net = instantiateNetwork(await loadNetworkSource(requested, { fetch: false }), { pooling: requested.pooling });
  const cfg = bindLayers(requested, net);
  const [content, style] = [1, 2].map((seed) => tf.randomUniform([1, size, size, 3], 0, 255, 'float32', seed) as tf.Tensor4D);
  const targets = computeTargets(net, {
    content: content!,
    styles: [style!],
    blend: [1],
    contentLayers: cfg.contentLayers,
    styleLayers: cfg.styleLayers,
    normalization: cfg.normalization,
    style: cfg,
  });
  const x = tf.variable(content!, true, 'bench-image');
  tf.dispose([content!, style!]);
  const optimizer = createOptimizer(cfg);
  try {
    const objective = buildGatysObjective(cfg, targets);
    const loss = (image: tf.Tensor4D): tf.Scalar => objective.evaluate(net.features(image, objective.layers), image).total;
    const forward = () => tf.tidy(() => loss(x).dataSync()[0]!);
    let inClosureMs = 0;
    const closure = (): Evaluation => {
      const [ms, evaluation] = timed(() => {
        const { value, grad } = tf.valueAndGrad(loss)(x);
        const v = value.dataSync()[0]!;
        value.dispose();
        return { loss: v, grad };
      });
      inClosureMs += ms;
      return evaluation;
    };
    const iterate = () => optimizer.step(x, closure).evaluations;

    forward();
    for (let i = 0; i < warmup; i++) iterate();
    const times = { forward: [] as number[], perEvaluation: [] as number[], optimizer: [] as number[], iter: [] as number[], evals: [] as number[] };
    const tensorCounts: number[] = [];
    for (let i = 0; i < cfg.iterations; i++) {
      times.forward.push(timed(forward)[0]);
      inClosureMs = 0;
      const [ms, evaluations] = timed(iterate);
      times.iter.push(ms);
      times.evals.push(evaluations);
      times.perEvaluation.push(inClosureMs / Math.max(1, evaluations));
      times.optimizer.push(ms - inClosureMs);
      tensorCounts.push(tf.memory().numTensors);
    }
    // Profiled apart, after the timed iterations: the clocks around each kernel cost a little.
    const profiled = profile ? profileKernels(() => timed(() => Array.from({ length: cfg.iterations }, iterate))) : undefined;
    const fwd = median(times.forward);
    const gflop = (4 * net.macs(objective.layers, size, size)) / 1e9;
    const iter = median(times.iter);
    const imageBytes = 4 * size * size * 3;
    return {
      backend: backend.name,
      device: backend.device,
      size,
      iterations: cfg.iterations,
      warmup,
      optimizer: cfg.optimizer,
      historySize: cfg.historySize,
      pooling: cfg.pooling,
      network: net.name,
      weights: net.weights.source,
      taps: [...objective.layers],
      gflop_per_evaluation: gflop,
      gflops: (gflop * median(times.evals)) / (iter / 1000),
      ms_per_iter_median: iter,
      ms_per_iter_min: Math.min(...times.iter),
      evaluations_per_iter: median(times.evals),
      phases: { forward: fwd, backward: median(times.perEvaluation) - fwd, optimizer: median(times.optimizer) },
      peak_rss_mb: process.resourceUsage().maxRSS / 1024,
      tensor_mb: tf.memory().numBytes / 2 ** 20,
      tensor_counts: tensorCounts,
      ...(profiled ? { kernels: kernelReport(profiled, cfg.iterations, gflop) } : {}),
      ...(cfg.optimizer === 'lbfgs' ? { lbfgs_full_history_mb: (2 * cfg.historySize * imageBytes) / 2 ** 20 } : {}),
      load: { start: loadStart, end: loadavg()[0]!, cores: availableParallelism() },
      machine: machineInfo(backend),
    };
  } finally {
    optimizer.dispose();
    x.dispose();
    targets.dispose();
    net.dispose();
  }
}
