/**
 * The layers graph's differentiable operations, each with an input gradient built from forward ops that
 * every backend has and wasm runs fast (the reasoning of net/conv.ts, generalised). Style transfer only
 * differentiates with respect to the image, so no kernel gradient is ever computed: tfjs' own fused
 * convolution gradient computes the filter gradient too (Conv2DBackpropFilter, which wasm lacks), and
 * wasm has no DepthwiseConv2dNativeBackpropInput at all; its pooling gradients are slow loops.
 *
 * The input gradient of a convolution is the transposed convolution (Dumoulin & Visin 2016, "A guide to
 * convolution arithmetic", §4): the upstream gradient, zero-dilated by the stride and padded by
 * k − 1 − p, convolved (stride 1) with the kernel flipped spatially and its in/out channels swapped.
 * Depthwise convolutions transpose to depthwise convolutions with the flipped kernel. Unlike net/conv.ts,
 * this runs on every backend: one path, tested on wasm and cpu.
 */
import * as tf from '@tensorflow/tfjs';
import { flipKernel } from '../conv';
import { windowPads } from './geometry';
import type { Activation, Pair, Padding } from './topology';

/** [[top, bottom], [left, right]]. */
export type Pads = readonly [Pair, Pair];

export interface Kernel {
  /** [kh, kw, in, out], or [kh, kw, channels, 1] when depthwise. */
  readonly kernel: tf.Tensor4D;
  readonly bias: tf.Tensor1D | null;
  readonly depthwise: boolean;
  /** The kernel of the transposed convolution (flipped; in/out swapped unless depthwise), made once. */
  transposed(): tf.Tensor4D;
}

/** The transposed-convolution kernel of `kernel`. */
export function transposeKernel(kernel: tf.Tensor4D, depthwise: boolean): tf.Tensor4D {
  return depthwise ? tf.tidy(() => tf.reverse(kernel, [0, 1])) : flipKernel(kernel);
}

const explicit = (pads: Pads): [[number, number], [number, number], [number, number], [number, number]] => [[0, 0], [pads[0][0], pads[0][1]], [pads[1][0], pads[1][1]], [0, 0]];

