/**
 * Keras model topologies as tfjs-converter and tfjs' `model.save()` write them in model.json
 * (`modelTopology.model_config`, or `modelTopology` itself: a Keras 2.x functional `Model` or a
 * `Sequential`), read into a graph of the layer kinds the adapter runs. The classifier head (Flatten,
 * Dense, global pooling, and every layer that depends only on them) is dropped: style transfer taps
 * feature maps, and the head would pin the input size. Anything else the adapter cannot run fails here,
 * naming the layer, its kind and the file, before any weight is uploaded.
 */
import { NstError } from '../../errors';

/** Nonlinearities the adapter runs; each can be fused into a convolution. */
export type Activation = 'linear' | 'relu' | 'relu6';
export type Padding = 'same' | 'valid';
/** [height, width]. */
export type Pair = readonly [number, number];

export type LayerOp =
  | { readonly op: 'input' }
  | {
      readonly op: 'conv';
      /** DepthwiseConv2D (depth multiplier 1): one kernel per channel. */
      readonly depthwise: boolean;
      readonly kernel: Pair;
      readonly strides: Pair;
      readonly padding: Padding;
      readonly activation: Activation;
      readonly useBias: boolean;
    }
  | { readonly op: 'batchnorm'; readonly epsilon: number; readonly center: boolean; readonly scale: boolean }
  | { readonly op: 'activation'; readonly activation: Activation }
  | { readonly op: 'add' }
  | { readonly op: 'concat' }
  /** Zeros added [[top, bottom], [left, right]]. */
  | { readonly op: 'pad'; readonly pads: readonly [Pair, Pair] }
  | { readonly op: 'pool'; readonly pool: 'max' | 'avg'; readonly size: Pair; readonly strides: Pair; readonly padding: Padding }
  | { readonly op: 'identity' };

export type ConvOp = Extract<LayerOp, { op: 'conv' }>;
export type NormOp = Extract<LayerOp, { op: 'batchnorm' }>;

export interface LayerNode {
  /** The Keras layer name: the tap name. */
  readonly name: string;
  /** The Keras class name (`Conv2D`, `ReLU`, …). */
  readonly kind: string;
  readonly op: LayerOp;
  /** Names of the layers whose outputs it takes, in order. */
  readonly inputs: readonly string[];
  /** Output channels. */
  readonly channels: number;
}

export interface Topology {
  /** The model file, for messages. */
  readonly file: string;
  /** Every kept layer in graph order (inputs before the layers that use them); the first is the input. */
  readonly nodes: readonly LayerNode[];
  /** The dropped classifier-head layers, in graph order. */
  readonly head: readonly string[];
}

export const SUPPORTED_KINDS = [
  'InputLayer',
  'Conv2D',
  'DepthwiseConv2D',
  'BatchNormalization',
  'ReLU',
  'Activation',
  'Add',
  'Concatenate',
  'ZeroPadding2D',
  'MaxPooling2D',
  'AveragePooling2D',
  'Dropout',
] as const;

