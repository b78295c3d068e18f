/**
 * "Original colours": post-processing that gives any stylised result the content image's colours, as
 * jcjohnson/neural-style's `-original_colors 1` (which keeps the result's Y and the content's U, V in
 * YUV; here YIQ, as Gatys et al. 2017 §5), or — the paper's second colour method applied after the
 * run instead of before — by matching the result's colour mean and covariance to the content's.
 */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';
import { COLOUR_MATCH_METHODS, matchColourHistogram, type ColourMatchMethod } from './histogram-matching';
import { recombineWithContentChroma } from './luminance-transfer';

export const ORIGINAL_COLOUR_METHODS = ['luminance', ...COLOUR_MATCH_METHODS] as const;
/** `luminance`: result Y + content IQ; `cholesky` / `eigen`: the result's colour histogram matched to the content's. */
export type OriginalColourMethod = (typeof ORIGINAL_COLOUR_METHODS)[number];

export function originalColourMethod(name: string, option = 'original colours'): OriginalColourMethod {
  if (!(ORIGINAL_COLOUR_METHODS as readonly string[]).includes(name)) {
    throw new NstError(`${option}: unknown method '${name}'`, `use one of: ${ORIGINAL_COLOUR_METHODS.join(', ')}`);
  }
  return name as OriginalColourMethod;
}

/** The content image at the result's size (bilinear), as jcjohnson's code scales it; a new tensor. */
export function contentAtResultSize(result: tf.Tensor4D, content: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = result.shape;
  return tf.tidy(() => (content.shape[1] === h && content.shape[2] === w ? tf.clone(content) : tf.image.resizeBilinear(content, [h, w], false, true)));
}

/** `result` [1,H,W,3] with the content image's colours; the content is resized to the result if needed. */
export function originalColours(result: tf.Tensor4D, content: tf.Tensor4D, method: OriginalColourMethod): tf.Tensor4D {
  if (method !== 'luminance') return matchColourHistogram(result, content, method as ColourMatchMethod);
  return tf.tidy(() => recombineWithContentChroma(result, contentAtResultSize(result, content)));
}
