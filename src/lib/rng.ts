/**
 * Seeded random numbers in plain JavaScript, so that a seed means the same numbers on every backend
 * and machine (tfjs' own seeded ops treat seed 0 as "no seed" and differ between backends).
 */

/** xoshiro128** (Blackman & Vigna), seeded through splitmix32: uniform floats in [0, 1). */
export function createRng(seed: number): () => number {
  let x = seed >>> 0;
  const splitmix = (): number => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result / 2 ** 32;
  };
}

function rotl(v: number, k: number): number {
  return (v << k) | (v >>> (32 - k));
}

/** Fills `out` with N(0, std²) samples (Box–Muller, both outputs used). */
export function fillNormal(out: Float32Array, std: number, uniform: () => number): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - uniform())) * std;
    const theta = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(theta);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(theta);
  }
  return out;
}

/** `n` samples of N(0, std²) from `seed`. */
export function normalSamples(n: number, std: number, seed: number): Float32Array {
  return fillNormal(new Float32Array(n), std, createRng(seed));
}