/** Layers that end the feature extractor: they and everything fed only by them are dropped. */
export const HEAD_KINDS = ['Flatten', 'Dense', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D'] as const;

const HEAD: ReadonlySet<string> = new Set(HEAD_KINDS);
const ACTIVATIONS: ReadonlySet<string> = new Set(['linear', 'relu', 'relu6']);

type Config = Record<string, unknown>;

interface RawLayer {
  name: string;
  kind: string;
  config: Config;
  inputs: string[];
}

const EXPORT_HINT = 'give the model.json of a Keras 2.x model converted by tfjs-converter (--output_format tfjs_layers_model) or saved by tfjs model.save()';

/** A message prefix naming the file and the layer. */
const at = (file: string, layer: { name: string; kind: string }) => `${file}: layer '${layer.name}' (${layer.kind})`;

function isRecord(v: unknown): v is Config {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keras' `int or (int, int)` arguments. */
function pair(value: unknown, fallback: Pair | undefined, what: string, where: string): Pair {
  if (value === undefined || value === null) {
    if (fallback) return fallback;
  } else if (typeof value === 'number') {
    return [value, value];
  } else if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) {
    return [value[0] as number, value[1] as number];
  }
  throw new NstError(`${where} has ${what} ${JSON.stringify(value)}, expected a number or [height, width]`, EXPORT_HINT);
}

function padding(value: unknown, where: string): Padding {
  if (value === 'same' || value === 'valid') return value;
  throw new NstError(`${where} has padding ${JSON.stringify(value)}, which the adapter does not run`, "supported paddings: 'same' and 'valid'");
}

function activation(value: unknown, where: string): Activation {
  const name = value ?? 'linear';
  if (typeof name === 'string' && ACTIVATIONS.has(name)) return name as Activation;
  throw new NstError(`${where} has activation ${JSON.stringify(value)}, which the adapter does not run`, `supported activations: ${[...ACTIVATIONS].join(', ')}`);
}

/** Refuses NCHW layouts, dilations and groups: the adapter runs channels-last, undilated, ungrouped convolutions. */
function requirePlain(config: Config, where: string): void {
  const format = config.data_format;
  if (format !== undefined && format !== null && format !== 'channels_last') {
    throw new NstError(`${where} has data_format ${JSON.stringify(format)}`, 'the adapter runs channels_last models (the tfjs default); convert the model with channels_last');
  }
  if (config.dilation_rate !== undefined && pair(config.dilation_rate, [1, 1], 'dilation_rate', where).some((d) => d !== 1)) {
    throw new NstError(`${where} has dilation_rate ${JSON.stringify(config.dilation_rate)}`, 'the adapter runs undilated convolutions only');
  }
  if (config.groups !== undefined && config.groups !== 1) throw new NstError(`${where} has groups ${JSON.stringify(config.groups)}`, 'the adapter runs ungrouped convolutions only');
}

/** The channel axis given as -1 or 3 (a number or a one-element list). */
function isChannelAxis(axis: unknown): boolean {
  const a = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
  return a === -1 || a === 3;
}

/** The layer list of a functional Model or a Sequential, each with the names of its inputs. */
function rawLayers(json: unknown, file: string): RawLayer[] {
  const topology = isRecord(json) ? json.modelTopology : undefined;
  const model = isRecord(topology) ? (isRecord(topology.model_config) ? topology.model_config : topology) : undefined;
  if (!model) throw new NstError(`${file} has no modelTopology: it is not a layers model (a graph model, or weights only)`, EXPORT_HINT);
  const className = model.class_name;
  const config = model.config;
  const list = Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined;
  if (!Array.isArray(list) || list.length === 0 || !list.every((l) => isRecord(l) && typeof l.class_name === 'string' && isRecord(l.config))) {
    throw new NstError(`${file}: modelTopology has no layer list`, EXPORT_HINT);
  }
  const layers = (list as Config[]).map((l) => ({ name: String(l.name ?? (l.config as Config).name), kind: l.class_name as string, config: l.config as Config, inbound: l.inbound_nodes }));
  if (className === 'Sequential') {
    const out: RawLayer[] = [];
    let previous: string | undefined;
    for (const l of layers) {
      if (previous === undefined && l.kind !== 'InputLayer') {
        // Keras before 2.4 writes no InputLayer: the first layer carries the input shape; tfjs names the input so.
        previous = `${l.name}_input`;
        out.push({ name: previous, kind: 'InputLayer', config: { batch_input_shape: l.config.batch_input_shape }, inputs: [] });
      }
      out.push({ name: l.name, kind: l.kind, config: l.config, inputs: previous === undefined ? [] : [previous] });
      previous = l.name;
    }
    return out;
  }
  if (className !== 'Model' && className !== 'Functional') {
    throw new NstError(`${file}: modelTopology is a ${JSON.stringify(className)}, not a Keras Model or Sequential`, EXPORT_HINT);
  }
  return layers.map((l) => {
    const calls = Array.isArray(l.inbound) ? l.inbound : [];
    if (calls.length > 1) throw new NstError(`${at(file, l)} is applied ${calls.length} times (a shared layer)`, 'the adapter runs layers applied once; tap names would be ambiguous');
    const inbound = calls.length === 1 && Array.isArray(calls[0]) ? (calls[0] as unknown[]) : [];
    const inputs = inbound.map((ref) => {
      if (!Array.isArray(ref) || typeof ref[0] !== 'string') throw new NstError(`${at(file, l)} has inbound nodes in a format the adapter does not read (Keras 3?)`, EXPORT_HINT);
      if (ref[1] !== 0 || ref[2] !== 0) throw new NstError(`${at(file, l)} takes output ${ref[2]} of call ${ref[1]} of '${ref[0]}' (a shared or multi-output layer)`, 'the adapter runs layers applied once with one output');
      return ref[0];
    });
    return { name: l.name, kind: l.kind, config: l.config, inputs };
  });
}

/** The operation a supported layer runs, from its Keras config. */
function layerOp(l: RawLayer, where: string): LayerOp {
  const c = l.config;
  switch (l.kind) {
    case 'InputLayer':
      return { op: 'input' };
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      requirePlain(c, where);
      const depthwise = l.kind === 'DepthwiseConv2D';
      if (depthwise && (c.depth_multiplier ?? 1) !== 1) {
        throw new NstError(`${where} has depth_multiplier ${JSON.stringify(c.depth_multiplier)}`, 'the adapter runs depthwise convolutions with depth_multiplier 1 (as MobileNet has)');
      }
      const kernel = pair(c.kernel_size, undefined, 'kernel_size', where);
      return { op: 'conv', depthwise, kernel, strides: pair(c.strides, [1, 1], 'strides', where), padding: padding(c.padding, where), activation: activation(c.activation, where), useBias: c.use_bias !== false };
    }
    case 'BatchNormalization':
      if (!isChannelAxis(c.axis ?? -1)) throw new NstError(`${where} normalises axis ${JSON.stringify(c.axis)}`, 'the adapter runs batch normalisation over the channel axis (-1 or 3) only');
      return { op: 'batchnorm', epsilon: typeof c.epsilon === 'number' ? c.epsilon : 1e-3, center: c.center !== false, scale: c.scale !== false };
    case 'ReLU': {
      const slope = c.negative_slope ?? 0;
      const threshold = c.threshold ?? 0;
      const max = c.max_value ?? null;
      if (slope !== 0 || threshold !== 0 || (max !== null && max !== 6)) {
        throw new NstError(`${where} has max_value ${JSON.stringify(max)}, negative_slope ${JSON.stringify(slope)}, threshold ${JSON.stringify(threshold)}`, 'the adapter runs ReLU and ReLU6 (max_value 6) with negative_slope 0 and threshold 0');
      }
      return { op: 'activation', activation: max === 6 ? 'relu6' : 'relu' };
    }
    case 'Activation':
      return { op: 'activation', activation: activation(c.activation, where) };
    case 'Add':
      return { op: 'add' };
    case 'Concatenate':
      if (!isChannelAxis(c.axis ?? -1)) throw new NstError(`${where} concatenates along axis ${JSON.stringify(c.axis)}`, 'the adapter concatenates along the channel axis (-1 or 3) only');
      return { op: 'concat' };
    case 'ZeroPadding2D': {
      requirePlain(c, where);
      const p = c.padding ?? 1;
      const pads: [Pair, Pair] = Array.isArray(p) && p.length === 2 && p.every(Array.isArray)
        ? [pair(p[0], undefined, 'padding', where), pair(p[1], undefined, 'padding', where)]
        : (() => {
            const [h, w] = pair(p, undefined, 'padding', where);
            return [[h, h], [w, w]];
          })();
      return { op: 'pad', pads };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      requirePlain(c, where);
      const size = pair(c.pool_size, [2, 2], 'pool_size', where);
      return { op: 'pool', pool: l.kind === 'MaxPooling2D' ? 'max' : 'avg', size, strides: pair(c.strides, size, 'strides', where), padding: padding(c.padding ?? 'valid', where) };
    }
    case 'Dropout':
      return { op: 'identity' };
    default:
      throw new NstError(
        `${where} is a kind of layer the layers-model adapter does not run`,
        `supported layers: ${SUPPORTED_KINDS.join(', ')}; the classifier head (${HEAD_KINDS.join(', ')} and what depends only on them) is dropped`,
      );
  }
}

