/**
 * The MRF loss of Li & Wand 2016 ("Combining Markov Random Fields and Convolutional Neural Networks for
 * Image Synthesis", CVPR, eq. 2–3): every k × k patch Ψ_i of the generated image's feature map is
 * compared with its nearest style patch,
 *
 *   E_s = Σ_i ‖Ψ_i(Φ(x)) − Ψ_NN(i)(Φ(x_s))‖²,   NN(i) = argmax_j Ψ_i·Ψ_j^s / (‖Ψ_i‖·‖Ψ_j^s‖),
 *
 * the match by normalised cross-correlation, held fixed within an evaluation (no gradient through the
 * argmax). ‖Ψ_i‖ does not change the argmax, so only the style patches are normalised.
 *
 * Both sides sample patches every `stride` positions (the authors' code samples both with stride 2:
 * chuanli11/CNNMRF cnnmrf.lua, target_sample_stride and source_sample_stride). The loss is computed
 * offset by offset — for each of the k² positions inside a patch, the generated map's values there
 * against the matched patches' — so no patch matrix is built; the matching correlates the map with the
 * style patches as convolution filters in chunks of at most MATCH_BUDGET scores. Memory stays a few
 * feature maps whatever the number of patches. The gradient is the exact one of E_s,
 * 2 Σ_i (Ψ_i − Ψ_NN(i)) placed back at each patch's positions; CNNMRF (mylib/mrf.lua) divides each
 * position's sum by the number of patches covering it instead.
 */
import * as tf from '@tensorflow/tfjs';
import { patchGrid, patchOffset, type PatchGrid } from '../statistics/patches';

/** Correlation scores held at once while matching (4M floats, 16 MB). */
export const MATCH_BUDGET = 2 ** 22;

/**
 * NN(i) for every patch of the grid, row-major: [rows·cols] int32 indices into the style patches
 * [k, k, N, P], correlating with at most `budget` scores at a time. Not differentiable.
 */
export function nearestPatches(features: tf.Tensor4D, patches: tf.Tensor4D, stride: number, budget = MATCH_BUDGET): tf.Tensor1D {
  const [size, , , count] = patches.shape;
  const grid = patchGrid(features.shape[1], features.shape[2], size, stride);
  const chunk = Math.max(1, Math.floor(budget / (grid.rows * grid.cols)));
  let best: tf.Tensor | null = null;
  let index: tf.Tensor | null = null;
  for (let start = 0; start < count; start += chunk) {
    const width = Math.min(chunk, count - start);
    const next = tf.tidy(() => {
      const filters = tf.slice(patches, [0, 0, 0, start], [-1, -1, -1, width]);
      const norms = tf.sqrt(tf.sum(tf.square(filters), [0, 1, 2]));
      const scores = tf.conv2d(features, tf.div(filters, tf.add(norms, 1e-8)) as tf.Tensor4D, stride, 'valid');
      const value = tf.max(scores, -1);
      const at = tf.add(tf.argMax(scores, -1), tf.scalar(start, 'int32'));
      if (!best) return [value, at];
      const better = tf.greater(value, best);
      return [tf.where(better, value, best), tf.where(better, at, index!)];
    });
    tf.dispose([best!, index!].filter(Boolean));
    [best, index] = next as [tf.Tensor, tf.Tensor];
  }
  best!.dispose();
  const flat = tf.reshape(index!, [-1]) as tf.Tensor1D;
  index!.dispose();
  return flat;
}

/** x [1, r, c, N] spread to [1, (r−1)s+1, (c−1)s+1, N] with zeros between: the transpose of a strided read. */
function dilate(x: tf.Tensor4D, stride: number): tf.Tensor4D {
  if (stride === 1) return x;
  const [, r, c, n] = x.shape;
  const rows = tf.reshape(tf.pad(tf.reshape(x, [r, 1, c, n]), [[0, 0], [0, stride - 1], [0, 0], [0, 0]]), [r * stride, c, 1, n]);
  const both = tf.reshape(tf.pad(rows, [[0, 0], [0, 0], [0, stride - 1], [0, 0]]), [1, r * stride, c * stride, n]);
  return tf.slice(both, [0, 0, 0, 0], [1, (r - 1) * stride + 1, (c - 1) * stride + 1, n]) as tf.Tensor4D;
}

/** Values at patch offset (a, b) of every grid patch, put back at their positions in an h × w map. */
function place(values: tf.Tensor4D, a: number, b: number, grid: PatchGrid, stride: number, h: number, w: number): tf.Tensor4D {
  const spread = dilate(values, stride);
  const [, sh, sw] = spread.shape;
  return tf.pad(spread, [[0, 0], [a, h - sh - a], [b, w - sw - b], [0, 0]]);
}

/** E_s between a feature map [1, h, w, N] and style patches [k, k, N, P] (statistics/patches.ts). */
export function mrfLoss(features: tf.Tensor, patches: tf.Tensor, stride: number): tf.Scalar {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [f, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
    const table = patches as tf.Tensor4D;
    const [size, , n, count] = table.shape;
    const [, h, w] = f.shape;
    const grid = patchGrid(h, w, size, stride);
    const nn = nearestPatches(f, table, stride);
    let value: tf.Tensor = tf.scalar(0);
    let residual: tf.Tensor = tf.zerosLike(f);
    for (let a = 0; a < size; a++) {
      for (let b = 0; b < size; b++) {
        const next = tf.tidy(() => {
          const styleAt = tf.transpose(tf.reshape(tf.slice(table, [a, b, 0, 0], [1, 1, n, count]), [n, count]));
          const matched = tf.reshape(tf.gather(styleAt, nn), [1, grid.rows, grid.cols, n]);
          const diff = tf.sub(patchOffset(f, a, b, grid, stride), matched) as tf.Tensor4D;
          return [tf.add(value, tf.sum(tf.square(diff))), tf.add(residual, place(diff, a, b, grid, stride, h, w))];
        });
        tf.dispose([value, residual]);
        [value, residual] = next as [tf.Tensor, tf.Tensor];
      }
    }
    nn.dispose();
    save([residual]);
    return {
      value: value as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(saved[0]!, tf.mul(dy, 2)),
    };
  });
  return op(features) as tf.Scalar;
}
