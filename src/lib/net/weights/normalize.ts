/**
 * The "normalised" VGG-19 of Gatys et al. (2015 §2, 2016 §2): "We normalized the network by scaling
 * the weights such that the mean activation of each convolutional filter over images and positions is
 * equal to one."
 *
 * Dividing filter k of layer l (its kernel slice and its bias) by m_k, its mean ReLU activation,
 * divides that ReLU output by m_k (ReLU is positively homogeneous); multiplying layer l+1's weights for
 * input channel k by m_k cancels it for the next layer, and max and average pooling commute with
 * positive per-channel scales. So each layer of the normalised network outputs the original layer's
 * features divided by its own m, and all m come from one forward pass of the original network.
 *
 * Deviations: the authors averaged over ImageNet images; here over the images given (each image
 * weighs the same, whatever its size). Filters that never fire on them (m = 0) are left unscaled.
 */
import * as tf from '@tensorflow/tfjs';
import type { Pooling } from '../../config';
import { NstError } from '../../errors';
import { createVgg19, type VggNetwork } from '../vgg';
import { VGG19_CONVS } from '../vgg19';
import type { ConvWeights, VggWeights } from './types';

/** Per-channel mean ReLU activation of each convolution, by Keras layer name. */
export type ChannelMeans = Map<string, Float32Array>;

export type FeatureFn = VggNetwork['features'];

/**
 * Mean activation per channel of each layer in `layers` (Keras names), averaged over positions and
 * then over the RGB 0..255 `images`.
 */
export function channelMeans(features: FeatureFn, images: readonly tf.Tensor4D[], layers: readonly string[]): ChannelMeans {
  if (images.length === 0) throw new NstError('normalisation needs at least one calibration image');
  const sums = new Map<string, Float64Array>();
  for (const image of images) {
    const flat = tf.tidy(() => {
      const f = features(image, layers);
      return tf.concat(layers.map((l) => tf.mean(f[l]!, [0, 1, 2])));
    });
    const values = flat.dataSync();
    flat.dispose();
    let offset = 0;
    for (const l of layers) {
      const n = VGG19_CONVS.find((c) => c.keras === l)!.outChannels;
      const sum = sums.get(l) ?? new Float64Array(n);
      for (let k = 0; k < n; k++) sum[k]! += values[offset + k]!;
      sums.set(l, sum);
      offset += n;
    }
  }
  return new Map([...sums].map(([l, s]) => [l, Float32Array.from(s, (v) => v / images.length)]));
}

export interface Normalized {
  weights: VggWeights;
  /** m per layer and channel: normalised features = original features / m. */
  means: ChannelMeans;
  /** Filters left unscaled because they never fired on the calibration images, by layer. */
  dead: Record<string, number>;
}

/** Rescales every held convolution so that its filters' mean activations (`means`) become 1. */
export function normalizeWeights(weights: VggWeights, means: ChannelMeans): Normalized {
  const layers = new Map<string, ConvWeights>();
  const dead: Record<string, number> = {};
  let previous: Float32Array | undefined;
  for (const c of VGG19_CONVS) {
    const w = weights.layers.get(c.keras);
    if (!w) break;
    const m = means.get(c.keras);
    if (!m) throw new NstError(`normalisation: no mean activations for layer ${c.keras}`);
    const outScale = Float32Array.from(m, (v) => (v > 0 ? 1 / v : 1));
    const inScale = previous ?? new Float32Array(c.inChannels).fill(1);
    const [kh, kw, cin, cout] = w.kernelShape;
    const kernel = new Float32Array(w.kernel.length);
    // [kh,kw,in,out] row-major: input channel ci, output channel o at ((p·in) + ci)·out + o.
    for (let p = 0, i = 0; p < kh * kw; p++) {
      for (let ci = 0; ci < cin; ci++) {
        for (let o = 0; o < cout; o++, i++) kernel[i] = w.kernel[i]! * inScale[ci]! * outScale[o]!;
      }
    }
    layers.set(c.keras, { kernel, kernelShape: w.kernelShape, bias: Float32Array.from(w.bias, (b, o) => b * outScale[o]!) });
    const deadCount = m.filter((v) => !(v > 0)).length;
    if (deadCount > 0) dead[c.keras] = deadCount;
    previous = Float32Array.from(m, (v) => (v > 0 ? v : 1));
  }
  return {
    weights: { ...weights, layers, sha256: undefined, source: `${weights.source} (normalised)`, info: { ...weights.info, normalized: 'gatys: mean activation 1 per filter' } },
    means,
    dead,
  };
}

/** Normalises over RGB 0..255 calibration images, through the VGG-19 built from `weights`. */
export function normalizeVgg19(weights: VggWeights, images: readonly tf.Tensor4D[], opts: { pooling: Pooling }): Normalized {
  const net = createVgg19(weights, opts);
  try {
    const convs = VGG19_CONVS.filter((c) => net.available.includes(c.name)).map((c) => c.keras);
    return normalizeWeights(weights, channelMeans(net.features, images, convs));
  } finally {
    net.dispose();
  }
}