/** Zero-inserts (s − 1) zeros after every row/column: [n, h, w, c] → [n, h·sh, w·sw, c]. */
function dilate(t: tf.Tensor4D, [sh, sw]: Pair): tf.Tensor4D {
  if (sh === 1 && sw === 1) return t;
  const [n, h, w, c] = t.shape;
  const spread = tf.pad(tf.reshape(t, [n, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  return tf.reshape(spread, [n, h * sh, w * sw, c]);
}

/**
 * The input gradient [n, H, W, cin] of a convolution with stride `strides` and paddings `pads` (each at
 * most k − 1), given the gradient `dy` at its output and its transposed kernel.
 */
export function convInputGradient(dy: tf.Tensor4D, transposed: tf.Tensor4D, depthwise: boolean, strides: Pair, pads: Pads, inputShape: readonly number[]): tf.Tensor4D {
  const [n, ho, wo, c] = dy.shape;
  const [, height, width] = inputShape as [number, number, number];
  const [kh, kw] = transposed.shape;
  const [sh, sw] = strides;
  // The dilated map has ho·sh rows (s − 1 trailing zeros); past its end the padding is what is left of
  // height + top − (ho − 1)·sh − 1, which may be less than those zeros: then they are cut instead.
  const bottom = height + pads[0][0] - ho * sh;
  const right = width + pads[1][0] - wo * sw;
  let d = dilate(dy, strides);
  if (bottom < 0 || right < 0) d = tf.slice(d, [0, 0, 0, 0], [n, ho * sh + Math.min(bottom, 0), wo * sw + Math.min(right, 0), c]);
  const padding: Pads = [[kh - 1 - pads[0][0], Math.max(bottom, 0)], [kw - 1 - pads[1][0], Math.max(right, 0)]];
  return depthwise ? tf.depthwiseConv2d(d, transposed, 1, explicit(padding)) : tf.conv2d(d, transposed, 1, explicit(padding));
}

/** dL/dz from dL/dy for y = act(z), from the output alone. */
function activationGradient(dy: tf.Tensor4D, y: tf.Tensor4D, activation: Activation): tf.Tensor4D {
  if (activation === 'linear') return dy;
  // relu: y > 0 exactly where z > 0. relu6: 0 < y < 6, i.e. y·(6 − y) > 0 (z = 6 exactly has measure zero).
  const mask = activation === 'relu' ? tf.step(y) : tf.step(tf.mul(y, tf.sub(6, y)));
  return tf.mul(dy, mask) as tf.Tensor4D;
}

/**
 * act(conv(x, K) + b) with explicit paddings, differentiable in x only: the forward pass is one fused
 * kernel (FusedConv2D / FusedDepthwiseConv2D directly, as tf.fused falls back to unfused ops whenever a
 * gradient is recorded), the backward pass one forward convolution.
 */
export function convolve(x: tf.Tensor4D, k: Kernel, strides: Pair, pads: Pads, activation: Activation): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
    const attrs = { strides: [strides[0], strides[1]], pad: explicit(pads), dataFormat: 'NHWC', dilations: [1, 1], activation };
    const inputs: tf.NamedTensorMap = k.bias ? { x: input, filter: k.kernel, bias: k.bias } : { x: input, filter: k.kernel };
    const y = tf.engine().runKernel(k.depthwise ? tf.FusedDepthwiseConv2D : tf.FusedConv2D, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    save(activation === 'linear' ? [] : [y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const dz = activationGradient(dy as tf.Tensor4D, saved[0] as tf.Tensor4D, activation);
        return convInputGradient(dz, k.transposed(), k.depthwise, strides, pads, input.shape);
      },
    };
  });
  return op(x) as tf.Tensor4D;
}

/** Input pixels each output of an average pool covers, [1, ho, wo, 1]: TensorFlow's SAME excludes the padding. */
function windowCounts(height: number, width: number, size: Pair, strides: Pair, padding: Padding, [ho, wo]: Pair): tf.Tensor4D {
  const covered = (length: number, k: number, s: number, out: number) => {
    const [before] = windowPads(length, k, s, padding);
    return Array.from({ length: out }, (_, o) => Math.min(o * s - before + k, length) - Math.max(o * s - before, 0));
  };
  const rows = covered(height, size[0], strides[0], ho);
  const cols = covered(width, size[1], strides[1], wo);
  return tf.tensor4d(rows.flatMap((r) => cols.map((c) => r * c)), [1, ho, wo, 1]);
}

/**
 * Average pooling whose input gradient is the transposed convolution of dy/count with a kernel of ones
 * [kh, kw, channels, 1] (`ones`, made once by the caller: wasm prepares a kernel on its first use):
 * one depthwise convolution instead of tfjs' AvgPoolGrad loop, which moreover divides by the whole
 * window where SAME pooling divides by the pixels inside the image.
 */
export function avgPool(x: tf.Tensor4D, size: Pair, strides: Pair, padding: Padding, ones: () => tf.Tensor4D): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input] = args as [tf.Tensor4D];
    const y = tf.avgPool(input, [size[0], size[1]], [strides[0], strides[1]], padding);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor) => {
        const [, height, width] = input.shape;
        const [, ho, wo] = y.shape;
        const share = tf.div(dy, windowCounts(height, width, size, strides, padding, [ho, wo])) as tf.Tensor4D;
        const pads: Pads = [windowPads(height, size[0], strides[0], padding), windowPads(width, size[1], strides[1], padding)];
        return convInputGradient(share, ones(), true, strides, pads, input.shape);
      },
    };
  });
  return op(x) as tf.Tensor4D;
}

/** Backends whose MaxPoolGrad routes to the first maximum and never to the padding: native/kernels.ts. */
const EXACT_MAX_POOL_GRAD = new Set(['native']);

/**
 * Max pooling, the gradient routed to each window's first maximum in row-major order (the choice of
 * tfjs' cpu backend and PyTorch when values tie). For each window offset (a, b), the inputs at that
 * offset of every window form one strided slice; the mask of first maxima there times dy goes back to
 * those positions. Offset a lies on the input's stride phase a mod s, from row ⌊a/s⌋ of it, so each
 * offset is a slice of a phase, each phase sums its offsets' maps at output resolution, and one
 * interleave of the s_h × s_w phases gives the input gradient: overlapping windows
 * (3×3, stride 2) are summed correctly. (wasm's StridedSlice and high-rank transposes are slow, and its
 * MaxPoolGrad starts from the smallest positive float, so it misplaces windows whose maximum is ≤ 0.)
 * Backends in EXACT_MAX_POOL_GRAD have a MaxPoolGrad kernel with these semantics, one loop instead of
 * ~8 ops per window offset, and use it.
 */
