/**
 * Any TensorFlow.js layers model (a Keras CNN converted by tfjs-converter: InceptionV3, MobileNetV2, …)
 * as a FeatureNetwork: every layer of its feature extractor is a tap by its Keras name, any input size
 * runs, each request runs only the layers its taps need (plan.ts), with BatchNormalization folded into
 * the convolutions and every input gradient a forward op (ops.ts). Weights go to the backend on first
 * use and stay until dispose().
 */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../../errors';
import { unknownTap, type FeatureNetwork, type Preprocessing, type WeightsRecord } from '../network';
import { PIXEL_SPACES } from '../preprocessing';
import { digestFiles } from '../weights/digest';
import { foldNorm, normAffine } from './fold';
import { checkSizes, layerSizes, minInputSize, tapInfos, windowPads } from './geometry';
import { readLayersModel, type KernelWeights, type LayersModel } from './model';
import { avgPool, convolve, maxPool, transposeKernel, type Kernel, type Pads } from './ops';
import { findChains, planSteps, type Step } from './plan';
import type { ConvOp, LayerNode, NormOp, Pair } from './topology';

export interface LayersNetworkOptions {
  /** Registry name (default `layers-model`). */
  readonly name?: string;
  /** The pixel space the weights were trained in (default `tf`, Keras' Inception/MobileNet convention). */
  readonly preprocessing?: Preprocessing;
  /** Named tap lists; every name must be a tap. */
  readonly presets?: Readonly<Record<string, readonly string[]>>;
  readonly weights: WeightsRecord;
}

export interface LayersNetwork extends FeatureNetwork {
  /** Every tap's output [height, width, channels] for a height × width input (a side below 1: too small). */
  shapes(height: number, width: number): Map<string, [number, number, number]>;
  /** Multiply-accumulates of the convolutions features(·, taps) runs forward on a height × width input. */
  macs(taps: readonly string[], height: number, width: number): number;
}

interface Affine {
  readonly scale: tf.Tensor1D;
  readonly shift: tf.Tensor1D;
}

