/**
 * Sizes a run can and cannot take, checked from the image headers before anything is computed:
 * - too small: every tap must still have a feature map of at least 1×1 (`minInputSize`), else the
 *   network's pooling leaves nothing (today's symptoms were a wasm RuntimeError or a silent hang);
 * - too large: the estimated peak memory must fit the backend (wasm32 caps its heap at 4 GiB).
 * Each refusal names the size that works: the smallest `--image-size` the layers allow, the largest one
 * that fits, and the other ways out (`--history-size`, `--backend tensorflow`).
 */
import { totalmem } from 'node:os';
import type { BackendInfo } from '../backend';
import type { OptimizerName, RunConfig } from '../config';
import { NstError } from '../errors';
import { fitLongerSide, readImageSize } from '../image/io';
import type { FeatureNetwork, TapInfo } from '../net/network';

type Size = [number, number];

/** What the size checks need of a network (any FeatureNetwork; net/vgg's vggGeometry without weights). */
export type SizedNetwork = Pick<FeatureNetwork, 'minInputSize' | 'taps' | 'weightBytes'>;

/** An input image: how messages name it and its size as a viewer shows it. */
export interface InputImage {
  /** e.g. `the content image data/images/tubingen.jpg`. */
  label: string;
  native: Size;
}

/** The smallest `--image-size` at which `native` fitted to its longer side has a shorter side ≥ `min`. */
export function smallestImageSize(native: Size, min: number): number {
  // fitLongerSide never makes a side smaller than 1 px.
  if (min <= 1) return 1;
  const [long, short] = native[0] >= native[1] ? [native[0], native[1]] : [native[1], native[0]];
  // round(short·s/long) ≥ min  ⇔  s ≥ (min − ½)·long/short, up to floating point: step to the exact one.
  let s = Math.max(min, Math.ceil(((min - 0.5) * long) / short) - 1);
  while (Math.min(...fitLongerSide(native[0], native[1], s)) < min) s++;
  return s;
}

/**
 * Throws an NstError when `image`, fitted to `imageSize` on its longer side, is too small for `taps`,
 * naming the taps that need more and the smallest `--image-size` that works.
 */
export function checkInputSize(image: InputImage, imageSize: number, taps: readonly string[], net: Pick<FeatureNetwork, 'minInputSize'>, option = '--image-size'): void {
  const size = fitLongerSide(image.native[0], image.native[1], imageSize);
  const shorter = Math.min(...size);
  const min = net.minInputSize(taps);
  if (shorter >= min) return;
  const short = taps.filter((t) => net.minInputSize([t]) > shorter);
  const smallest = smallestImageSize(image.native, min);
  throw new NstError(
    `${option} ${imageSize}: ${image.label} (${image.native[1]}×${image.native[0]}) becomes ${size[1]}×${size[0]} px, too small for ${short.join(', ')}: the network's pooling needs at least ${min} px on the shorter side`,
    `the smallest ${option} these layers allow for this image is ${smallest}; or leave out the deepest layers (${short.join(', ')})`,
  );
}

/** The float32 bytes of a network's weights: all it holds, and those up to the deepest tap (the part the backward pass runs through). */
export interface WeightBytes {
  total: number;
  upToDeepest: number;
}

export interface MemoryInput {
  /** The output (optimised) image, [height, width]. */
  size: Size;
  /** Each style image as the run sizes it (its targets are computed once, before the loop). */
  styles: Size[];
  /** The network's taps in graph order; the run uses those up to the deepest of `used`. */
  taps: readonly Pick<TapInfo, 'name' | 'channels' | 'stride'>[];
  used: readonly string[];
  weights: WeightBytes;
  optimizer: OptimizerName;
  historySize: number;
}

/**
 * Calibration on wasm (8 measured heaps, 64–384 px, three layer sets: docs/reliability.md): the heap
 * besides tensors; the copies of the weights up to the deepest tap besides the weights themselves (the
 * backward pass's kernels, and XNNPACK's packed copies of both); and how many float32 copies of every
 * feature map up to the deepest tap one evaluation holds at its peak (the forward maps kept for the
 * backward pass, and every gradient of a backward pass, which tfjs keeps until it ends).
 */
