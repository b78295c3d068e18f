/**
 * Adam (Kingma & Ba 2015) with PyTorch's defaults and update: β = (0.9, 0.999), ε = 1e-8 added to
 * √v̂ after bias correction. One evaluation per step; no convergence test of its own.
 */
import * as tf from '@tensorflow/tfjs';
import { checkStateName, withoutGrad, type Closure, type Evaluation, type Optimizer, type OptimizerState, type StepResult } from './optimizer';
import { assignFrom, fromHost, toHost } from './vector';

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class Adam implements Optimizer {
  readonly name = 'adam';
  readonly converged = false;
  readonly reason = null;

  private readonly opts: Required<AdamOptions>;
  private m: tf.Tensor | null = null;
  private v: tf.Tensor | null = null;
  private t = 0;

  constructor(options: AdamOptions) {
    this.opts = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, ...options };
  }

  step<E extends Evaluation>(x: tf.Variable, closure: Closure<E>): StepResult<E> {
    const e = closure();
    try {
      const { learningRate, beta1, beta2, epsilon } = this.opts;
      const g = e.grad;
      const [m, v] = tf.tidy(() => [
        this.m ? tf.add(tf.mul(this.m, beta1), tf.mul(g, 1 - beta1)) : tf.mul(g, 1 - beta1),
        this.v ? tf.add(tf.mul(this.v, beta2), tf.mul(tf.square(g), 1 - beta2)) : tf.mul(tf.square(g), 1 - beta2),
      ]);
      this.freeMoments();
      this.m = m!;
      this.v = v!;
      this.t++;
      const correction1 = 1 - beta1 ** this.t;
      const correction2 = 1 - beta2 ** this.t;
      assignFrom(x, () =>
        tf.sub(x, tf.mul(tf.div(m!, tf.add(tf.div(tf.sqrt(v!), Math.sqrt(correction2)), epsilon)), learningRate / correction1)),
      );
    } finally {
      e.grad.dispose();
    }
    return { loss: e.loss, evaluations: 1, start: withoutGrad(e) };
  }

  dispose(): void {
    this.freeMoments();
    this.t = 0;
  }

  /** The moments m, v (absent before the first step) and the step count t of the bias correction. */
  getState(): OptimizerState {
    return { name: this.name, scalars: { t: this.t }, tensors: this.m && this.v ? { m: toHost(this.m), v: toHost(this.v) } : {} };
  }

  setState(state: OptimizerState): void {
    checkStateName(state, this.name);
    this.freeMoments();
    const { m, v } = state.tensors;
    this.m = m ? fromHost(m) : null;
    this.v = v ? fromHost(v) : null;
    this.t = state.scalars.t as number;
  }

  private freeMoments(): void {
    this.m?.dispose();
    this.v?.dispose();
    this.m = null;
    this.v = null;
  }
}
