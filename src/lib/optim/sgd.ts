/**
 * Gradient descent with heavy-ball momentum as PyTorch's SGD (no dampening, no Nesterov):
 * b ← μ·b + g (b = g on the first step), x ← x − lr·b. One evaluation per step.
 */
import * as tf from '@tensorflow/tfjs';
import { checkStateName, withoutGrad, type Closure, type Evaluation, type Optimizer, type OptimizerState, type StepResult } from './optimizer';
import { assignFrom, fromHost, toHost } from './vector';

export interface SgdOptions {
  learningRate: number;
  /** μ; 0 for plain gradient descent. */
  momentum: number;
}

export class Sgd implements Optimizer {
  readonly name = 'sgd';
  readonly converged = false;
  readonly reason = null;

  private buffer: tf.Tensor | null = null;

  constructor(private readonly opts: SgdOptions) {}

  step<E extends Evaluation>(x: tf.Variable, closure: Closure<E>): StepResult<E> {
    const e = closure();
    try {
      const { learningRate, momentum } = this.opts;
      let direction = e.grad;
      if (momentum > 0) {
        const previous = this.buffer;
        this.buffer = previous ? tf.tidy(() => tf.add(tf.mul(previous, momentum), e.grad)) : tf.clone(e.grad);
        previous?.dispose();
        direction = this.buffer;
      }
      assignFrom(x, () => tf.sub(x, tf.mul(direction, learningRate)));
    } finally {
      e.grad.dispose();
    }
    return { loss: e.loss, evaluations: 1, start: withoutGrad(e) };
  }

  dispose(): void {
    this.buffer?.dispose();
    this.buffer = null;
  }

  /** The momentum buffer b (absent before the first step, and without momentum). */
  getState(): OptimizerState {
    return { name: this.name, scalars: {}, tensors: this.buffer ? { buffer: toHost(this.buffer) } : {} };
  }

  setState(state: OptimizerState): void {
    checkStateName(state, this.name);
    this.dispose();
    const { buffer } = state.tensors;
    this.buffer = buffer ? fromHost(buffer) : null;
  }
}
