/**
 * Inference batch normalisation (Ioffe & Szegedy 2015, Algorithm 2, with the moving statistics) is a
 * per-channel affine map y = s·x + t with s = γ/√(σ² + ε) and t = β − s·μ (γ = 1 without `scale`,
 * β = 0 without `center`). After a convolution it folds into the convolution's kernel and bias, so a
 * Conv → BN pair runs as one fused convolution whose input gradient is one forward convolution. The
 * arithmetic is in float64, rounded once to float32.
 */
import type { KernelWeights, NormWeights } from './model';

export interface Affine {
  readonly scale: Float32Array;
  readonly shift: Float32Array;
}

/** s and t in float64. */
function affine64(norm: NormWeights, epsilon: number): { scale: Float64Array; shift: Float64Array } {
  const c = norm.mean.length;
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    scale[i] = (norm.gamma?.[i] ?? 1) / Math.sqrt(norm.variance[i]! + epsilon);
    shift[i] = (norm.beta?.[i] ?? 0) - scale[i]! * norm.mean[i]!;
  }
  return { scale, shift };
}

/** BN's per-channel s and t. */
export function normAffine(norm: NormWeights, epsilon: number): Affine {
  const { scale, shift } = affine64(norm, epsilon);
  return { scale: Float32Array.from(scale), shift: Float32Array.from(shift) };
}

/**
 * BN(conv(x, K) + b) as conv(x, K') + b': K' scales output channel o by s_o, b' = s·b + t. A kernel is
 * row-major [kh, kw, in, out] (Conv2D) or [kh, kw, channels, 1] (DepthwiseConv2D), so output channel
 * o of element i is i mod out, or i mod channels.
 */
export function foldNorm(conv: KernelWeights, depthwise: boolean, norm: NormWeights, epsilon: number): KernelWeights {
  const { scale, shift } = affine64(norm, epsilon);
  const channels = depthwise ? conv.shape[2] * conv.shape[3] : conv.shape[3];
  if (channels !== scale.length) throw new Error(`BN of ${scale.length} channels cannot fold into a kernel [${conv.shape.join(',')}]`);
  const kernel = new Float32Array(conv.kernel.length);
  for (let i = 0; i < kernel.length; i++) kernel[i] = conv.kernel[i]! * scale[i % channels]!;
  const bias = new Float32Array(channels);
  for (let o = 0; o < channels; o++) bias[o] = (conv.bias?.[o] ?? 0) * scale[o]! + shift[o]!;
  return { kernel, shape: conv.shape, bias };
}