const BASE_BYTES = 130 * 2 ** 20;
const BACKWARD_WEIGHT_COPIES = 3;
const FEATURE_COPIES = 5.8;

/** The share of a limit a run may plan to use: the rest is for the allocator's fragmentation. */
const USABLE = 0.9;

/** Image-sized float32 vectors an optimizer holds besides its history (x, gradients, direction, …). */
const WORKING_VECTORS: Record<OptimizerName, number> = { lbfgs: 8, adam: 6, sgd: 4 };

/** Float32 values per input pixel of the feature maps up to the deepest tap: Σ channels / stride². */
function featureValuesPerPixel(taps: MemoryInput['taps'], used: readonly string[]): number {
  const deepest = Math.max(...used.map((u) => taps.findIndex((t) => t.name === u)));
  return taps.slice(0, deepest + 1).reduce((sum, t) => sum + t.channels / (t.stride * t.stride), 0);
}

/** The parts of the estimate, in bytes, for messages. */
export interface MemoryEstimate {
  total: number;
  weights: number;
  features: number;
  /** L-BFGS' 2·historySize image-sized vectors (0 for the others). */
  history: number;
  other: number;
}

/**
 * The peak memory of a run, in bytes: the weights (plus the copy the backward pass uses), the feature
 * maps of one evaluation with its gradient, the optimizer's vectors (L-BFGS: 2·historySize of them) and
 * the targets. Calibrated against measured wasm heaps to within ±25% (docs/reliability.md).
 */
export function estimateMemory(m: MemoryInput): MemoryEstimate {
  const pixels = m.size[0] * m.size[1];
  const perPixel = featureValuesPerPixel(m.taps, m.used);
  const step = FEATURE_COPIES * 4 * perPixel * pixels;
  // The targets: one forward pass per style image, without gradients (two copies), before the loop.
  const targets = Math.max(0, ...m.styles.map(([h, w]) => 2 * 4 * perPixel * h * w));
  const features = Math.max(step, targets);
  const vector = 4 * 3 * pixels;
  const history = m.optimizer === 'lbfgs' ? 2 * m.historySize * vector : 0;
  const weights = m.weights.total + BACKWARD_WEIGHT_COPIES * m.weights.upToDeepest;
  const other = BASE_BYTES + (1 + WORKING_VECTORS[m.optimizer]) * vector;
  return { total: weights + features + history + other, weights, features, history, other };
}

/** How much memory a backend may use, or undefined when it cannot be known (a GPU's). */
export function memoryLimit(backend: Pick<BackendInfo, 'name' | 'device'>): { bytes: number; what: string } | undefined {
  if (backend.name === 'wasm') return { bytes: 4 * 2 ** 30, what: 'the wasm backend caps its heap at 4 GiB' };
  if (backend.name === 'tensorflow' && /GPU/.test(backend.device)) return undefined;
  return { bytes: totalmem(), what: `this machine has ${formatBytes(totalmem())} of memory` };
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 50) return `${(n / 2 ** 40).toExponential(1)} TiB`;
  if (n >= 2 ** 40) return `${(n / 2 ** 40).toFixed(1)} TiB`;
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  return `${Math.round(n / 2 ** 20)} MiB`;
}

