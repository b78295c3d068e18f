/**
 * L-BFGS (Nocedal 1980; Liu & Nocedal 1989) over tfjs tensors, modelled on PyTorch's torch.optim.LBFGS:
 * the same two-loop recursion, the initial Hessian scale γ = sᵀy/yᵀy, the curvature test sᵀy > 1e-10,
 * the first step min(1, 1/‖g‖₁)·lr, the tolerances tolerance_grad (on ‖g‖_∞) and tolerance_change (on
 * the directional derivative, the step and the loss change), and the optional strong-Wolfe line search.
 *
 * Differences from PyTorch, where one `step()` runs up to max_iter iterations:
 * - one `step()` is one iteration, so a run loop can log, snapshot and stop between iterations;
 * - with the line search, the evaluation it accepted is kept and serves as the next step's start, so an
 *   iteration costs its line-search evaluations only (PyTorch's loop does the same within one step());
 *   without it, each step evaluates once, at its start, which is also where the loss-change test runs
 *   (PyTorch runs it right after that same evaluation, at the end of the previous iteration);
 * - if the variable was changed from outside since the last step (its data is not the tensor this
 *   optimizer assigned), the history and that evaluation are dropped and the next step starts afresh.
 * Vectors stay tensors of the variable's shape; only scalars (dot products, norms, losses) are read.
 */
import * as tf from '@tensorflow/tfjs';
import type { LineSearch } from '../config';
import { strongWolfe, type LinePoint } from './line-search';
import { checkStateName, withoutGrad, type Closure, type Evaluation, type EvaluationRecord, type HostTensor, type Optimizer, type OptimizerState, type StepResult } from './optimizer';
import { assignFrom, dot, fromHost, hostNumbers, maxAbs, toHost } from './vector';

export interface LbfgsOptions {
  /** PyTorch's lr: the step is lr along the L-BFGS direction (the line search's first trial). */
  learningRate: number;
  historySize: number;
  lineSearch: LineSearch;
  /** Converged when ‖g‖_∞ ≤ this (PyTorch's default 1e-7). */
  toleranceGrad?: number;
  /** Converged when the directional derivative, the step (∞-norm) or the loss change is below this (1e-9). */
  toleranceChange?: number;
}

/** Pairs whose curvature sᵀy is not above this are skipped (PyTorch's threshold). */
const MIN_CURVATURE = 1e-10;

interface Pair {
  s: tf.Tensor;
  y: tf.Tensor;
  /** 1 / sᵀy */
  rho: number;
}

type DataId = tf.Tensor['dataId'];

export class Lbfgs implements Optimizer {
  readonly name = 'lbfgs';
  converged = false;
  reason: string | null = null;

  private readonly opts: Required<LbfgsOptions>;
  private pairs: Pair[] = [];
  /** γ, the initial inverse-Hessian scale. */
  private hDiag = 1;
  /** The gradient at the previous iterate and the step taken from it, for the next pair. */
  private last: { grad: tf.Tensor; step: tf.Tensor } | null = null;
  /** The evaluation at the current iterate accepted by the last line search. */
  private accepted: { loss: number; grad: tf.Tensor; record: unknown } | null = null;
  /** Without a line search, the loss at the previous step's start, for the loss-change test. */
  private previousLoss: number | null = null;
  /** The variable's data as this optimizer left it. */
  private owned: DataId | null = null;
  private iterations = 0;

  constructor(options: LbfgsOptions) {
    this.opts = { toleranceGrad: 1e-7, toleranceChange: 1e-9, ...options };
    if (!(this.opts.historySize >= 1)) throw new Error(`L-BFGS history size must be at least 1, got ${this.opts.historySize}`);
  }

