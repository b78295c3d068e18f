/**
 * A line search for the strong Wolfe conditions with cubic interpolation, following PyTorch's
 * `_strong_wolfe` in torch/optim/lbfgs.py (itself a port of torch/optim's lswolfe.lua, after minFunc):
 * a bracketing phase that extrapolates until the conditions hold or an interval containing such a
 * point is found, then a zoom phase that shrinks that interval by safeguarded cubic interpolation.
 * Nocedal & Wright, Numerical Optimization, algorithms 3.5 and 3.6.
 */
import type * as tf from '@tensorflow/tfjs';

/** One evaluated point on the line x0 + t·d. */
export interface LinePoint<P = unknown> {
  t: number;
  f: number;
  /** Directional derivative ∇f(x0 + t·d)·d. */
  gtd: number;
  grad: tf.Tensor;
  /** Whatever the caller keeps with the point (its closure's record). */
  payload: P;
}

export interface StrongWolfeOptions {
  /** Sufficient decrease (Armijo) constant. */
  c1?: number;
  /** Curvature constant. */
  c2?: number;
  /** Stop zooming when the bracket, times ‖d‖_∞, is below this. */
  toleranceChange?: number;
  /** Most evaluations. */
  maxEvaluations?: number;
}

interface Scalars {
  t: number;
  f: number;
  gtd: number;
}

/**
 * Minimiser of the cubic through two points with values and slopes, clamped to `bounds` (default: the
 * interval between them); the bounds' midpoint when the cubic has no minimiser. Symmetric in its two
 * points. Deviation from PyTorch: a non-finite result (coincident points) also gives the midpoint.
 */
export function cubicMinimizer(a: Scalars, b: Scalars, bounds?: readonly [number, number]): number {
  const [lo, hi] = bounds ?? (a.t <= b.t ? [a.t, b.t] : [b.t, a.t]);
  const d1 = a.gtd + b.gtd - (3 * (a.f - b.f)) / (a.t - b.t);
  const d2Square = d1 * d1 - a.gtd * b.gtd;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const [near, far] = a.t <= b.t ? [a, b] : [b, a];
    const t = far.t - (far.t - near.t) * ((far.gtd + d2 - d1) / (far.gtd - near.gtd + 2 * d2));
    if (Number.isFinite(t)) return Math.min(Math.max(t, lo), hi);
  }
  return (lo + hi) / 2;
}

/**
 * Searches along d from `p0` (t = 0, which must have gtd < 0), starting at step `t`, for a point with
 * f ≤ f0 + c1·t·gtd0 and |gtd| ≤ −c2·gtd0; when the evaluation budget or the bracket runs out, returns
 * the best point found (possibly p0 itself). `dMax` is ‖d‖_∞.
 *
 * Ownership: the gradients of the points `phi` returns belong to the search; the returned point's
 * gradient passes to the caller (unless it is p0, whose gradient the caller kept all along), all
 * others are disposed, also when `phi` throws.
 */
export function strongWolfe<P>(
  phi: (t: number) => LinePoint<P>,
  p0: LinePoint<P>,
  t: number,
  dMax: number,
  options: StrongWolfeOptions = {},
): { point: LinePoint<P>; evaluations: number } {
  const { c1 = 1e-4, c2 = 0.9, toleranceChange = 1e-9, maxEvaluations = 25 } = options;
  const made: LinePoint<P>[] = [];
  /** Disposes the gradients of evaluated points that are no longer referenced. */
  const keepOnly = (...live: LinePoint<P>[]) => {
    for (let i = made.length - 1; i >= 0; i--) {
      if (!live.includes(made[i]!)) {
        made[i]!.grad.dispose();
        made.splice(i, 1);
      }
    }
  };
  const evaluate = (at: number) => {
    const p = phi(at);
    made.push(p);
    return p;
  };
  const armijoFails = (p: LinePoint<P>) => p.f > p0.f + c1 * p.t * p0.gtd;
  const curvatureHolds = (p: LinePoint<P>) => Math.abs(p.gtd) <= -c2 * p0.gtd;

  try {
    // Bracketing: extrapolate until a point satisfies the conditions or an interval holds one.
    let prev = p0;
    let cur = evaluate(t);
    let iterations = 0;
    let bracket: [LinePoint<P>, LinePoint<P>] | null = null;
    let done = false;
    while (iterations < maxEvaluations) {
      if (armijoFails(cur) || (iterations > 1 && cur.f >= prev.f)) {
        bracket = [prev, cur];
        break;
      }
      if (curvatureHolds(cur)) {
        done = true;
        break;
      }
      if (cur.gtd >= 0) {
        bracket = [prev, cur];
        break;
      }
      const next = cubicMinimizer(prev, cur, [cur.t + 0.01 * (cur.t - prev.t), cur.t * 10]);
      prev = cur;
      cur = evaluate(next);
      iterations++;
      keepOnly(prev, cur);
    }
    if (done) {
      keepOnly(cur);
      return { point: cur, evaluations: iterations + 1 };
    }
    bracket ??= [p0, cur];

    // Zoom: shrink the bracket, keeping `low` the better end, until the conditions hold.
    let [low, high] = bracket[0].f <= bracket[1].f ? bracket : [bracket[1], bracket[0]];
    let insufficientProgress = false;
    while (!done && iterations < maxEvaluations) {
      const left = Math.min(low.t, high.t);
      const right = Math.max(low.t, high.t);
      if ((right - left) * dMax < toleranceChange) break;
      let next = cubicMinimizer(low, high);
      // Keep trial points away from the ends: after two steps close to an end (or one outside),
      // move to 10% of the bracket from it.
      const margin = 0.1 * (right - left);
      if (Math.min(right - next, next - left) < margin) {
        if (insufficientProgress || next >= right || next <= left) {
          next = Math.abs(next - right) < Math.abs(next - left) ? right - margin : left + margin;
          insufficientProgress = false;
        } else {
          insufficientProgress = true;
        }
      } else {
        insufficientProgress = false;
      }
      const p = evaluate(next);
      iterations++;
      if (armijoFails(p) || p.f >= low.f) {
        high = p;
        if (high.f < low.f) [low, high] = [high, low];
      } else {
        if (curvatureHolds(p)) done = true;
        else if (p.gtd * (high.t - low.t) >= 0) high = low;
        low = p;
      }
      keepOnly(low, high);
    }
    keepOnly(low);
    return { point: low, evaluations: iterations + 1 };
  } catch (e) {
    keepOnly();
    throw e;
  }
}
