/** Autodiff gradients against finite differences, shared by the objective and style-loss tests. */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { createRng } from '../../src/lib/rng';

/** (4·D(h/2) − D(h))/3 of central differences D: the O(h⁴) estimate, so h can be large against rounding. */
function derivative(f: (delta: number) => number, h: number): number {
  const d = (e: number) => (f(e) - f(-e)) / (2 * e);
  return (4 * d(h / 2) - d(h)) / 3;
}

export interface GradientCheckOptions {
  /** Coordinates to skip (e.g. near a kink). */
  usable?: (i: number) => boolean;
  /** Random coordinates besides the largest; Infinity checks every one. */
  count?: number;
  /** Errors are relative to max(|g_i|, floor·max|g|). */
  floor?: number;
  rtol?: number;
}

/**
 * Autodiff against differences with step `h` at the largest coordinate and `count` random ones.
 * Returns how many were checked.
 */
export function checkGradient(f: (x: tf.Tensor4D) => tf.Scalar, at: tf.Tensor4D, h: number, opts: GradientCheckOptions = {}): number {
  const { usable = () => true, count = 6, floor = 0.05, rtol = 2e-2 } = opts;
  const grad = tf.grad((x) => f(x as tf.Tensor4D))(at);
  const g = Array.from(grad.dataSync());
  grad.dispose();
  const gMax = Math.max(...g.map(Math.abs));
  assert.ok(gMax > 0, 'non-zero gradient');
  const base = Array.from(at.dataSync());
  const valueAt = (i: number) => (delta: number) => {
    const v = base.slice();
    v[i]! += delta;
    const x = tf.tensor4d(v, at.shape);
    const r = tf.tidy(() => f(x).dataSync()[0]!);
    x.dispose();
    return r;
  };
  const r = createRng(99);
  const random = count === Infinity ? g.map((_, i) => i) : Array.from({ length: count }, () => Math.floor(r() * g.length));
  const coords = [g.indexOf(g.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a))), ...random].filter(usable);
  for (const i of coords) {
    const fd = derivative(valueAt(i), h);
    assert.ok(Math.abs(fd - g[i]!) <= rtol * Math.max(Math.abs(g[i]!), floor * gMax), `∂/∂x[${i}]: autodiff ${g[i]} vs differences ${fd}`);
  }
  return coords.length;
}
