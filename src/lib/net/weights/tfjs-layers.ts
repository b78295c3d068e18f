/**
 * TensorFlow.js layers-model directories (`model.json` + binary shards), as tfjs-converter and
 * `model.save()` write them, read with node:fs. Each `weightsManifest` group's shards, concatenated,
 * hold its weights back to back in manifest order, little-endian. Quantised weights (tfjs-converter
 * `--quantize_float16` / `--quantize_uint8` / `--quantize_uint16`) are expanded to float32.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NstError } from '../../errors';
import type { ConvWeights } from './types';
import { checkConv, checkHoldsAny, vggConv } from './validate';

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

interface ManifestGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** `block1_conv1/kernel`, optionally behind a model-name prefix (`vgg19/…`) and a `:0` suffix. */
const VGG_WEIGHT = /(?:^|\/)(block\d_conv\d)\/(kernel|bias)(?::\d+)?$/;

function float16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Bytes per element by stored dtype: weights not selected are skipped over by these, not decoded. */
const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Decodes one weight's bytes to float32 values. */
function decode(view: DataView, offset: number, spec: WeightSpec, count: number, where: string): Float32Array {
  const q = spec.quantization;
  const out = new Float32Array(count);
  if (!q) {
    if (spec.dtype !== 'float32') throw new NstError(`${where}: weight ${spec.name} has dtype ${spec.dtype}, expected float32`, 'export the model with float32 weights');
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, true);
  } else if (q.dtype === 'float16') {
    for (let i = 0; i < count; i++) out[i] = float16(view.getUint16(offset + 2 * i, true));
  } else if (q.dtype === 'uint8' || q.dtype === 'uint16') {
    // tfjs' affine dequantisation: value = q·scale + min.
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    for (let i = 0; i < count; i++) out[i] = (q.dtype === 'uint8' ? view.getUint8(offset + i) : view.getUint16(offset + 2 * i, true)) * scale + min;
  } else {
    throw new NstError(`${where}: weight ${spec.name} is quantised as ${q.dtype}, which nst does not read`, 'supported: float32, and float16/uint8/uint16 quantisation');
  }
  return out;
}

function parseManifest(text: string, where: string): { json: Record<string, unknown>; groups: ManifestGroup[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new NstError(`${where} is not valid JSON (${(e as Error).message})`, 'give the model.json written by tfjs-converter or model.save()');
  }
  const groups = (json as { weightsManifest?: unknown }).weightsManifest;
  const valid = Array.isArray(groups) && groups.every((g) => Array.isArray(g?.paths) && Array.isArray(g?.weights));
  if (!valid) throw new NstError(`${where} has no valid weightsManifest`, 'give the model.json of a TensorFlow.js layers model (tfjs-converter --output_format tfjs_layers_model)');
  return { json: json as Record<string, unknown>, groups: groups as ManifestGroup[] };
}

/** One decoded weight: float32 values in row-major order and the manifest's shape. */
export interface DecodedWeight {
  data: Float32Array;
  shape: number[];
  /** The stored quantisation dtype (`uint8`, `uint16`, `float16`), absent for plain float32. */
  quantization?: string;
}

export interface LayersModelWeights {
  /** The parsed model.json. */
  json: Record<string, unknown>;
  /** How many weightsManifest groups it has. */
  groups: number;
  /** Every selected weight by its manifest name, in manifest order. */
  weights: Map<string, DecodedWeight>;
  /** Manifest names not selected: skipped over, not decoded. */
  skipped: string[];
  /** model.json and the shards, in manifest order (what the checksum covers). */
  files: string[];
}

/**
 * Reads a layers model's model.json and decodes the weights `select` accepts from every manifest group
 * (float32, or float16/uint8/uint16 quantisation expanded to float32); the others are skipped over.
 */
