/**
 * How far a result's colours are from the content image's, the number Gatys et al. 2017 §5's colour
 * controls drive down (the paper shows images, not a number; this is the workbench's measure):
 *
 *   chroma error = √( (1/M) Σ_p [ (I_p − I^C_p)² + (Q_p − Q^C_p)² ] )
 *
 * the root mean square over the M pixels of the Euclidean distance in the IQ plane of YIQ, in the
 * units of RGB 0..255 (I spans about ±152, Q ±134). Luminance is left out, so a luminance-only
 * transfer scores 0 whatever its Y. The content image is resized (bilinear) to the result's size.
 */
import * as tf from '@tensorflow/tfjs';
import { contentAtResultSize } from './original-colours';
import { rgbToYiq } from './yiq';

export function chromaError(result: tf.Tensor4D, content: tf.Tensor4D): number {
  const [, h, w] = result.shape;
  const value = tf.tidy(() => {
    const d = tf.sub(rgbToYiq(result), rgbToYiq(contentAtResultSize(result, content)));
    const iq = tf.slice(d, [0, 0, 0, 1], [1, h, w, 2]);
    return tf.sqrt(tf.div(tf.sum(tf.square(iq)), h * w));
  });
  const out = value.dataSync()[0]!;
  value.dispose();
  return out;
}
