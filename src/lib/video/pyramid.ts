/**
 * The image filters the coarse-to-fine flow estimators share: luminance, a Gaussian pyramid, spatial
 * derivatives, and carrying a flow from one pyramid level to the next finer one. Borders are
 * mirrored (edge pixel repeated), so a filter never sees the zeros of a padded frame as an edge.
 */
import * as tf from '@tensorflow/tfjs';
import { pixelGrid, sampleBilinear } from './warp';

/** Luminance in 0..1 (ITU-R BT.601 weights) of an RGB 0..255 [1,H,W,3] image; [1,H,W,1]. */
export function luminance(rgb: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sum(tf.mul(rgb, tf.tensor1d([0.299 / 255, 0.587 / 255, 0.114 / 255])), 3, true) as tf.Tensor4D);
}

/** Separable 1-D filtering along x then y, channel by channel, edges mirrored. */
function separable(image: tf.Tensor4D, taps: readonly number[], along: 'x' | 'y' | 'both'): tf.Tensor4D {
  const c = image.shape[3];
  const r = (taps.length - 1) / 2;
  return tf.tidy(() => {
    let out = image;
    if (along !== 'y') {
      const kx = tf.tile(tf.reshape(tf.tensor1d(taps as number[]), [1, taps.length, 1, 1]), [1, 1, c, 1]) as tf.Tensor4D;
      out = tf.depthwiseConv2d(tf.mirrorPad(out, [[0, 0], [0, 0], [r, r], [0, 0]], 'symmetric'), kx, 1, 'valid');
    }
    if (along !== 'x') {
      const ky = tf.tile(tf.reshape(tf.tensor1d(taps as number[]), [taps.length, 1, 1, 1]), [1, 1, c, 1]) as tf.Tensor4D;
      out = tf.depthwiseConv2d(tf.mirrorPad(out, [[0, 0], [r, r], [0, 0], [0, 0]], 'symmetric'), ky, 1, 'valid');
    }
    return out;
  });
}

/** The binomial 5-tap low-pass (1 4 6 4 1)/16 ≈ a Gaussian of σ = 1 px (Burt & Adelson 1983). */
const BINOMIAL = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16];

export function blur(image: tf.Tensor4D): tf.Tensor4D {
  return separable(image, BINOMIAL, 'both');
}

/**
 * One pyramid step: blur, then keep every second pixel starting at 0, so that coarse pixel (i, j) is
 * fine pixel (2i, 2j) exactly; [1, ⌈H/2⌉, ⌈W/2⌉, C].
 */
export function downsample(image: tf.Tensor4D): tf.Tensor4D {
  const [, h, w, c] = image.shape;
  return tf.tidy(() => tf.stridedSlice(blur(image), [0, 0, 0, 0], [1, h, w, c], [1, 2, 2, 1]) as tf.Tensor4D);
}

/**
 * A Gaussian pyramid, finest first: `image` itself, then halvings while the shorter side stays at least
 * `minSide` pixels, at most `maxLevels` levels in all.
 */
export function gaussianPyramid(image: tf.Tensor4D, maxLevels: number, minSide: number): tf.Tensor4D[] {
  const levels = [tf.clone(image)];
  while (levels.length < maxLevels) {
    const [, h, w] = levels[levels.length - 1]!.shape;
    if (Math.ceil(Math.min(h, w) / 2) < minSide) break;
    levels.push(downsample(levels[levels.length - 1]!));
  }
  return levels;
}

/**
 * Derivative stencils, listed as correlation taps: `five-point` is I'(x) ≈ (I(x−2) − 8I(x−1) +
 * 8I(x+1) − I(x+2))/12, as Sun, Roth & Black (2010) recommend for flow estimation; `central` is
 * (I(x+1) − I(x−1))/2.
 */
const DERIVATIVES = {
  'five-point': [1 / 12, -8 / 12, 0, 8 / 12, -1 / 12],
  central: [-1 / 2, 0, 1 / 2],
} as const;

/** ∂/∂x and ∂/∂y of each channel, edges mirrored. */
export function gradients(image: tf.Tensor4D, stencil: keyof typeof DERIVATIVES = 'five-point'): { dx: tf.Tensor4D; dy: tf.Tensor4D } {
  const taps = DERIVATIVES[stencil];
  return { dx: separable(image, taps, 'x'), dy: separable(image, taps, 'y') };
}

/**
 * A flow of one pyramid level carried to the next finer level of [h,w]: fine pixel p reads the coarse
 * flow at p/2 (bilinear) and the vectors double, because coarse pixels are twice as large.
 */
export function upsampleFlow(flow: tf.Tensor4D, [h, w]: readonly [number, number]): tf.Tensor4D {
  return tf.tidy(() => {
    const { x, y } = pixelGrid(h, w);
    return tf.mul(sampleBilinear(flow, tf.div(x, 2), tf.div(y, 2)), 2) as tf.Tensor4D;
  });
}