export async function readLayersModelWeights(modelJson: string, select: (name: string) => boolean = () => true): Promise<LayersModelWeights> {
  const where = `weights model ${modelJson}`;
  const { json, groups } = parseManifest(await readFile(modelJson, 'utf8'), where);
  const dir = dirname(modelJson);
  const files = [modelJson];
  const weights = new Map<string, DecodedWeight>();
  const skipped: string[] = [];
  for (const group of groups) {
    const shardPaths = group.paths.map((p) => join(dir, p));
    for (const p of shardPaths) {
      if (!existsSync(p)) throw new NstError(`${where}: shard ${p} listed in weightsManifest is missing`, 'copy the whole model directory (model.json and every .bin shard)');
    }
    files.push(...shardPaths);
    const buffer = Buffer.concat(await Promise.all(shardPaths.map((p) => readFile(p))));
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    let offset = 0;
    for (const spec of group.weights) {
      const count = spec.shape.reduce((a, b) => a * b, 1);
      const bytes = count * (BYTES[spec.quantization?.dtype ?? spec.dtype] ?? NaN);
      if (!Number.isFinite(bytes)) throw new NstError(`${where}: weight ${spec.name} has dtype ${spec.dtype}, which nst does not read`, 'export the model with float32 weights');
      if (offset + bytes > buffer.byteLength) {
        throw new NstError(`${where}: weight ${spec.name} [${spec.shape.join(',')}] needs bytes ${offset}…${offset + bytes} but the shards hold ${buffer.byteLength}`, 'a shard is truncated; copy the model directory again');
      }
      if (select(spec.name)) {
        weights.set(spec.name, { data: decode(view, offset, spec, count, where), shape: spec.shape, ...(spec.quantization ? { quantization: spec.quantization.dtype } : {}) });
      } else {
        skipped.push(spec.name);
      }
      offset += bytes;
    }
  }
  return { json, groups: groups.length, weights, skipped, files };
}

export interface TfjsLayersContents {
  layers: Map<string, ConvWeights>;
  info: Record<string, string>;
  /** model.json and the shards, in manifest order (what the checksum covers). */
  files: string[];
}

/** Reads the VGG-19 convolutions of a layers model, given its model.json; other weights are skipped. */
export async function readTfjsLayers(modelJson: string): Promise<TfjsLayersContents> {
  const where = `weights model ${modelJson}`;
  const isVgg = (name: string) => {
    const m = VGG_WEIGHT.exec(name);
    return m !== null && vggConv(m[1]!) !== undefined;
  };
  const { groups, weights, skipped, files } = await readLayersModelWeights(modelJson, isVgg);
  const parts = new Map<string, { kernel?: DecodedWeight; bias?: DecodedWeight }>();
  const quantised = new Set<string>();
  for (const [name, weight] of weights) {
    const m = VGG_WEIGHT.exec(name)!;
    const entry = parts.get(m[1]!) ?? {};
    entry[m[2] as 'kernel' | 'bias'] = weight;
    parts.set(m[1]!, entry);
    if (weight.quantization) quantised.add(weight.quantization);
  }
  const layers = new Map<string, ConvWeights>();
  for (const [keras, { kernel, bias }] of parts) {
    if (!kernel || !bias) throw new NstError(`${where}: layer ${keras} has a ${kernel ? 'kernel' : 'bias'} but no ${kernel ? 'bias' : 'kernel'}`, 'the manifest is incomplete; export the model again');
    const conv: ConvWeights = { kernel: kernel.data, kernelShape: kernel.shape as ConvWeights['kernelShape'], bias: bias.data };
    checkConv(where, vggConv(keras)!, conv);
    layers.set(keras, conv);
  }
  checkHoldsAny(where, layers, skipped);
  const info: Record<string, string> = { groups: String(groups), shards: String(files.length - 1) };
  if (quantised.size > 0) info.quantization = [...quantised].join(',');
  if (skipped.length > 0) info.ignored = skipped.join(',');
  return { layers, info, files };
}
