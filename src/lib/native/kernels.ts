/**
 * The `native` backend's own kernels: Conv2D, FusedConv2D (bias, ReLU), their depthwise forms and
 * BatchMatMul on oneDNN, in place on the wasm heap; Reverse (a plain loop; wasm's is a generic
 * per-element one, and the caffe preprocessing reverses the image's channels forward and backward);
 * and MaxPoolGrad (a loop routing to each window's first maximum, which wasm's misplaces when the
 * maximum is ≤ 0). Each takes the cases the networks use (NHWC float32 convolutions of any stride,
 * padding and dilation, no activation or ReLU; products whose batches match or broadcast from one;
 * float32 reversals; 2-D float32 max pools) and hands anything else to the stock wasm kernel it
 * replaces, so `native` runs every model `wasm` runs.
 *
 * Filters are immutable tensors, so a filter's plan (the primitive and the filter reordered, for
 * Winograd transformed, into its format: 2–4× the filter's size) is made once per filter and input
 * shape and kept with the filter's dataId until the filter's data is disposed (releasePlans).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { ConvChoice, ConvPlan, ConvShape, NativeAddon } from './addon';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Info = tf.TensorInfo;

const plans = new WeakMap<object, Map<string, ConvPlan>>();

function heap(backend: BackendWasm, t: Info): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

function nonEmptyFloat32(...ts: Info[]): boolean {
  return ts.every((t) => t.dtype === 'float32' && tf.util.sizeFromShape(t.shape) > 0);
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The plan for this filter and geometry, made on first use. */
function planFor(addon: NativeAddon, choice: ConvChoice, backend: BackendWasm, filter: Info, shape: ConvShape): ConvPlan {
  let byShape = plans.get(filter.dataId);
  if (!byShape) plans.set(filter.dataId, (byShape = new Map()));
  const key = JSON.stringify(shape);
  let plan = byShape.get(key);
  if (!plan) byShape.set(key, (plan = addon.convPlan(shape, heap(backend, filter), choice)));
  return plan;
}

/** relu?(conv2d(x, filter) + bias?), or its depthwise form, on oneDNN; undefined when the stock kernel must run. */
function convolve(addon: NativeAddon, choice: ConvChoice, args: KernelArgs, relu: boolean, depthwise: boolean): Info | undefined {
  const backend = args.backend as BackendWasm;
  const { x, filter, bias } = args.inputs as { x: Info; filter: Info; bias?: Info };
  const attrs = args.attrs as unknown as ConvAttrs;
  if (attrs.dataFormat !== 'NHWC' || !nonEmptyFloat32(x, filter) || (bias && (!nonEmptyFloat32(bias) || bias.shape.length !== 1))) return undefined;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, depthwise);
  if (bias && bias.shape[0] !== info.outChannels) return undefined;
  const { padInfo } = info;
  const shape: ConvShape = {
    n: info.batchSize, h: info.inHeight, w: info.inWidth, ci: info.inChannels, co: info.outChannels,
    kh: info.filterHeight, kw: info.filterWidth, sh: info.strideHeight, sw: info.strideWidth,
    dh: info.dilationHeight, dw: info.dilationWidth,
    padT: padInfo.top, padL: padInfo.left, padB: padInfo.bottom, padR: padInfo.right,
    oh: info.outHeight, ow: info.outWidth, g: depthwise ? info.inChannels : 1, relu, bias: bias !== undefined,
  };
  const plan = planFor(addon, choice, backend, filter, shape);
  // The output first: allocating may grow the heap, and views are taken after.
  const out = backend.makeOutput(info.outShape, 'float32');
  addon.convRun(plan, heap(backend, x), bias ? heap(backend, bias) : null, heap(backend, out));
  return out;
}

