/**
 * A TensorFlow.js layers model as host data: its topology (topology.ts) and, per layer, the weights it
 * uses, checked against the shapes the topology implies. Built from a parsed model.json and a map of
 * weights by name (`conv2d_1/kernel`, `batch_normalization_1/moving_mean`, …), or read from a model
 * directory.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NstError } from '../../errors';
import { readLayersModelWeights } from '../weights/tfjs-layers';
import { parseTopology, type LayerNode, type Topology } from './topology';

/** A Conv2D kernel [kh, kw, in, out] or a DepthwiseConv2D kernel [kh, kw, channels, 1], row-major. */
export interface KernelWeights {
  readonly kernel: Float32Array;
  readonly shape: readonly [number, number, number, number];
  readonly bias?: Float32Array;
}

/** A BatchNormalization layer's inference parameters, one value per channel (γ and β absent when the layer has no scale/center). */
export interface NormWeights {
  readonly gamma?: Float32Array;
  readonly beta?: Float32Array;
  readonly mean: Float32Array;
  readonly variance: Float32Array;
}

export interface LayersModel {
  readonly topology: Topology;
  /** By layer name: every Conv2D and DepthwiseConv2D. */
  readonly kernels: ReadonlyMap<string, KernelWeights>;
  /** By layer name: every BatchNormalization. */
  readonly norms: ReadonlyMap<string, NormWeights>;
}

/** `conv2d_1/kernel`, also behind a model-name prefix (`model/conv2d_1/kernel`) or with a `:0` suffix. */
function weightLookup(weights: ReadonlyMap<string, Float32Array>, file: string) {
  const exact = new Map<string, Float32Array>();
  /** By `layer/weight`, the last two parts of a prefixed name. */
  const prefixed = new Map<string, Float32Array[]>();
  for (const [name, data] of weights) {
    const plain = name.replace(/:\d+$/, '');
    exact.set(plain, data);
    const key = plain.split('/').slice(-2).join('/');
    if (key !== plain) prefixed.set(key, [...(prefixed.get(key) ?? []), data]);
  }
  return (node: LayerNode, weight: string, shape: readonly number[]): Float32Array => {
    const name = `${node.name}/${weight}`;
    const found = exact.has(name) ? [exact.get(name)!] : prefixed.get(name) ?? [];
    if (found.length === 0) throw new NstError(`${file}: layer '${node.name}' (${node.kind}) has no weight ${name}`, 'the weightsManifest does not match modelTopology; export the model again');
    if (found.length > 1) throw new NstError(`${file}: the weights hold ${found.length} arrays named like ${name}`, 'give each layer a unique name and export the model again');
    const data = found[0]!;
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new NstError(`${file}: weight ${name} holds ${data.length} values; layer '${node.name}' (${node.kind}) needs [${shape.join(',')}] = ${size}`, 'the weights do not belong to this topology; export the model again');
    }
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new NstError(`${file}: weight ${name} holds a non-finite value (${data[bad]}) at index ${bad}`, 'the weights are damaged; export or copy the model again');
    return data;
  };
}

/**
 * The model a parsed model.json describes, with its weights by name (extra weights, e.g. the dropped
 * head's, are ignored). `file` names the model in every message.
 */
export function buildLayersModel(json: unknown, weights: ReadonlyMap<string, Float32Array>, file: string): LayersModel {
  const topology = parseTopology(json, file);
  const lookup = weightLookup(weights, file);
  const channels = new Map(topology.nodes.map((n) => [n.name, n.channels]));
  const kernels = new Map<string, KernelWeights>();
  const norms = new Map<string, NormWeights>();
  for (const node of topology.nodes) {
    const op = node.op;
    if (op.op === 'conv') {
      const cin = channels.get(node.inputs[0]!)!;
      const shape = [op.kernel[0], op.kernel[1], cin, op.depthwise ? 1 : node.channels] as const;
      const kernel = lookup(node, op.depthwise ? 'depthwise_kernel' : 'kernel', shape);
      const bias = op.useBias ? lookup(node, 'bias', [node.channels]) : undefined;
      kernels.set(node.name, { kernel, shape, ...(bias ? { bias } : {}) });
    } else if (op.op === 'batchnorm') {
      const c = [node.channels];
      const gamma = op.scale ? lookup(node, 'gamma', c) : undefined;
      const beta = op.center ? lookup(node, 'beta', c) : undefined;
      norms.set(node.name, { ...(gamma ? { gamma } : {}), ...(beta ? { beta } : {}), mean: lookup(node, 'moving_mean', c), variance: lookup(node, 'moving_variance', c) });
    }
  }
  return { topology, kernels, norms };
}

export interface LayersModelFiles {
  readonly model: LayersModel;
  /** The parsed model.json. */
  readonly json: Record<string, unknown>;
  /** model.json and its shards, in manifest order (what the checksum covers). */
  readonly files: readonly string[];
  /** The quantisations its weights were stored in (`uint8`, `float16`, …); empty for float32. */
  readonly quantization: readonly string[];
}

/** Reads a layers model from a directory holding model.json, or from the model.json file itself. */
export async function readLayersModel(path: string): Promise<LayersModelFiles> {
  const accepted = 'give a TensorFlow.js layers-model directory (model.json + .bin shards) or its model.json';
  if (!existsSync(path)) throw new NstError(`layers model not found: ${path}`, accepted);
  const modelJson = statSync(path).isDirectory() ? join(path, 'model.json') : path;
  if (!existsSync(modelJson)) throw new NstError(`layers-model directory ${path} has no model.json`, accepted);
  const { json, weights, files } = await readLayersModelWeights(modelJson);
  const data = new Map([...weights].map(([name, w]) => [name, w.data]));
  const quantization = [...new Set([...weights.values()].flatMap((w) => (w.quantization ? [w.quantization] : [])))];
  return { model: buildLayersModel(json, data, modelJson), json, files, quantization };
}