  step<E extends Evaluation>(x: tf.Variable, closure: Closure<E>): StepResult<E> {
    if (x.dataId !== this.owned) this.reset();
    this.converged = false;
    this.reason = null;
    const { toleranceGrad, toleranceChange, learningRate } = this.opts;

    let evaluations = 0;
    let loss: number;
    let g: tf.Tensor;
    let record: EvaluationRecord<E>;
    if (this.accepted) {
      ({ loss, grad: g } = this.accepted);
      record = this.accepted.record as EvaluationRecord<E>;
      this.accepted = null;
    } else {
      const e = closure();
      evaluations++;
      ({ loss, grad: g } = e);
      record = withoutGrad(e);
    }
    const result = () => ({ loss, evaluations, start: record });
    /** Stops without moving: the start evaluation stays valid for the next step. */
    const stopHere = (reason: string) => {
      this.stop(reason);
      this.accepted = { loss, grad: g, record };
      this.owned = x.dataId;
      return result();
    };

    let d: tf.Tensor | null = null;
    let x0: tf.Tensor | null = null;
    try {
      const [gMax, gSum] = hostNumbers(() => [maxAbs(g), tf.sum(tf.abs(g))]);
      if (gMax! <= toleranceGrad) return stopHere('gradient');
      if (this.previousLoss !== null && Math.abs(loss - this.previousLoss) < toleranceChange) return stopHere('loss');
      if (this.last) this.remember(g);

      d = this.direction(g);
      const [gtd] = hostNumbers(() => [dot(g, d!)]);
      if (gtd! > -toleranceChange) return stopHere('directional derivative');
      const dir = d;
      let t = this.iterations === 0 ? Math.min(1, 1 / gSum!) * learningRate : learningRate;

      let after: { loss: number; gMax: number } | null = null;
      if (this.opts.lineSearch === 'strong_wolfe') {
        const origin = tf.clone(x);
        x0 = origin;
        const phi = (at: number): LinePoint<EvaluationRecord<E>> => {
          assignFrom(x, () => tf.add(origin, tf.mul(dir, at)));
          const e = closure();
          evaluations++;
          try {
            const [gtdAt] = hostNumbers(() => [dot(e.grad, dir)]);
            return { t: at, f: e.loss, gtd: gtdAt!, grad: e.grad, payload: withoutGrad(e) };
          } catch (err) {
            e.grad.dispose();
            throw err;
          }
        };
        const [dMax] = hostNumbers(() => [maxAbs(dir)]);
        const p0: LinePoint<EvaluationRecord<E>> = { t: 0, f: loss, gtd: gtd!, grad: g, payload: record };
        const { point } = strongWolfe(phi, p0, t, dMax!, { toleranceChange });
        t = point.t;
        assignFrom(x, () => tf.add(origin, tf.mul(dir, t)));
        const grad = point === p0 ? tf.clone(g) : point.grad;
        this.accepted = { loss: point.f, grad, record: point.payload };
        after = { loss: point.f, gMax: hostNumbers(() => [maxAbs(grad)])[0]! };
      } else {
        assignFrom(x, () => tf.add(x, tf.mul(dir, t)));
        this.previousLoss = loss;
      }
      const step = tf.mul(dir, t);
      this.last = { grad: g, step };
      this.owned = x.dataId;
      this.iterations++;

      const [stepMax] = hostNumbers(() => [maxAbs(step)]);
      if (after && after.gMax <= toleranceGrad) this.stop('gradient');
      else if (stepMax! <= toleranceChange) this.stop('step');
      else if (after && Math.abs(after.loss - loss) < toleranceChange) this.stop('loss');
      return result();
    } catch (e) {
      // Leave x where the step started and forget everything: the state no longer matches x.
      if (x0) x.assign(x0);
      if (this.last?.grad !== g && this.accepted?.grad !== g) g.dispose();
      this.reset();
      throw e;
    } finally {
      d?.dispose();
      x0?.dispose();
    }
  }

  dispose(): void {
    this.reset();
  }

  /**
   * The history pairs (s, y, ρ), γ, the previous gradient and step, the evaluation the last line search
   * accepted (its closure record must be plain JSON, as the session's logs are), the loss-change
   * reference, the iteration count and the convergence flag.
   */
  getState(): OptimizerState {
    const tensors: Record<string, HostTensor> = {};
    this.pairs.forEach(({ s, y }, i) => {
      tensors[`s.${i}`] = toHost(s);
      tensors[`y.${i}`] = toHost(y);
    });
    if (this.last) {
      tensors['last.grad'] = toHost(this.last.grad);
      tensors['last.step'] = toHost(this.last.step);
    }
    if (this.accepted) tensors['accepted.grad'] = toHost(this.accepted.grad);
    return {
      name: this.name,
      scalars: {
        rhos: this.pairs.map((p) => p.rho),
        hDiag: this.hDiag,
        accepted: this.accepted ? { loss: this.accepted.loss, record: this.accepted.record } : null,
        previousLoss: this.previousLoss,
        iterations: this.iterations,
        converged: this.converged,
        reason: this.reason,
      },
      tensors,
    };
  }

