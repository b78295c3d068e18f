/**
 * The colour controls of a run (Gatys et al. 2017 §5), as the session applies them around the
 * optimisation: what the targets are computed from before it, and what the saved result is after it.
 * - `colour: luminance` (§5.1): the network works on luminance only — the style images become their
 *   luminance matched to the content's (as grey images), the content target the content's grey
 *   luminance — and the result's Y is recombined with the content's I and Q.
 * - `colour: histogram` (§5.2): each style image's colour mean and covariance matched to the content's
 *   (`colourMethod`: Cholesky or symmetric square roots) before its targets are computed.
 * - `originalColours`: post-processing of the result (jcjohnson's `-original_colors`, or §5.2 after
 *   the run), applied last.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../config';
import { matchColourHistogram } from './histogram-matching';
import { luminanceOnlyStyle, recombineWithContentChroma } from './luminance-transfer';
import { originalColours } from './original-colours';
import { greyImage, luminance } from './yiq';

export type ColourSettings = Pick<RunConfig, 'colour' | 'colourMethod' | 'originalColours'>;

/**
 * The images the targets are computed from: `content` and `styles` (RGB 0..255, borrowed) under the
 * colour control, as new tensors the caller disposes.
 */
export function colourControlledInputs(cfg: ColourSettings, content: tf.Tensor4D, styles: readonly tf.Tensor4D[]): { content: tf.Tensor4D; styles: tf.Tensor4D[] } {
  switch (cfg.colour) {
    case 'none':
      return { content: content.clone(), styles: styles.map((s) => s.clone()) };
    case 'luminance':
      return { content: tf.tidy(() => greyImage(luminance(content))), styles: styles.map((s) => luminanceOnlyStyle(s, content)) };
    case 'histogram':
      return { content: content.clone(), styles: styles.map((s) => matchColourHistogram(s, content, cfg.colourMethod)) };
  }
}

/** True when the saved result is not the optimised image itself (final-raw.png then keeps that). */
export function changesResult(cfg: ColourSettings): boolean {
  return cfg.colour === 'luminance' || cfg.originalColours !== 'none';
}

/**
 * The result as a run saves it: the optimised `image` with the luminance transfer's recombination and
 * the `originalColours` post-processing (both with `content`, RGB 0..255 at any size). A new tensor.
 */
export function colourControlledResult(cfg: ColourSettings, image: tf.Tensor4D, content: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const recombined = cfg.colour === 'luminance' ? recombineWithContentChroma(image, content) : image.clone();
    return cfg.originalColours === 'none' ? recombined : originalColours(recombined, content, cfg.originalColours);
  });
}
