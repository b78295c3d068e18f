/**
 * Guided Gram matrices, Gatys et al. 2017 §4: the feature map F (M positions × N filters) weighted at
 * every position by the region's guide at that tap, F_r = T_r ∘ F, and its Gram matrix
 *
 *   G_r = F_rᵀ F_r / Σ_k T_r,k²
 *
 * The normalisation by Σ T_r² (the guide's "mass") follows the authors' code (NeuralImageSynthesis,
 * SpatialControl notebook: guides scaled to Σ T²/M = 1, then G divided by M). It makes G_r the mean
 * of the per-position products over the region, comparable between a content region and a style
 * region of different areas, and equal to the plain G/M of the `gatys2016` and `gatys-code` style
 * statistics for an all-ones guide. Dividing by M instead would scale each region's Gram by its share
 * of the image: a sky covering a tenth of the style image and half of the content image would ask the
 * content's sky for a fifth of the style sky's per-position statistics.
 */
import * as tf from '@tensorflow/tfjs';
import { gram } from '../objectives/gram';

/** T ∘ F: the feature map [1,h,w,c] weighted by the guide at its tap [h,w]. Differentiable in F. */
export function guidedFeatures(features: tf.Tensor4D, guideAtTap: tf.Tensor2D): tf.Tensor4D {
  const [, h, w] = features.shape;
  if (guideAtTap.shape[0] !== h || guideAtTap.shape[1] !== w) {
    throw new Error(`guide [${guideAtTap.shape.join(',')}] does not fit the feature map [${features.shape.join(',')}]: propagate it to this tap first`);
  }
  return tf.tidy(() => tf.mul(features, tf.reshape(guideAtTap, [1, h, w, 1])));
}

/**
 * G_r = (T∘F)ᵀ(T∘F) / Σ T², N × N. An empty guide (Σ T² = 0) gives NaN: check guideCoverage when the
 * guides are propagated, and leave out (or refuse) a region that vanishes at a tap.
 */
export function guidedGram(features: tf.Tensor4D, guideAtTap: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(gram(guidedFeatures(features, guideAtTap)), tf.sum(tf.square(guideAtTap))));
}

/** The mean weight of a guide, 0 (empty) to 1 (everywhere): read on the host, for checks and logs. */
export function guideCoverage(guide: tf.Tensor2D): number {
  const m = tf.mean(guide);
  const value = m.dataSync()[0]!;
  m.dispose();
  return value;
}
