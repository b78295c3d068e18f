/**
 * The network's building blocks: 3×3 SAME convolution with bias and ReLU, and 2×2 pooling.
 *
 * Style transfer only ever differentiates with respect to the image; the weights are constants. tfjs'
 * own gradient of a fused convolution always computes the kernel and bias gradients too (as costly as
 * the input gradient), so the convolution here carries its own gradient, which computes only
 * dL/dx = conv2dᵀ(dL/dy ⊙ [y > 0], K). How the transposed convolution runs is chosen per backend:
 * on wasm, tfjs' Conv2DBackpropInput is ~10× slower than a forward Conv2D of the same size (it has no
 * XNNPACK path), and for stride 1 and SAME padding with an odd kernel the transposed convolution *is*
 * a forward convolution with the kernel flipped spatially and its in/out channels swapped. The native
 * backend (wasm with oneDNN convolutions) takes the same path: oneDNN's Winograd forward convolution
 * beats its own backward-data one on VGG's deeper layers. Elsewhere the backprop op is used: on
 * tensorflow and webgl it is as fast as the forward op, and on cpu it is faster (~1.5×,
 * docs/performance.md).
 */
import * as tf from '@tensorflow/tfjs';

/** Backends on which a forward conv with the flipped kernel beats Conv2DBackpropInput. */
const FLIPPED_FORWARD_BACKENDS: ReadonlySet<string> = new Set(['wasm', 'native']);

/** K[i,j,in,out] → K'[2−i,2−j,out,in] (for a 3×3 kernel): conv2d(·, K') is conv2d(·, K) transposed. */
export function flipKernel(kernel: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]));
}

/**
 * relu(conv2d(x, kernel, SAME, stride 1) + bias), differentiable in x only. `flipped` supplies the
 * flipped kernel when the backward pass needs it (a cache, see createConvLayer).
 */
function convBiasRelu(x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D, flipped: () => tf.Tensor4D): tf.Tensor4D {
  // customGrad's inputs are typed loosely: (x, save).
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
    // The fused kernel directly: tf.fused.conv2d falls back to three unfused ops whenever a gradient
    // is being recorded, which is exactly when this runs in a step.
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], activation: 'relu' };
    const y = tf.engine().runKernel(tf.FusedConv2D, { x: input, filter: kernel, bias }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const y = saved[0] as tf.Tensor4D;
        // ReLU's derivative from its output: y > 0 exactly where the pre-activation is.
        const dz = tf.mul(dy, tf.step(y)) as tf.Tensor4D;
        if (FLIPPED_FORWARD_BACKENDS.has(tf.getBackend())) return tf.conv2d(dz, flipped(), 1, 'same');
        const [n, h, w] = y.shape;
        return tf.conv2dTranspose(dz, kernel, [n, h, w, kernel.shape[2]], 1, 'same');
      },
    };
  });
  return op(x) as tf.Tensor4D;
}

/**
 * One VGG convolution (Simonyan & Zisserman 2014: 3×3, stride 1, SAME, ReLU). The flipped kernel for the
 * backward pass is made once, on the first backward pass on wasm, and lives until dispose().
 */
export interface ConvLayer {
  readonly kernel: tf.Tensor4D;
  readonly bias: tf.Tensor1D;
  apply(x: tf.Tensor4D): tf.Tensor4D;
  /** Disposes the kernel, the bias and the flipped kernel. */
  dispose(): void;
}

/** Takes ownership of `kernel` [3,3,in,out] and `bias` [out]. */
export function createConvLayer(kernel: tf.Tensor4D, bias: tf.Tensor1D): ConvLayer {
  let flipped: tf.Tensor4D | undefined;
  const getFlipped = () => (flipped ??= tf.keep(flipKernel(kernel)));
  return {
    kernel,
    bias,
    apply: (x) => convBiasRelu(x, kernel, bias, getFlipped),
    dispose() {
      tf.dispose([kernel, bias, ...(flipped ? [flipped] : [])]);
      flipped = undefined;
    },
  };
}

/** relu(conv2d(x, kernel) + bias) for a one-off kernel: flips the kernel on each backward pass (layers cache it). */
export function conv2dBiasRelu(x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  return convBiasRelu(x, kernel, bias, () => flipKernel(kernel));
}

/**
 * Backends whose AvgPoolGrad and MaxPoolGrad are plain loops (~40× and ~10× slower than the broadcasts):
 * wasm, and native, which runs wasm's pooling kernels.
 */
const BROADCAST_POOL_GRAD_BACKENDS: ReadonlySet<string> = new Set(['wasm', 'native']);

/**
 * VGG's pooling: 2×2 windows, stride 2, VALID. On wasm the gradient is built from broadcasts over the
 * input seen as [n, h, 2, w, 2, c] windows instead of tfjs' AvgPoolGrad/MaxPoolGrad loops: average
 * pooling spreads ¼ of each output's gradient over its window; max pooling routes it to the window's
 * first maximum in row-major order, the position tfjs (and PyTorch) choose when values tie.
 */
export function pool2d(x: tf.Tensor4D, kind: 'max' | 'avg'): tf.Tensor4D {
  const pool = (t: tf.Tensor4D) => (kind === 'max' ? tf.maxPool(t, 2, 2, 'valid') : tf.avgPool(t, 2, 2, 'valid'));
  if (!BROADCAST_POOL_GRAD_BACKENDS.has(tf.getBackend())) return pool(x);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
    const value = pool(input);
    save([input, value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => poolGrad(kind, dy as tf.Tensor4D, saved[0] as tf.Tensor4D, saved[1] as tf.Tensor4D),
    };
  });
  return op(x) as tf.Tensor4D;
}

function poolGrad(kind: 'max' | 'avg', dy: tf.Tensor4D, input: tf.Tensor4D, output: tf.Tensor4D): tf.Tensor4D {
  const [n, height, width, c] = input.shape;
  const [, h, w] = dy.shape;
  const perOutput = (t: tf.Tensor) => tf.reshape(t, [n, h, 1, w, 1, c]);
  // VALID pooling leaves out an odd last row or column; it gets no gradient.
  const even = 2 * h === height && 2 * w === width;
  let share: tf.Tensor;
  if (kind === 'avg') {
    share = tf.fill([1, 1, 2, 1, 2, 1], 0.25);
  } else {
    const pooled = even ? input : tf.slice(input, [0, 0, 0, 0], [n, 2 * h, 2 * w, c]);
    // [a == max] as 1 − step(max − a), exact since max − a ≥ 0: wasm's comparisons do not broadcast
    // fast, its arithmetic does. Each maximum of a window is ranked 4, 3, 2, 1 in row-major order, so
    // the highest rank present marks the first one.
    const isMax = (a: tf.Tensor, max: tf.Tensor) => tf.sub(1, tf.step(tf.sub(max, a)));
    const ranks = tf.tensor([4, 3, 2, 1], [1, 1, 2, 1, 2, 1]);
    const ranked = tf.mul(isMax(tf.reshape(pooled, [n, h, 2, w, 2, c]), perOutput(output)), ranks);
    const first = tf.maxPool(tf.reshape(ranked, [n, 2 * h, 2 * w, c]) as tf.Tensor4D, 2, 2, 'valid');
    share = isMax(ranked, perOutput(first));
  }
  const dx = tf.reshape(tf.mul(perOutput(dy), share), [n, 2 * h, 2 * w, c]) as tf.Tensor4D;
  return even ? dx : tf.pad(dx, [[0, 0], [0, height - 2 * h], [0, width - 2 * w], [0, 0]]);
}
