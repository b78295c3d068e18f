/**
 * The VGG feature networks (Simonyan & Zisserman 2014: VGG-19 = configuration E, VGG-16 = D) as used by
 * Gatys et al.: convolutions with ReLU, max or average pooling (Gatys 2016 prefers average pooling for
 * its smoother gradients), no fully connected layers, caffe preprocessing. Asking for a set of taps runs
 * the network only as deep as the deepest one. The convolutions take the fast path of conv.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { Pooling } from '../config';
import { createConvLayer, pool2d, type ConvLayer } from './conv';
import { unknownTap, type FeatureNetwork, type TapInfo, type WeightsRecord } from './network';
import { deprocess, preprocess } from './preprocess';
import { LAYER_PRESETS, VGG_LAYERS, type LayerSpec, type VggArch } from './vgg19';
import type { VggWeights } from './weights/types';
import { requireLayers } from './weights/validate';

/** A VGG network with the weights it was built from (`nst models inspect` and normalisation read them). */
export interface VggNetwork extends FeatureNetwork {
  readonly arch: VggArch;
  readonly pooling: Pooling;
  readonly vggWeights: VggWeights;
  /** Paper names of the layers these weights can compute (a truncated weights file gives a prefix). */
  readonly available: readonly string[];
}

/** Channels, total stride and receptive field of every layer: 3×3/1 SAME convs, 2×2/2 VALID pools. */
export function vggTaps(table: readonly LayerSpec[]): TapInfo[] {
  let channels = 3;
  let stride = 1;
  let field = 1;
  return table.map((l) => {
    if (l.kind === 'conv') {
      channels = l.outChannels;
      field += 2 * stride;
      return { name: l.name, channels, stride, receptiveField: field, position: 'after-activation', kind: 'Conv2D+ReLU' };
    }
    field += stride;
    stride *= 2;
    return { name: l.name, channels, stride, receptiveField: field, position: 'pooling', kind: 'pool' };
  });
}

/** What a VGG network is without its weights: taps, name resolution, sizes and costs (no tensors). */
export type VggGeometry = Pick<FeatureNetwork, 'taps' | 'presets' | 'resolveTap' | 'minInputSize' | 'macs' | 'weightBytes'>;

export function vggGeometry(arch: VggArch): VggGeometry {
  const table = VGG_LAYERS[arch];
  const taps = vggTaps(table);
  const index = new Map<string, number>();
  table.forEach((l, i) => {
    index.set(l.name, i);
    index.set(l.keras, i);
  });
  const resolveTap = (name: string, option?: string): string => {
    const i = index.get(name);
    if (i === undefined) throw unknownTap(arch, name, taps, option);
    return table[i]!.name;
  };
  const deepest = (names: readonly string[]) => Math.max(...names.map((n) => index.get(resolveTap(n))!));
  return {
    taps,
    presets: LAYER_PRESETS,
    resolveTap,
    minInputSize(names) {
      // After k VALID 2×2 pools a map is ⌊n/2^k⌋ wide: at least 1 needs n ≥ 2^k.
      return Math.max(1, ...names.map((n) => taps[index.get(resolveTap(n))!]!.stride));
    },
    macs(names, height, width) {
      const last = deepest(names);
      let [h, w, macs] = [height, width, 0];
      for (const l of table.slice(0, last + 1)) {
        if (l.kind === 'conv') macs += h * w * 9 * l.inChannels * l.outChannels;
        else [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
      }
      return macs;
    },
    weightBytes(names) {
      const last = deepest(names);
      let [total, upToDeepest] = [0, 0];
      table.forEach((l, i) => {
        if (l.kind !== 'conv') return;
        const bytes = 4 * (9 * l.inChannels * l.outChannels + l.outChannels);
        total += bytes;
        if (i <= last) upToDeepest += bytes;
      });
      return { total, upToDeepest };
    },
  };
}

export function weightsRecord(w: VggWeights & { reason?: string }): WeightsRecord {
  return { source: w.source, format: w.format, sha256: w.sha256, random: w.random, reason: w.reason };
}

export function createVggNetwork(arch: VggArch, weights: VggWeights & { reason?: string }, opts: { pooling: Pooling }): VggNetwork {
  const table = VGG_LAYERS[arch];
  const geometry = vggGeometry(arch);
  const params: (ConvLayer | null)[] = table.map((layer) => {
    if (layer.kind !== 'conv') return null;
    const w = weights.layers.get(layer.keras);
    if (!w) return null;
    return createConvLayer(tf.tensor4d(w.kernel, w.kernelShape), tf.tensor1d(w.bias));
  });
  // Layers are usable up to the first missing convolution.
  const firstMissing = params.findIndex((p, i) => p === null && table[i]!.kind === 'conv');
  const depth = firstMissing === -1 ? table.length : firstMissing;
  const indexOf = (tap: string) => table.findIndex((l) => l.name === geometry.resolveTap(tap));

  /** The fast path, in caffe space: intermediates are left to the caller's tf.tidy (backprop needs them). */
  function caffeFeatures(x: tf.Tensor4D, wantedTaps: readonly string[]): Record<string, tf.Tensor4D> {
    const wanted = new Map<number, string>();
    for (const tap of wantedTaps) wanted.set(indexOf(tap), tap);
    const last = Math.max(...wanted.keys());
    // Only on failure: requireLayers words the error (which layer is missing, what the file holds).
    if (last >= depth) requireLayers(weights, [table[last]!.name], 'the requested layers', arch);
    const out: Record<string, tf.Tensor4D> = {};
    let h = x;
    for (let i = 0; i <= last; i++) {
      h = table[i]!.kind === 'conv' ? params[i]!.apply(h) : pool2d(h, opts.pooling);
      const tap = wanted.get(i);
      if (tap !== undefined) out[tap] = h;
    }
    return out;
  }

  return {
    ...geometry,
    name: arch,
    arch,
    pooling: opts.pooling,
    vggWeights: weights,
    available: table.slice(0, depth).map((l) => l.name),
    preprocessing: 'caffe',
    weights: weightsRecord(weights),
    preprocess,
    deprocess,
    features: (rgb, wantedTaps) => caffeFeatures(preprocess(rgb), wantedTaps),
    dispose() {
      for (const p of params) p?.dispose();
    },
  };
}

/** VGG-19 (the papers' network). */
export function createVgg19(weights: VggWeights & { reason?: string }, opts: { pooling: Pooling }): VggNetwork {
  return createVggNetwork('vgg19', weights, opts);
}
