/** Distances between images: in pixels, and between their style statistics (Gram matrices). */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';
import type { LayerStats } from './features';

/** Root-mean-square difference of two RGB 0..255 images of the same shape, in 0..255 units. */
export function rmsDistance(a: tf.Tensor, b: tf.Tensor): number {
  if (a.shape.join() !== b.shape.join()) throw new NstError(`cannot compare images of shapes [${a.shape}] and [${b.shape}]`, 'load both at the same size');
  return tf.tidy(() => tf.sqrt(tf.mean(tf.squaredDifference(a, b))).dataSync()[0]!);
}

function frobenius(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/**
 * Style distance: ‖G_a − G_b‖_F relative to the mean of ‖G_a‖_F and ‖G_b‖_F, averaged over the layers
 * both hold. 0 for identical statistics; scale-free, so layers of very different magnitude count alike.
 */
export function gramDistance(a: Readonly<Record<string, LayerStats>>, b: Readonly<Record<string, LayerStats>>): number {
  const layers = Object.keys(a).filter((l) => l in b);
  if (layers.length === 0) throw new NstError('the two sets of statistics share no layer', 'compute both with the same layers');
  let sum = 0;
  for (const l of layers) {
    const ga = a[l]!.gram;
    const gb = b[l]!.gram;
    const diff = Float64Array.from(ga, (v, i) => v - gb[i]!);
    const scale = (frobenius(ga) + frobenius(gb)) / 2;
    sum += scale > 0 ? frobenius(diff) / scale : 0;
  }
  return sum / layers.length;
}

/** The symmetric matrix of `distance` over all pairs, zero on the diagonal. */
export function pairwise<T>(items: readonly T[], distance: (a: T, b: T) => number): number[][] {
  const m = items.map(() => items.map(() => 0));
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const d = distance(items[i]!, items[j]!);
      m[i]![j] = d;
      m[j]![i] = d;
    }
  }
  return m;
}
