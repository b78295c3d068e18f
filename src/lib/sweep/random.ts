/**
 * The random search's own PRNG, so that a sweep file expands to the same runs on every machine and
 * Node version (Math.random cannot be seeded).
 */
import type { Distribution } from './spec';

/** mulberry32: a small, well-mixed 32-bit generator; returns floats in [0, 1). */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One draw from a range, with W&B's meaning of each distribution (see DISTRIBUTIONS). */
export function sampleRange(rng: () => number, min: number, max: number, distribution: Distribution): number {
  const u = rng();
  switch (distribution) {
    case 'uniform':
      return min + u * (max - min);
    case 'int_uniform':
      return min + Math.floor(u * (max - min + 1));
    case 'log_uniform':
      return Math.exp(min + u * (max - min));
    case 'log_uniform_values':
      return Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min)));
  }
}

export function sampleChoice<T>(rng: () => number, values: readonly T[]): T {
  return values[Math.floor(rng() * values.length)]!;
}
