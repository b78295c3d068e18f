/** The parameterisations by name, as configs and the command line choose them. */
import type * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';
import { IMAGE_PARAMS, type ImageParam } from './image-param';
import { createLuminanceParam, LUMINANCE_CHROMA, type LuminanceChroma } from './luminance';
import { createPixelsParam } from './pixels';

export interface ImageParamOptions {
  /** The content image, RGB 0..255 [1,H,W,3] at the image's size: the fixed colours of `luminance`. */
  content?: tf.Tensor4D;
  /** The colour `luminance` shows the network (default `content`; see LuminanceChroma). */
  chroma?: LuminanceChroma;
}

/**
 * The parameterisation `name`, starting at the RGB image `init` [1,H,W,3] (borrowed; not disposed).
 * Unknown names and missing inputs throw NstError naming `option` before any tensor is made.
 */
export function createImageParam(name: string, init: tf.Tensor4D, opts: ImageParamOptions = {}, option = 'param'): ImageParam {
  switch (name) {
    case 'pixels':
      return createPixelsParam(init);
    case 'luminance': {
      const content = opts.content;
      if (!content) throw new NstError(`${option} luminance needs a content image`, `give a content image, or use ${option} pixels (texture synthesis has no content colours to keep)`);
      const chroma = opts.chroma ?? 'content';
      if (!(LUMINANCE_CHROMA as readonly string[]).includes(chroma)) {
        throw new NstError(`${option} luminance: unknown chroma '${chroma}'`, `use one of: ${LUMINANCE_CHROMA.join(', ')}`);
      }
      return createLuminanceParam(init, content, chroma);
    }
    default:
      throw new NstError(`${option}: unknown image parameterisation '${name}'`, `use one of: ${IMAGE_PARAMS.join(', ')}`);
  }
}

