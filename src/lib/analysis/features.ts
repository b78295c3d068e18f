/**
 * Feature statistics of an image at chosen layers of a feature network: the Gram matrix G/M_l that Gatys et al.'s
 * style representation is built from (2015, eq. 3, normalised by the number of positions M_l as in
 * their code, so layers and image sizes compare), and per-channel mean and standard deviation.
 */
import * as tf from '@tensorflow/tfjs';
import { loadImage, type LoadOptions } from '../image/io';
import type { FeatureNetwork } from '../net/network';
import { featureMatrix, gram } from '../objectives/gram';

export interface LayerStats {
  layer: string;
  /** N_l, the number of feature maps. */
  channels: number;
  /** M_l = height × width of the feature maps. */
  positions: number;
  /** G/M_l, channels × channels, row-major. */
  gram: Float32Array;
  mean: Float32Array;
  std: Float32Array;
}

/** Statistics of an RGB 0..255 image [1,H,W,3] at each of `layers` (the network's tap names). */
export function layerStats(net: FeatureNetwork, rgb: tf.Tensor4D, layers: readonly string[]): Record<string, LayerStats> {
  const packed = tf.tidy(() => {
    const feats = net.features(rgb, layers);
    return layers.map((layer) => {
      const f = feats[layer]!;
      const [, h, w, c] = f.shape;
      const { mean, variance } = tf.moments(featureMatrix(f), 0);
      return { layer, c, m: h * w, gram: gram(f).div(h * w), mean, std: tf.sqrt(variance) };
    });
  });
  const out: Record<string, LayerStats> = {};
  for (const p of packed) {
    out[p.layer] = {
      layer: p.layer,
      channels: p.c,
      positions: p.m,
      gram: p.gram.dataSync() as Float32Array,
      mean: p.mean.dataSync() as Float32Array,
      std: p.std.dataSync() as Float32Array,
    };
    tf.dispose([p.gram, p.mean, p.std]);
  }
  return out;
}

/** Statistics of an image file, loaded as `load` says (e.g. at a result's exact size). */
export async function imageStats(net: FeatureNetwork, path: string, load: LoadOptions, layers: readonly string[]): Promise<Record<string, LayerStats>> {
  const rgb = await loadImage(path, load);
  try {
    return layerStats(net, rgb, layers);
  } finally {
    rgb.dispose();
  }
}
