/**
 * Colour histogram matching, Gatys et al. 2017 §5.2: before the
 * transfer, the style image's colours are mapped linearly so that their mean and covariance equal the
 * content image's,
 *
 *   x_S' = A·(x_S − μ_S) + μ_C,   with A·Σ_S·Aᵀ = Σ_C,
 *
 * for every RGB pixel x_S, μ and Σ the mean and 3×3 covariance of each image's pixels. The paper gives
 * two choices of A, both here by name:
 * - `cholesky`: A = L_C·L_S⁻¹ with Σ = L·Lᵀ the Cholesky factorisations;
 * - `eigen`: A = Σ_C^{1/2}·Σ_S^{−1/2}, the symmetric square roots from the eigen-decompositions
 *   Σ = U·Λ·Uᵀ.
 * Every A = Σ_C^{1/2}·R·Σ_S^{−1/2} with R orthogonal matches; the two pick different rotations R, so
 * the matched images have the same statistics but differ in hue.
 * Both covariances get ε·I added before factorising, so that a flat or two-colour image has a defined
 * transform; with ε far below the images' variances the match is exact to within about ε.
 *
 * The result is not clipped to 0..255, so that its statistics are exactly the content's; the few
 * pixels outside the range are clipped when an image is saved. Covariances are population covariances
 * (divided by the pixel count), computed on the host in float64.
 */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';
import { applyColourMatrix } from './affine';
import { addIdentity3, cholesky3, inverse3, multiply3, symmetricPower3, type Matrix3 } from './matrix3';

export const COLOUR_MATCH_METHODS = ['cholesky', 'eigen'] as const;
export type ColourMatchMethod = (typeof COLOUR_MATCH_METHODS)[number];

/** ε added to both covariances, in (0..255)² units: far below a photograph's colour variances. */
export const DEFAULT_COLOUR_EPSILON = 1e-2;

export interface ColourStatistics {
  /** Mean RGB, in the image's units. */
  readonly mean: readonly number[];
  /** Covariance of the RGB values over the pixels (population), row-major 3×3. */
  readonly covariance: Matrix3;
}

/** Mean and covariance of an image's pixels [1,H,W,3], in float64. */
export function colourStatistics(image: tf.Tensor4D): ColourStatistics {
  const [, h, w, c] = image.shape;
  if (c !== 3) throw new Error(`colour statistics need 3 channels, got shape [${image.shape.join(',')}]`);
  const v = image.dataSync();
  const n = h * w;
  const mean = [0, 0, 0];
  for (let p = 0; p < n; p++) for (let k = 0; k < 3; k++) mean[k]! += v[p * 3 + k]!;
  for (let k = 0; k < 3; k++) mean[k]! /= n;
  const cov = new Array<number>(9).fill(0);
  for (let p = 0; p < n; p++) {
    const d = [v[p * 3]! - mean[0]!, v[p * 3 + 1]! - mean[1]!, v[p * 3 + 2]! - mean[2]!];
    for (let i = 0; i < 3; i++) for (let j = i; j < 3; j++) cov[i * 3 + j]! += d[i]! * d[j]!;
  }
  for (let i = 0; i < 3; i++) {
    for (let j = i; j < 3; j++) {
      cov[i * 3 + j]! /= n;
      cov[j * 3 + i] = cov[i * 3 + j]!;
    }
  }
  return { mean, covariance: cov };
}

export interface ColourTransform {
  /** x' = a·(x − from) + to: centred first, so that large gains (a flat source) keep float32 precision. */
  readonly a: Matrix3;
  readonly from: readonly number[];
  readonly to: readonly number[];
}

/** The method's name checked, for options read from a config or the command line. */
export function colourMatchMethod(name: string, option = 'colour matching method'): ColourMatchMethod {
  if (!(COLOUR_MATCH_METHODS as readonly string[]).includes(name)) {
    throw new NstError(`${option}: unknown method '${name}'`, `use one of: ${COLOUR_MATCH_METHODS.join(', ')}`);
  }
  return name as ColourMatchMethod;
}

/** The affine map that gives `source`'s pixels `target`'s mean and covariance. */
export function colourMatchTransform(
  source: ColourStatistics,
  target: ColourStatistics,
  method: ColourMatchMethod,
  epsilon = DEFAULT_COLOUR_EPSILON,
): ColourTransform {
  const cs = addIdentity3(source.covariance, epsilon);
  const ct = addIdentity3(target.covariance, epsilon);
  let a: number[];
  switch (method) {
    case 'cholesky':
      a = multiply3(cholesky3(ct), inverse3(cholesky3(cs)));
      break;
    case 'eigen':
      a = multiply3(symmetricPower3(ct, 0.5), symmetricPower3(cs, -0.5));
      break;
  }
  return { a, from: source.mean, to: target.mean };
}

/**
 * `image` [1,H,W,3] with its colours mapped to `reference`'s mean and covariance (any sizes): the
 * style image before a run (reference: the content), or a result afterwards (see originalColours).
 */
export function matchColourHistogram(
  image: tf.Tensor4D,
  reference: tf.Tensor4D,
  method: ColourMatchMethod,
  epsilon = DEFAULT_COLOUR_EPSILON,
): tf.Tensor4D {
  const { a, from, to } = colourMatchTransform(colourStatistics(image), colourStatistics(reference), method, epsilon);
  return tf.tidy(() => applyColourMatrix(tf.sub(image, tf.tensor1d([...from])) as tf.Tensor4D, a, to));
}
