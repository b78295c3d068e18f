/**
 * Checks weights against the VGG-19 table (Simonyan & Zisserman 2014, configuration E) so that a wrong
 * or damaged file fails at load time with the file, the layer and the expected shape, not later as a
 * shape error deep inside a convolution.
 */
import { NstError } from '../../errors';
import { layerIndex, VGG19_CONVS, VGG_LAYERS, type ConvSpec, type VggArch } from '../vgg19';
import type { ConvWeights, VggWeights } from './types';

const CONV_BY_KERAS = new Map(VGG19_CONVS.map((c) => [c.keras, c]));

/** The VGG-19 convolution a Keras layer name denotes; undefined for layers the feature network does not use (input, fc1, predictions). */
export function vggConv(keras: string): ConvSpec | undefined {
  return CONV_BY_KERAS.get(keras);
}

/** How error messages name the weights: `weights file X`, `weights model X` or `weights random:0`. */
function nameOf(w: Pick<VggWeights, 'format' | 'source'>): string {
  const noun = w.format === 'keras-h5' ? 'weights file' : w.format === 'tfjs-layers' ? 'weights model' : 'weights';
  return `${noun} ${w.source}`;
}

const shapeText = (s: readonly number[]): string => `[${s.join(',')}]`;

/** Throws unless `w` has VGG-19's kernel shape [3,3,in,out], bias length `out` and finite values. */
export function checkConv(where: string, spec: ConvSpec, w: ConvWeights): void {
  const expected = [3, 3, spec.inChannels, spec.outChannels];
  const layer = `${spec.keras} (${spec.name})`;
  if (w.kernelShape.length !== 4 || w.kernelShape.some((d, i) => d !== expected[i])) {
    const permuted = [...w.kernelShape].sort((a, b) => a - b).join() === [...expected].sort((a, b) => a - b).join();
    throw new NstError(
      `${where}: layer ${layer} has kernel shape ${shapeText(w.kernelShape)}, expected ${shapeText(expected)} [kh,kw,in,out]`,
      permuted
        ? 'the kernel axes are in another order: Theano/PyTorch layouts ([out,in,kh,kw], the *_th_dim_ordering_* files) are not read; use the TensorFlow-ordered file (nst models fetch vgg19)'
        : 'this is not VGG-19 (configuration E); use vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 (nst models fetch vgg19)',
    );
  }
  const size = expected.reduce((a, b) => a * b, 1);
  if (w.kernel.length !== size) {
    throw new NstError(`${where}: layer ${layer} kernel holds ${w.kernel.length} values, its shape ${shapeText(expected)} needs ${size}`, 'the file is damaged; fetch it again');
  }
  if (w.bias.length !== spec.outChannels) {
    throw new NstError(`${where}: layer ${layer} has ${w.bias.length} biases, expected ${spec.outChannels} (shape [${spec.outChannels}])`, 'this is not VGG-19 (configuration E), or the file is damaged');
  }
  for (const [part, values] of [['kernel', w.kernel], ['bias', w.bias]] as const) {
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new NstError(`${where}: layer ${layer} ${part} holds a non-finite value (${values[bad]}) at index ${bad}`, 'the file is damaged; fetch it again');
  }
}

/** Throws when a file holds no VGG-19 convolution at all. */
export function checkHoldsAny(where: string, layers: ReadonlyMap<string, ConvWeights>, found: readonly string[]): void {
  if (layers.size > 0) return;
  throw new NstError(
    `${where} holds no VGG-19 convolution (block1_conv1 … block5_conv4)${found.length > 0 ? `; its layers are ${found.slice(0, 8).join(', ')}${found.length > 8 ? ', …' : ''}` : ''}`,
    'give VGG-19 weights: vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 (nst models fetch vgg19), a tfjs export of it, or random:SEED',
  );
}

const convsOf = (arch: VggArch): ConvSpec[] => VGG_LAYERS[arch].filter((l): l is ConvSpec => l.kind === 'conv');

/** The convolutions held, as `block1_conv1…block2_conv2` for a prefix of the network, else listed. */
export function describeHeld(weights: Pick<VggWeights, 'layers'>, arch: VggArch = 'vgg19'): string {
  const convs = convsOf(arch);
  const held = convs.filter((c) => weights.layers.has(c.keras)).map((c) => c.keras);
  if (held.length === 0) return `(no ${arch === 'vgg19' ? 'VGG-19' : 'VGG-16'} convolution)`;
  const isPrefix = held.every((k, i) => convs[i]!.keras === k);
  if (isPrefix) return held.length === 1 ? held[0]! : `${held[0]}…${held[held.length - 1]}`;
  return held.join(', ');
}

/**
 * Throws unless the weights can compute every layer in `names` (paper or Keras names, convolutions or
 * pools): each needs all convolutions up to itself. `neededBy` says who asked (`--content-layers`).
 */
export function requireLayers(weights: Pick<VggWeights, 'layers' | 'format' | 'source'>, names: readonly string[], neededBy = 'the requested layers', arch: VggArch = 'vgg19'): void {
  const table = VGG_LAYERS[arch];
  const convs = convsOf(arch);
  for (const name of names) {
    const target = table[layerIndex(name, arch)]!;
    const upTo = table.slice(0, layerIndex(name, arch) + 1).filter((l): l is ConvSpec => l.kind === 'conv');
    const missing = upTo.find((c) => !weights.layers.has(c.keras));
    if (!missing) continue;
    const usable = convs.slice(0, convs.findIndex((c) => !weights.layers.has(c.keras)));
    const through = missing === target ? '' : ` to compute ${target.name}`;
    throw new NstError(
      `${nameOf(weights)} has no layer ${missing.keras} (${missing.name}), needed by ${neededBy}${through}; it holds ${describeHeld(weights, arch)}`,
      usable.length > 0
        ? `choose layers up to ${usable[usable.length - 1]!.name}, or use the full VGG-19 (nst models fetch vgg19)`
        : 'use the full VGG-19 (nst models fetch vgg19)',
    );
  }
}