export function createLayersNetwork(model: LayersModel, opts: LayersNetworkOptions): LayersNetwork {
  const { topology } = model;
  const name = opts.name ?? 'layers-model';
  const preprocessing = opts.preprocessing ?? 'tf';
  const space = PIXEL_SPACES[preprocessing];
  const taps = tapInfos(topology);
  const tapNames = new Set(taps.map((t) => t.name));
  const input = topology.nodes[0]!;
  const chains = findChains(topology);

  function resolveTap(tap: string, option?: string): string {
    if (tapNames.has(tap)) return tap;
    throw unknownTap(name, tap, taps, option);
  }

  const presets: Record<string, readonly string[]> = {};
  for (const [preset, list] of Object.entries(opts.presets ?? {})) presets[preset] = list.map((t) => resolveTap(t, `preset '${preset}' of ${name}`));

  // Tensors are made on first use; `owned` holds every one for dispose().
  let owned: tf.Tensor[] = [];
  const kernels = new Map<string, Kernel>();
  const affines = new Map<string, Affine>();
  const ones = new Map<string, tf.Tensor4D>();
  const keep = <T extends tf.Tensor>(t: T): T => {
    owned.push(tf.keep(t));
    return t;
  };

  /** A convolution's kernel: its own, or with `norm` folded in. */
  function kernelOf(conv: LayerNode, norm: LayerNode | undefined): Kernel {
    const key = `${conv.name}\u0000${norm?.name ?? ''}`;
    const cached = kernels.get(key);
    if (cached) return cached;
    const depthwise = (conv.op as ConvOp).depthwise;
    const own = model.kernels.get(conv.name)!;
    const w: KernelWeights = norm ? foldNorm(own, depthwise, model.norms.get(norm.name)!, (norm.op as NormOp).epsilon) : own;
    const kernel = keep(tf.tensor4d(w.kernel, [...w.shape]));
    let transposed: tf.Tensor4D | undefined;
    const made: Kernel = {
      kernel,
      bias: w.bias ? keep(tf.tensor1d(w.bias)) : null,
      depthwise,
      transposed: () => (transposed ??= keep(transposeKernel(kernel, depthwise))),
    };
    kernels.set(key, made);
    return made;
  }

  function affineOf(norm: LayerNode): Affine {
    const cached = affines.get(norm.name);
    if (cached) return cached;
    const { scale, shift } = normAffine(model.norms.get(norm.name)!, (norm.op as NormOp).epsilon);
    const made = { scale: keep(tf.tensor1d(scale)), shift: keep(tf.tensor1d(shift)) };
    affines.set(norm.name, made);
    return made;
  }

  /** An average pool's all-ones depthwise kernel, for its gradient. */
  function onesOf(pool: LayerNode, size: Pair): tf.Tensor4D {
    const cached = ones.get(pool.name);
    if (cached) return cached;
    const made = keep(tf.ones([size[0], size[1], pool.channels, 1]) as tf.Tensor4D);
    ones.set(pool.name, made);
    return made;
  }

  const plans = new Map<string, Step[]>();
  function planOf(names: readonly string[]): Step[] {
    const key = [...new Set(names)].sort().join('\u0000');
    let plan = plans.get(key);
    if (!plan) plans.set(key, (plan = planSteps(topology, chains, names)));
    return plan;
  }

  function runLayer(node: LayerNode, xs: tf.Tensor4D[]): tf.Tensor4D {
    const op = node.op;
    const x = xs[0]!;
    switch (op.op) {
      case 'batchnorm': {
        const { scale, shift } = affineOf(node);
        return tf.add(tf.mul(x, scale), shift) as tf.Tensor4D;
      }
      case 'activation':
        return op.activation === 'relu' ? tf.relu(x) : op.activation === 'relu6' ? tf.relu6(x) : x;
      case 'add':
        return xs.length === 1 ? x : tf.addN(xs);
      case 'concat':
        return xs.length === 1 ? x : tf.concat(xs, 3);
      case 'pad':
        return tf.pad(x, [[0, 0], [...op.pads[0]], [...op.pads[1]], [0, 0]]);
      case 'pool':
        return op.pool === 'max' ? maxPool(x, op.size, op.strides, op.padding) : avgPool(x, op.size, op.strides, op.padding, () => onesOf(node, op.size));
      case 'identity':
        return x;
      default:
        throw new Error(`layer ${node.name} (${node.op.op}) runs as part of a step`);
    }
  }

  function runConv(step: Extract<Step, { kind: 'conv' }>, x: tf.Tensor4D): tf.Tensor4D {
    const op = step.conv.op as ConvOp;
    const [, height, width] = x.shape;
    const pads: Pads = step.pad
      ? (step.pad.op as { pads: Pads }).pads
      : [windowPads(height, op.kernel[0], op.strides[0], op.padding), windowPads(width, op.kernel[1], op.strides[1], op.padding)];
    return convolve(x, kernelOf(step.conv, step.norm), op.strides, pads, step.activation);
  }

  /** Resolves and checks a request before any compute. */
  function prepare(requested: readonly string[], shape?: readonly number[]): { names: string[]; steps: Step[] } {
    const names = requested.map((t) => resolveTap(t));
    if (shape) {
      if (shape.length !== 4 || shape[3] !== input.channels) {
        throw new NstError(`${name} takes images [n, height, width, ${input.channels}], got [${shape.join(', ')}]`, 'give an RGB image tensor [1, H, W, 3] with values 0..255');
      }
      checkSizes(topology, names, shape[1]!, shape[2]!, name, minInputSize(topology, names));
    }
    return { names, steps: planOf(names) };
  }

  return {
    name,
    taps,
    presets,
    preprocessing,
    weights: opts.weights,
    minInputSize: (requested) => minInputSize(topology, requested.map((t) => resolveTap(t))),
    resolveTap,
    preprocess: space.preprocess,
    deprocess: space.deprocess,
    features(rgb, requested) {
      if (requested.length === 0) return {};
      const { names, steps } = prepare(requested, rgb.shape);
      // Intermediates are left to the caller's tf.tidy: backpropagation still needs them.
      const values = new Map<string, tf.Tensor4D>([[input.name, space.preprocess(rgb)]]);
      for (const step of steps) {
        const value = step.kind === 'conv' ? runConv(step, values.get(step.input)!) : runLayer(step.node, step.node.inputs.map((i) => values.get(i)!));
        values.set(step.output, value);
      }
      return Object.fromEntries(names.map((n) => [n, values.get(n)!]));
    },
    shapes(height, width) {
      const sizes = layerSizes(topology, height, width);
      return new Map(topology.nodes.map((n) => [n.name, [...sizes.get(n.name)!, n.channels] as [number, number, number]]));
    },
    weightBytes(requested) {
      const bytes = (k: KernelWeights) => 4 * (k.kernel.length + (k.bias?.length ?? 0));
      const total = [...model.kernels.values()].reduce((a, k) => a + bytes(k), 0);
      const { steps } = prepare(requested);
      const upToDeepest = steps.reduce((a, step) => a + (step.kind === 'conv' ? bytes(model.kernels.get(step.conv.name)!) : 0), 0);
      return { total, upToDeepest };
    },
    macs(requested, height, width) {
      const { steps } = prepare(requested);
      const sizes = layerSizes(topology, height, width);
      let total = 0;
      for (const step of steps) {
        if (step.kind !== 'conv') continue;
        const [kh, kw, cin, cout] = model.kernels.get(step.conv.name)!.shape;
        const [h, w] = sizes.get(step.conv.name)!;
        // A depthwise kernel [kh, kw, c, 1]: kh·kw·c per output pixel.
        total += h * w * kh * kw * cin * cout;
      }
      return total;
    },
    dispose() {
      tf.dispose(owned);
      owned = [];
      kernels.clear();
      affines.clear();
      ones.clear();
    },
  };
}

export interface LoadLayersNetworkOptions extends Omit<LayersNetworkOptions, 'weights'> {
  /** What the weights record names as their source (default: the path). */
  readonly source?: string;
  /** One line for people: what the weights are (training data, quantisation, licence). */
  readonly description?: string;
}

/** Reads a layers-model directory (or its model.json) as a network; the weights record carries its sha256. */
export async function loadLayersNetwork(path: string, opts: LoadLayersNetworkOptions = {}): Promise<LayersNetwork> {
  const { model, files } = await readLayersModel(path);
  const { sha256 } = await digestFiles(files);
  const weights: WeightsRecord = { source: opts.source ?? path, format: 'tfjs-layers', sha256, random: false, ...(opts.description ? { description: opts.description } : {}) };
  return createLayersNetwork(model, { ...opts, weights });
}
