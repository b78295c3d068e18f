/**
 * Draws for random search, from the library's seeded generator, so that a sweep file expands to the
 * same runs on every machine and Node version (Math.random cannot be seeded).
 */
import type { Distribution } from './spec';

export { createRng } from '../rng';

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
