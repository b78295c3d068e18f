/**
 * The `luminance` parameterisation, for luminance-only transfer (Gatys et al. 2017 §5): the variable
 * is the luminance Y alone, [1,H,W,1] in 0..255, and the colour channels I and Q are fixed.
 *
 * What the network sees (`chroma`):
 * - `content`: Y with the content image's I and Q. The network sees a colour image whose colours are
 *   the content's at every step; the style target should then be a colour image too (the style, or the
 *   style colour-matched to the content).
 * - `grey`: Y as a grey image (I = Q = 0), the paper's method as written: the network runs on
 *   luminance only (style: luminanceOnlyStyle; content: its grey luminance), and the final image is
 *   recombined with the content's I and Q afterwards (recombineWithContentChroma).
 * In both, the gradient reaches only Y: with the I, Q constants, d rgb / d Y = (1, 1, 1) per pixel.
 */
import * as tf from '@tensorflow/tfjs';
import { chromaOnly, greyImage, luminance } from '../colour/yiq';
import { checkParamSize, type ImageParam } from './image-param';

export const LUMINANCE_CHROMA = ['content', 'grey'] as const;
export type LuminanceChroma = (typeof LUMINANCE_CHROMA)[number];

/** `init` and `content` are borrowed; `content` must have `init`'s size. */
export function createLuminanceParam(init: tf.Tensor4D, content: tf.Tensor4D, chroma: LuminanceChroma): ImageParam {
  const [, h, w] = init.shape;
  const size = [h, w] as const;
  checkParamSize(init, size, 'initial image');
  checkParamSize(content, size, 'content image');
  const variable = tf.tidy(() => tf.variable(luminance(init), true));
  // The RGB image with the content's I, Q and Y = 0: adding Y to every channel gives the image.
  const base = chroma === 'content' ? chromaOnly(content) : null;
  return {
    name: 'luminance',
    variable,
    size,
    toRgb: () => tf.tidy(() => (base ? (tf.add(base, variable) as tf.Tensor4D) : greyImage(variable as tf.Tensor4D))),
    setFromRgb(rgb) {
      checkParamSize(rgb, size, 'image');
      tf.tidy(() => variable.assign(luminance(rgb)));
    },
    dispose() {
      variable.dispose();
      base?.dispose();
    },
  };
}