export function maxPool(x: tf.Tensor4D, size: Pair, strides: Pair, padding: Padding): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
    const y = tf.maxPool(input, [size[0], size[1]], [strides[0], strides[1]], padding);
    save([input, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        EXACT_MAX_POOL_GRAD.has(tf.getBackend())
          ? (tf.engine().runKernel(tf.MaxPoolGrad, { dy, input: saved[0]!, output: saved[1]! }, { filterSize: [...size], strides: [...strides], pad: padding }) as tf.Tensor4D)
          : maxPoolGradient(dy as tf.Tensor4D, saved[0] as tf.Tensor4D, saved[1] as tf.Tensor4D, size, strides, padding),
    };
  });
  return op(x) as tf.Tensor4D;
}

function maxPoolGradient(dy: tf.Tensor4D, x: tf.Tensor4D, y: tf.Tensor4D, [kh, kw]: Pair, [sh, sw]: Pair, padding: Padding): tf.Tensor4D {
  const [n, height, width, c] = x.shape;
  const [, ho, wo] = dy.shape;
  const [top, bottom] = windowPads(height, kh, sh, padding);
  const [left, right] = windowPads(width, kw, sw, padding);
  // Rows and columns per phase; the padding (−∞: it never wins a window) fills them up.
  const rows = Math.ceil((height + top + bottom) / sh);
  const cols = Math.ceil((width + left + right) / sw);
  const [below, after] = [rows * sh - height - top, cols * sw - width - left];
  const padded = top + below + left + after > 0 ? tf.pad(x, [[0, 0], [top, below], [left, after], [0, 0]], -Infinity) : x;
  // Seen as [n, rows, sh, cols·sw·c], row phase ra of padded is one 4-D slice; within it, seen as
  // [n·ho, cols, sw, c], column phase rb is another (rank-4 slices are wasm's fast ones).
  const byRows = tf.reshape(padded, [n, rows, sh, cols * sw * c]);
  const rowPhase = Array.from({ length: kh }, (_, a) => tf.reshape(tf.slice(byRows, [0, Math.floor(a / sh), a % sh, 0], [n, ho, 1, cols * sw * c]), [n * ho, cols, sw, c]));
  const phases: tf.Tensor4D[][][] = Array.from({ length: sh }, () => Array.from({ length: sw }, () => []));
  // 1 where no earlier offset of the window held its maximum.
  let unclaimed: tf.Tensor | undefined;
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const [ra, qa, rb, qb] = [a % sh, Math.floor(a / sh), b % sw, Math.floor(b / sw)];
      const window = tf.reshape(tf.slice(rowPhase[a]!, [0, qb, rb, 0], [n * ho, wo, 1, c]), [n, ho, wo, c]);
      // [value == max] as 1 − step(max − value), exact since max − value ≥ 0 (+∞ on the padding).
      const isMax = tf.sub(1, tf.step(tf.sub(y, window)));
      const first = unclaimed ? tf.mul(isMax, unclaimed) : isMax;
      unclaimed = unclaimed ? tf.sub(unclaimed, first) : tf.sub(1, first);
      phases[ra]![rb]!.push(tf.pad(tf.mul(dy, first) as tf.Tensor4D, [[0, 0], [qa, rows - ho - qa], [qb, cols - wo - qb], [0, 0]]));
    }
  }
  const sum = (maps: tf.Tensor4D[]) => (maps.length === 0 ? tf.zeros([n, rows, cols, c]) : maps.length === 1 ? maps[0]! : tf.addN(maps)) as tf.Tensor4D;
  let full: tf.Tensor4D;
  if (sh === 1 && sw === 1) {
    full = sum(phases[0]![0]!);
  } else {
    const byRow = phases.map((phase) => tf.reshape(tf.stack(phase.map(sum), 3), [n, rows, cols * sw, c]));
    full = tf.reshape(tf.stack(byRow, 2), [n, rows * sh, cols * sw, c]);
  }
  return tf.slice(full, [0, top, left, 0], [n, height, width, c]);
}
