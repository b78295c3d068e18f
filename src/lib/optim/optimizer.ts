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

/** A float32 tensor copied to the host, as checkpoints hold it. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * An optimizer's whole state on the host, so that a run can stop and later continue exactly where it
 * was: `scalars` is plain JSON (numbers, strings, booleans, null, arrays and objects of them), `tensors`
 * holds its vectors by name. Restoring it and stepping gives the same iterates, bit for bit, as never
 * having stopped (on the same backend).
 */
export interface OptimizerState {
  /** The optimizer's name; a state restores only into an optimizer of the same name. */
  name: string;
  scalars: Record<string, unknown>;
  tensors: Record<string, HostTensor>;
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
  /** A host copy of the state (for a checkpoint); the optimizer is unchanged. */
  getState(): OptimizerState;
  /**
   * Replaces the state with `state`, taken by getState() from an optimizer with the same options.
   * `x` is the variable it optimises, already holding the iterate the state was taken at.
   */
  setState(state: OptimizerState, x: tf.Variable): void;
}

export function withoutGrad<E extends Evaluation>(evaluation: E): EvaluationRecord<E> {
  const { grad: _grad, ...record } = evaluation;
  return record;
}

/** Refuses a state taken from another kind of optimizer (a checkpoint of an Adam run into L-BFGS). */
export function checkStateName(state: OptimizerState, name: string): void {
  if (state.name !== name) throw new Error(`cannot restore a ${state.name} state into ${name}`);
}