  setState(state: OptimizerState, x: tf.Variable): void {
    checkStateName(state, this.name);
    this.reset();
    const sc = state.scalars as {
      rhos: number[];
      hDiag: number;
      accepted: { loss: number; record: unknown } | null;
      previousLoss: number | null;
      iterations: number;
      converged: boolean;
      reason: string | null;
    };
    const t = (name: string) => fromHost(state.tensors[name]!);
    this.pairs = sc.rhos.map((rho, i) => ({ s: t(`s.${i}`), y: t(`y.${i}`), rho }));
    this.hDiag = sc.hDiag;
    this.last = state.tensors['last.grad'] ? { grad: t('last.grad'), step: t('last.step') } : null;
    this.accepted = sc.accepted ? { ...sc.accepted, grad: t('accepted.grad') } : null;
    this.previousLoss = sc.previousLoss;
    this.iterations = sc.iterations;
    this.converged = sc.converged;
    this.reason = sc.reason;
    // The state belongs to x as it is now: the next step continues instead of starting afresh.
    this.owned = x.dataId;
  }

  private stop(reason: string): void {
    this.converged = true;
    this.reason = reason;
  }

  /** Adds the pair (s, y) from the last step, if its curvature is positive, and updates γ. */
  private remember(g: tf.Tensor): void {
    const { grad: previous, step: s } = this.last!;
    this.last = null;
    const y = tf.sub(g, previous);
    previous.dispose();
    const [ys, yy] = hostNumbers(() => [dot(y, s), dot(y, y)]);
    if (ys! > MIN_CURVATURE) {
      if (this.pairs.length === this.opts.historySize) {
        const dropped = this.pairs.shift()!;
        tf.dispose([dropped.s, dropped.y]);
      }
      this.pairs.push({ s, y, rho: 1 / ys! });
      this.hDiag = ys! / yy!;
    } else {
      tf.dispose([s, y]);
    }
  }

  /**
   * d = −H·g by the two-loop recursion (Nocedal & Wright, algorithm 7.4), with H₀ = γI. The α_i stay
   * scalars on the device: nothing is read back. Each intermediate vector is freed as soon as the next
   * exists, so the recursion needs two vectors of memory, not one per pair.
   */
  private direction(g: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const alphas: tf.Scalar[] = [];
      let q = tf.neg(g);
      const advance = (next: tf.Tensor) => {
        q.dispose();
        q = next;
      };
      for (let i = this.pairs.length - 1; i >= 0; i--) {
        const { s, y, rho } = this.pairs[i]!;
        const alpha = tf.tidy(() => tf.mul(dot(s, q), rho) as tf.Scalar);
        alphas[i] = alpha;
        advance(tf.tidy(() => tf.sub(q, tf.mul(y, alpha))));
      }
      advance(tf.mul(q, this.hDiag));
      for (let i = 0; i < this.pairs.length; i++) {
        const { s, y, rho } = this.pairs[i]!;
        advance(tf.tidy(() => tf.add(q, tf.mul(s, tf.sub(alphas[i]!, tf.mul(dot(y, q), rho))))));
      }
      return q;
    });
  }

  /** Drops the history and the kept evaluation. */
  private reset(): void {
    for (const { s, y } of this.pairs) tf.dispose([s, y]);
    this.pairs = [];
    if (this.last) tf.dispose([this.last.grad, this.last.step]);
    this.last = null;
    this.accepted?.grad.dispose();
    this.accepted = null;
    this.hDiag = 1;
    this.previousLoss = null;
    this.owned = null;
    this.iterations = 0;
  }
}
