/**
 * Image parameterisations (Lucid's `param/`): what the optimizer changes, and how that becomes the RGB
 * image the feature network sees. The session optimises `variable` and calls `toRgb()` inside its
 * gradient tape, so every parameterisation is differentiable from variable to pixels; objectives,
 * regularisers (TV) and snapshots all read the RGB image, in 0..255 and not clipped.
 */
import type * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';

export interface ImageParam {
  /** Registry name: `pixels`, `luminance`. */
  readonly name: ImageParamName;
  /** What the optimizer changes; owned by the parameterisation (dispose() frees it). */
  readonly variable: tf.Variable;
  /** [height, width] of the image. */
  readonly size: readonly [number, number];
  /**
   * The current image, RGB 0..255 [1,H,W,3], differentiable with respect to `variable`: call it inside
   * the closure the gradient is taken of. A new tensor that the caller owns (call inside tf.tidy).
   */
  toRgb(): tf.Tensor4D;
  /**
   * Sets the variable so that toRgb() is `rgb` [1,H,W,3] as nearly as the parameterisation can (the
   * luminance parameterisation keeps its fixed colours and takes `rgb`'s luminance). For initial
   * images and resumed runs; `rgb` stays the caller's.
   */
  setFromRgb(rgb: tf.Tensor4D): void;
  /** Frees the variable and any constants. */
  dispose(): void;
}

export const IMAGE_PARAMS = ['pixels', 'luminance'] as const;
export type ImageParamName = (typeof IMAGE_PARAMS)[number];

/** Refuses an image of another size than the parameterisation's: the session resizes first. */
export function checkParamSize(rgb: tf.Tensor4D, size: readonly [number, number], what: string): void {
  const [b, h, w, c] = rgb.shape;
  if (b !== 1 || h !== size[0] || w !== size[1] || c !== 3) {
    throw new NstError(`${what} has shape [${rgb.shape.join(',')}], expected [1,${size[0]},${size[1]},3]`, 'resize it to the run\'s image size first');
  }
}
