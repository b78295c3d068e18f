/**
 * The optimizers' common shape, PyTorch's closure style: the optimizer calls the closure whenever it
 * needs the objective and its gradient at the variable's current value, as often as it likes (a line
 * search evaluates several points), and counts those calls.
 */
import type * as tf from '@tensorflow/tfjs';

export interface Evaluation {
  loss: number;
  /** A fresh tensor the optimizer now owns and disposes. */
  grad: tf.Tensor;
}

/**
 * Evaluates at the variable's current value. It may return more than loss and gradient (e.g. the
 * per-term logs); StepResult.start hands those fields back for the iterate the step started from.
 */
export type Closure<E extends Evaluation = Evaluation> = () => E;

/** An evaluation without its gradient, which stays with the optimizer. */
export type EvaluationRecord<E extends Evaluation> = Omit<E, 'grad'>;

export interface StepResult<E extends Evaluation = Evaluation> {
  /** The loss at the start of the step. */
  loss: number;
  /** Closure calls made in this step. */
  evaluations: number;
  /**
   * The closure's result at the start iterate. L-BFGS with a line search does not call the closure
   * there: it reuses the evaluation its previous line search accepted, so the first call of a step is
   * not, in general, at the step's start.
   */
  start: EvaluationRecord<E>;
}

export interface Optimizer {
  readonly name: string;
  /** True when the last step stopped on one of the optimizer's own tolerances. */
  readonly converged: boolean;
  /** Which tolerance, when converged. */
  readonly reason: string | null;
  /** One iteration: moves `x` in place. */
  step<E extends Evaluation>(x: tf.Variable, closure: Closure<E>): StepResult<E>;
  /** Frees all state tensors; the optimizer may be used again, starting afresh. */
  dispose(): void;
}

export function withoutGrad<E extends Evaluation>(evaluation: E): EvaluationRecord<E> {
  const { grad: _grad, ...record } = evaluation;
  return record;
}