/** Output channels of a layer from its inputs' channels. */
function outChannels(l: RawLayer, op: LayerOp, inputs: readonly LayerNode[], where: string): number {
  switch (op.op) {
    case 'input': {
      const shape = l.config.batch_input_shape;
      if (!Array.isArray(shape) || shape.length !== 4 || typeof shape[3] !== 'number') {
        throw new NstError(`${where} has input shape ${JSON.stringify(shape)}, expected [batch, height, width, channels]`, 'the adapter runs image models: one rank-4 channels-last input');
      }
      return shape[3] as number;
    }
    case 'conv':
      if (op.depthwise) return inputs[0]!.channels;
      if (typeof l.config.filters !== 'number') throw new NstError(`${where} has no filters count`, EXPORT_HINT);
      return l.config.filters;
    case 'add': {
      const c = inputs[0]!.channels;
      if (inputs.some((i) => i.channels !== c)) throw new NstError(`${where} adds maps of ${inputs.map((i) => `${i.channels} (${i.name})`).join(', ')} channels`, 'the model is inconsistent; export it again');
      return c;
    }
    case 'concat':
      return inputs.reduce((sum, i) => sum + i.channels, 0);
    default:
      return inputs[0]!.channels;
  }
}

/** How many inputs each operation takes: [min, max]. */
function arity(op: LayerOp): Pair {
  if (op.op === 'input') return [0, 0];
  if (op.op === 'add' || op.op === 'concat') return [1, Infinity];
  return [1, 1];
}

