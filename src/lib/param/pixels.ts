/**
 * The `pixels` parameterisation: the variable is the RGB image itself, 0..255 [1,H,W,3] (Gatys et al.
 * 2016 optimise the pixels). The earlier sessions optimised the caffe-preprocessed image; as
 * preprocessing is a channel flip and a mean shift, the objective and its gradient have the same values
 * per pixel (channels swapped), and the optimizers, which are invariant to both, take the same path up
 * to float32 rounding from the same starting image.
 */
import * as tf from '@tensorflow/tfjs';
import { checkParamSize, type ImageParam } from './image-param';

export function createPixelsParam(init: tf.Tensor4D): ImageParam {
  const [, h, w] = init.shape;
  const size = [h, w] as const;
  checkParamSize(init, size, 'initial image');
  // Shares init's buffer (reference-counted) until the optimizer's first assign.
  const variable = tf.variable(init, true);
  return {
    name: 'pixels',
    variable,
    size,
    // A clone (shared buffer), not the variable itself: the caller owns and may dispose what toRgb returns.
    toRgb: () => tf.clone(variable) as tf.Tensor4D,
    setFromRgb(rgb) {
      checkParamSize(rgb, size, 'image');
      variable.assign(rgb);
    },
    dispose: () => variable.dispose(),
  };
}