/** The largest `imageSize` ≤ `from` whose estimate fits in `bytes` (0 if none does). */
function largestFitting(bytes: number, from: number, estimateAt: (imageSize: number) => number): number {
  let lo = 0;
  let hi = Math.min(from, 1 << 20);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (estimateAt(mid) <= bytes) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Throws an NstError when the run's estimated peak does not fit the backend, with the largest
 * `--image-size` that does and, where they help, a `--history-size` that fits and the tensorflow backend.
 * `inputAt(s)` is the run's memory input at `--image-size s`.
 */
export function checkMemory(imageSize: number, inputAt: (imageSize: number) => MemoryInput, backend: Pick<BackendInfo, 'name' | 'device'>, option = '--image-size'): void {
  const limit = memoryLimit(backend);
  if (!limit) return;
  const usable = USABLE * limit.bytes;
  const input = inputAt(imageSize);
  const estimate = estimateMemory(input);
  if (estimate.total <= usable) return;
  const largest = largestFitting(usable, imageSize, (s) => estimateMemory(inputAt(s)).total);
  const ways = [largest > 0 ? `${option} ${largest} or less` : `no ${option} fits these layers`];
  if (input.optimizer === 'lbfgs' && estimate.history > 0) {
    const perPair = estimate.history / input.historySize;
    const fits = Math.floor((usable - (estimate.total - estimate.history)) / perPair);
    if (fits >= 1) ways.push(`--history-size ${fits} (L-BFGS keeps 2×${input.historySize} image-sized vectors: ${formatBytes(estimate.history)})`);
  }
  if (backend.name === 'wasm' && estimate.total < 0.8 * totalmem()) ways.push(`--backend tensorflow (the limit is then this machine's ${formatBytes(totalmem())})`);
  const [h, w] = input.size;
  throw new NstError(
    `${option} ${imageSize}: a ${w}×${h} run needs about ${formatBytes(estimate.total)} (weights ${formatBytes(estimate.weights)}, feature maps ${formatBytes(estimate.features)}${estimate.history ? `, L-BFGS history ${formatBytes(estimate.history)}` : ''}), and ${limit.what}`,
    `use ${ways.join(', or ')}`,
  );
}

/** What checkRunLimits needs besides the config. */
export interface RunLimitsContext {
  net: SizedNetwork;
  backend: Pick<BackendInfo, 'name' | 'device'>;
}

/** An input image's header, its errors naming the option it came from. */
async function inputImage(option: string, role: string, path: string): Promise<InputImage> {
  try {
    const { height, width } = await readImageSize(path);
    return { label: `${role} ${path}`, native: [height, width] };
  } catch (e) {
    if (e instanceof NstError) throw new NstError(`${option}: ${e.message}`, e.hint);
    throw e;
  }
}

/** The output image (the content, or for texture synthesis the first style) and the style images, from their headers. */
async function runImages(cfg: RunConfig): Promise<{ output: InputImage; styles: InputImage[] }> {
  const styles = await Promise.all(cfg.style.map((path) => inputImage('--style', 'the style image', path)));
  const output: InputImage = cfg.content
    ? await inputImage('--content', 'the content image', cfg.content)
    : { ...styles[0]!, label: `${styles[0]!.label} (texture synthesis takes its proportions)` };
  return { output, styles };
}

/** The run's output size [h, w], from the image headers alone (no network needed). */
export async function outputSize(cfg: RunConfig): Promise<Size> {
  const { output } = await runImages(cfg);
  return fitLongerSide(output.native[0], output.native[1], cfg.imageSize);
}

/**
 * Every size check of a run, from the image headers (nothing is decoded or computed): the content (or,
 * for texture synthesis, the first style) image and each style image kept at its own size must be large
 * enough for the layers, and the run must fit the backend's memory. Returns the output size [h, w].
 */
export async function checkRunLimits(cfg: RunConfig, ctx: RunLimitsContext): Promise<Size> {
  const used = [...(cfg.content ? cfg.contentLayers : []), ...cfg.styleLayers];
  const { output, styles } = await runImages(cfg);
  // A coarse-to-fine run's first, smallest stage must fit the layers too.
  const [smallest, option] = cfg.schedule.length > 0 ? [cfg.schedule[0]!, 'the first --schedule size'] : [cfg.imageSize, '--image-size'];
  checkInputSize(output, smallest, used, ctx.net, option);
  if (cfg.styleSize === 'keep') for (const s of styles) checkInputSize(s, smallest, cfg.styleLayers, ctx.net, option);
  const inputAt = (s: number): MemoryInput => {
    const size = fitLongerSide(output.native[0], output.native[1], s);
    return {
      size,
      styles: styles.map((st) => (cfg.styleSize === 'content' ? size : fitLongerSide(st.native[0], st.native[1], s))),
      taps: ctx.net.taps,
      used,
      weights: ctx.net.weightBytes(used),
      optimizer: cfg.optimizer,
      historySize: cfg.historySize,
    };
  };
  // A coarse-to-fine run peaks at its last, largest stage: that size is what to lower.
  checkMemory(cfg.imageSize, inputAt, ctx.backend, cfg.schedule.length > 0 ? 'the last --schedule size' : '--image-size');
  return inputAt(cfg.imageSize).size;
}
