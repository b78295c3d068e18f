/**
 * The VGG-19 feature network (Simonyan & Zisserman 2014) as used by Gatys et al.: convolutions with
 * ReLU, max or average pooling (Gatys 2016 prefers average pooling for its smoother gradients), no
 * fully connected layers. Asking for a set of taps runs the network only as deep as the deepest one.
 */
import * as tf from '@tensorflow/tfjs';
import type { Pooling } from '../config';
import { createConvLayer, pool2d, type ConvLayer } from './conv';
import { layerIndex, VGG19_LAYERS } from './vgg19';
import type { VggWeights } from './weights/types';
import { requireLayers } from './weights/validate';

export interface FeatureNet {
  readonly pooling: Pooling;
  readonly weights: VggWeights;
  /** Paper names of the layers this network can compute (a truncated weights file gives a prefix). */
  readonly available: readonly string[];
  /**
   * Feature maps at `taps` (paper or Keras names) for a preprocessed image [1,H,W,3].
   * The caller owns the returned tensors (call inside tf.tidy or dispose them).
   */
  features(x: tf.Tensor4D, taps: readonly string[]): Record<string, tf.Tensor4D>;
  dispose(): void;
}

export function createVgg19(weights: VggWeights, opts: { pooling: Pooling }): FeatureNet {
  const params: (ConvLayer | null)[] = VGG19_LAYERS.map((layer) => {
    if (layer.kind !== 'conv') return null;
    const w = weights.layers.get(layer.keras);
    if (!w) return null;
    return createConvLayer(tf.tensor4d(w.kernel, w.kernelShape), tf.tensor1d(w.bias));
  });
  // Layers are usable up to the first missing convolution.
  const firstMissing = params.findIndex((p, i) => p === null && VGG19_LAYERS[i]!.kind === 'conv');
  const depth = firstMissing === -1 ? VGG19_LAYERS.length : firstMissing;
  const available = VGG19_LAYERS.slice(0, depth).map((l) => l.name);

  function features(x: tf.Tensor4D, taps: readonly string[]): Record<string, tf.Tensor4D> {
    const wanted = new Map<number, string>();
    for (const tap of taps) wanted.set(layerIndex(tap), tap);
    const last = Math.max(...wanted.keys());
    // Only on failure: requireLayers words the error (which layer is missing, what the file holds).
    if (last >= depth) requireLayers(weights, [VGG19_LAYERS[last]!.name]);
    const out: Record<string, tf.Tensor4D> = {};
    let h = x;
    for (let i = 0; i <= last; i++) {
      const layer = VGG19_LAYERS[i]!;
      // Intermediates are left to the caller's tf.tidy: backpropagation still needs them.
      h = layer.kind === 'conv' ? params[i]!.apply(h) : pool2d(h, opts.pooling);
      const tap = wanted.get(i);
      if (tap !== undefined) out[tap] = h;
    }
    return out;
  }

  return {
    pooling: opts.pooling,
    weights,
    available,
    features,
    dispose() {
      for (const p of params) p?.dispose();
    },
  };
}