function batchMatMul(addon: NativeAddon, args: KernelArgs): Info | undefined {
  const backend = args.backend as BackendWasm;
  const { a, b } = args.inputs as { a: Info; b: Info };
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  if (!nonEmptyFloat32(a, b) || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const [ra, rb] = [a.shape.length, b.shape.length];
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  if (k !== kb || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return undefined;
  const outBatch = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (tf.util.sizeFromShape(outBatch) !== Math.max(batchA, batchB)) return undefined;
  const out = backend.makeOutput([...outBatch, m, n], 'float32');
  addon.matmul(heap(backend, a), heap(backend, b), heap(backend, out), batchA, batchB, m, n, k, transposeA, transposeB);
  return out;
}

function maxPoolGrad(addon: NativeAddon, args: KernelArgs): Info | undefined {
  const backend = args.backend as BackendWasm;
  const { dy, input } = args.inputs as { dy: Info; input: Info };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'same' | 'valid' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  if (!nonEmptyFloat32(dy, input) || input.shape.length !== 4) return undefined;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const out = backend.makeOutput(input.shape, 'float32');
  addon.maxPoolGrad(heap(backend, input), heap(backend, dy), heap(backend, out), [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  ]);
  return out;
}

function reverse(addon: NativeAddon, args: KernelArgs): Info | undefined {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: Info };
  if (!nonEmptyFloat32(x)) return undefined;
  const axes = tf.util.parseAxisParam((args.attrs as unknown as { dims: number | number[] }).dims, x.shape);
  const out = backend.makeOutput(x.shape, 'float32');
  addon.reverse(heap(backend, x), heap(backend, out), x.shape, axes);
  return out;
}

type NativeKernel = (addon: NativeAddon, choice: ConvChoice, args: KernelArgs) => Info | undefined;

/** A fused convolution with no activation or ReLU (the others go to wasm). */
const fused = (depthwise: boolean): NativeKernel => (addon, choice, args) => {
  const { activation } = args.attrs as { activation?: string };
  const { preluActivationWeights } = args.inputs as { preluActivationWeights?: Info };
  if (preluActivationWeights || (activation !== 'relu' && activation !== 'linear' && activation !== undefined)) return undefined;
  return convolve(addon, choice, args, activation === 'relu', depthwise);
};

const NATIVE_KERNELS: Record<string, NativeKernel> = {
  [tf.Conv2D]: (addon, choice, args) => convolve(addon, choice, args, false, false),
  [tf.FusedConv2D]: fused(false),
  [tf.DepthwiseConv2dNative]: (addon, choice, args) => convolve(addon, choice, args, false, true),
  [tf.FusedDepthwiseConv2D]: fused(true),
  [tf.MaxPoolGrad]: (addon, _choice, args) => maxPoolGrad(addon, args),
  [tf.BatchMatMul]: (addon, _choice, args) => batchMatMul(addon, args),
  [tf.Reverse]: (addon, _choice, args) => reverse(addon, args),
};

/** The kernel names the pack replaces. */
export const NATIVE_KERNEL_NAMES: readonly string[] = Object.keys(NATIVE_KERNELS);

/**
 * Registers every wasm kernel again for `backendName`, the ones above replaced by their native
 * versions (each falling back to the wasm kernel it replaces). Call after the wasm kernels are final.
 */
export function registerNativeKernels(backendName: string, addon: NativeAddon, choice: ConvChoice): void {
  for (const config of tf.getKernelsForBackend('wasm')) {
    const native = NATIVE_KERNELS[config.kernelName];
    const stock = config.kernelFunc;
    const kernelFunc: tf.KernelFunc = native ? (args) => native(addon, choice, args) ?? stock(args) : stock;
    tf.registerKernel({ ...config, backendName, kernelFunc });
  }
}

/** Frees the plans made for a filter whose data is being disposed. */
export function releasePlans(addon: NativeAddon, dataId: object): void {
  const byShape = plans.get(dataId);
  if (!byShape) return;
  for (const plan of byShape.values()) addon.convRelease(plan);
  plans.delete(dataId);
}

/** The algorithm and oneDNN implementation a filter's plans use (for tests and reports). */
export function convPlansOf(addon: NativeAddon, filter: tf.Tensor): ReturnType<NativeAddon['convInfo']>[] {
  return [...(plans.get(filter.dataId)?.values() ?? [])].map((p) => addon.convInfo(p));
}
