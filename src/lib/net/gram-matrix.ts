/**
 * FᵀF for a feature matrix F (M positions × N filters): the Gram matrix of Gatys et al. 2016 (eq. 3),
 * as an op with its own gradient and the fastest product layout per backend.
 *
 * - On wasm, tfjs' BatchMatMul reaches XNNPACK only with untransposed operands; matMul(F, F, transposeA)
 *   takes a generic loop that is 3–20× slower than an explicit transpose followed by a plain product
 *   (docs/performance.md). Its 2-D transpose writes with a stride of M floats, and when M is a multiple
 *   of a large power of two (every square power-of-two image) those writes fall into one cache set:
 *   F is first padded with 16 zero rows, which leaves FᵀF unchanged and makes the transpose 5–20×
 *   faster. Native kernels (tensorflow; the native backend's oneDNN product) read the transposed
 *   operand for free.
 * - Autodiff of a product costs two products with transposed operands (one per operand). As G is
 *   quadratic in F, dL/dF = F·(dG + dGᵀ): one plain product.
 */
import * as tf from '@tensorflow/tfjs';

/** Backends on which transposing first beats a product with transposeA. */
const TRANSPOSE_FIRST_BACKENDS: ReadonlySet<string> = new Set(['wasm']);
/** Zero rows appended before the transpose, so that its output stride is not a power of two. */
const TRANSPOSE_PAD_ROWS = 16;

function transposeFirst(f: tf.Tensor2D): tf.Tensor2D {
  const padded = tf.pad(f, [[0, TRANSPOSE_PAD_ROWS], [0, 0]]);
  return tf.matMul(tf.transpose(padded), padded);
}

export function gramMatrix(f: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [F, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    save([F]);
    const value = TRANSPOSE_FIRST_BACKENDS.has(tf.getBackend()) ? transposeFirst(F) : tf.matMul(F, F, true, false);
    return {
      value,
      gradFunc: (dG: tf.Tensor, saved: tf.Tensor[]) => tf.matMul(saved[0] as tf.Tensor2D, tf.add(dG, tf.transpose(dG)) as tf.Tensor2D),
    };
  });
  return op(f) as tf.Tensor2D;
}