/** Reads model.json's topology; `file` names the model in every message. */
export function parseTopology(json: unknown, file: string): Topology {
  const raw = rawLayers(json, file);
  const kept = new Map<string, LayerNode>();
  const head = new Set<string>();
  for (const l of raw) {
    const seen = (n: string) => kept.has(n) || head.has(n);
    if (seen(l.name)) throw new NstError(`${file}: two layers are named '${l.name}'`, EXPORT_HINT);
    const missing = l.inputs.find((n) => !seen(n));
    if (missing !== undefined) throw new NstError(`${at(file, l)} takes '${missing}', which no earlier layer produces`, EXPORT_HINT);
    if (HEAD.has(l.kind) || (l.inputs.length > 0 && l.inputs.every((n) => head.has(n)))) {
      head.add(l.name);
      continue;
    }
    const where = at(file, l);
    const fromHead = l.inputs.find((n) => head.has(n));
    if (fromHead !== undefined) throw new NstError(`${where} takes '${fromHead}' from the classifier head, which the adapter drops`, `the adapter runs feature extractors; the head (${HEAD_KINDS.join(', ')}) may only feed the head`);
    const op = layerOp(l, where);
    const [min, max] = arity(op);
    if (l.inputs.length < min || l.inputs.length > max) throw new NstError(`${where} takes ${l.inputs.length} inputs`, 'the adapter runs single-input image models');
    const inputs = l.inputs.map((n) => kept.get(n)!);
    kept.set(l.name, { name: l.name, kind: l.kind, op, inputs: l.inputs, channels: outChannels(l, op, inputs, where) });
  }
  const nodes = [...kept.values()];
  const inputs = nodes.filter((n) => n.op.op === 'input');
  if (inputs.length !== 1 || nodes[0]!.op.op !== 'input') throw new NstError(`${file} has ${inputs.length} input layers`, 'the adapter runs models with exactly one image input');
  return { file, nodes, head: raw.filter((l) => head.has(l.name)).map((l) => l.name) };
}

/** The layers whose outputs `taps` need: the taps and everything upstream of them. */
export function ancestors(topology: Topology, taps: Iterable<string>): Set<string> {
  const byName = new Map(topology.nodes.map((n) => [n.name, n]));
  const needed = new Set<string>();
  const stack = [...taps];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (needed.has(name)) continue;
    needed.add(name);
    stack.push(...byName.get(name)!.inputs);
  }
  return needed;
}

/** Each layer's consumers among the kept layers. */
export function consumers(topology: Topology): Map<string, string[]> {
  const out = new Map<string, string[]>(topology.nodes.map((n) => [n.name, []]));
  for (const n of topology.nodes) for (const i of n.inputs) out.get(i)!.push(n.name);
  return out;
}
