/**
 * The spatial geometry of a layers graph, from its configs alone: each layer's output size for an input
 * size (TensorFlow's SAME/VALID rules), the explicit paddings the convolutions and their transposes
 * use, total strides and receptive fields (Araujo et al. 2019, "Computing receptive fields of
 * convolutional neural networks", Distill: r_out = r_in + (k − 1)·j_in, j_out = j_in·s), and the
 * smallest input that keeps a set of taps non-empty.
 */
import { NstError } from '../../errors';
import type { TapInfo, TapPosition } from '../network';
import { ancestors, type LayerNode, type Pair, type Padding, type Topology } from './topology';

/** Output length along one axis of a window of size k and stride s (TensorFlow's rule; ≤ 0: empty). */
export function windowOut(size: number, k: number, s: number, padding: Padding): number {
  return padding === 'same' ? Math.ceil(size / s) : Math.floor((size - k) / s) + 1;
}

/** Padding [before, after] along one axis; TensorFlow's SAME puts the odd pixel after. */
export function windowPads(size: number, k: number, s: number, padding: Padding): Pair {
  if (padding === 'valid') return [0, 0];
  const total = Math.max((Math.ceil(size / s) - 1) * s + k - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Every layer's output [height, width] for an input of height × width (merges take their first input's). */
export function layerSizes(topology: Topology, height: number, width: number): Map<string, Pair> {
  const sizes = new Map<string, Pair>();
  for (const node of topology.nodes) {
    const op = node.op;
    const [h, w] = op.op === 'input' ? [height, width] : sizes.get(node.inputs[0]!)!;
    if (op.op === 'conv' || op.op === 'pool') {
      const k = op.op === 'conv' ? op.kernel : op.size;
      sizes.set(node.name, [windowOut(h, k[0], op.strides[0], op.padding), windowOut(w, k[1], op.strides[1], op.padding)]);
    } else if (op.op === 'pad') {
      sizes.set(node.name, [h + op.pads[0][0] + op.pads[0][1], w + op.pads[1][0] + op.pads[1][1]]);
    } else {
      sizes.set(node.name, [h, w]);
    }
  }
  return sizes;
}

/**
 * Throws unless every layer `taps` need has a non-empty map at height × width and every merge among them
 * gets inputs of one size; `network` and `minSide` word the error.
 */
export function checkSizes(topology: Topology, taps: readonly string[], height: number, width: number, network: string, minSide: number): void {
  const sizes = layerSizes(topology, height, width);
  const needed = ancestors(topology, taps);
  for (const node of topology.nodes) {
    if (!needed.has(node.name)) continue;
    const [h, w] = sizes.get(node.name)!;
    if (h < 1 || w < 1) {
      throw new NstError(`a ${height}×${width} image is too small for ${network} layer(s) ${taps.join(', ')}: layer '${node.name}' would be ${h}×${w}`, `use images of at least ${minSide}×${minSide} pixels, or shallower layers`);
    }
    if (node.op.op === 'add' || node.op.op === 'concat') {
      const shown = node.inputs.map((i) => sizes.get(i)!.join('×'));
      if (new Set(shown).size > 1) {
        throw new NstError(`at ${height}×${width}, the inputs of ${network} layer '${node.name}' have different sizes (${shown.join(', ')})`, 'choose another image size; `nst models inspect` lists every layer\'s size at a given input size');
      }
    }
  }
}

/** Smallest square input side for which every layer `taps` need has a map of at least 1×1. */
export function minInputSize(topology: Topology, taps: readonly string[]): number {
  const needed = [...ancestors(topology, taps)];
  // Every size is non-decreasing in the input size, so the first side that works is the answer.
  for (let side = 1; side <= 1 << 16; side++) {
    const sizes = layerSizes(topology, side, side);
    if (needed.every((n) => sizes.get(n)!.every((d) => d >= 1))) return side;
  }
  throw new Error(`no input up to 65536 px makes ${taps.join(', ')} non-empty`);
}

function position(node: LayerNode): TapPosition {
  const op = node.op;
  switch (op.op) {
    case 'conv':
      return op.activation === 'linear' ? 'before-activation' : 'after-activation';
    case 'batchnorm':
      return 'before-activation';
    case 'activation':
      return op.activation === 'linear' ? 'other' : 'after-activation';
    case 'pool':
      return 'pooling';
    case 'add':
    case 'concat':
      return 'merge';
    default:
      return 'other';
  }
}

/** Every layer as a tap, in graph order: channels, total stride, receptive field, position and kind. */
export function tapInfos(topology: Topology): TapInfo[] {
  /** Per axis: total stride (jump) and receptive field, [height, width]. */
  const geometry = new Map<string, { jump: Pair; field: Pair }>();
  return topology.nodes.map((node) => {
    const op = node.op;
    const ins = node.inputs.map((i) => geometry.get(i)!);
    const axis = (d: 0 | 1): [number, number] => {
      if (op.op === 'input') return [1, 1];
      const jump = Math.max(...ins.map((g) => g.jump[d]));
      const field = Math.max(...ins.map((g) => g.field[d]));
      if (op.op !== 'conv' && op.op !== 'pool') return [jump, field];
      const k = (op.op === 'conv' ? op.kernel : op.size)[d];
      return [jump * op.strides[d], field + (k - 1) * jump];
    };
    const [jh, fh] = axis(0);
    const [jw, fw] = axis(1);
    geometry.set(node.name, { jump: [jh, jw], field: [fh, fw] });
    return { name: node.name, channels: node.channels, stride: Math.max(jh, jw), receptiveField: Math.max(fh, fw), position: position(node), kind: node.kind };
  });
}
