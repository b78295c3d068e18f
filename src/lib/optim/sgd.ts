/**
 * Gradient descent with heavy-ball momentum as PyTorch's SGD (no dampening, no Nesterov):
 * b ← μ·b + g (b = g on the first step), x ← x − lr·b. One evaluation per step.
 */
import * as tf from '@tensorflow/tfjs';
import { withoutGrad, type Closure, type Evaluation, type Optimizer, type StepResult } from './optimizer';
import { assignFrom } from './vector';

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
}
