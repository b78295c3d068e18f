/**
 * `random:SEED`: untrained VGG-19 weights for offline smoke runs and tests. He-normal kernels
 * (He et al. 2015: std √(2/fan_in), fan_in = 9·in) and zero biases, from a seeded generator in plain
 * JavaScript so that the same seed gives the same weights on every backend and machine. Every output
 * that uses them says RANDOM WEIGHTS: results are not comparable to the papers'.
 */
import { NstError } from '../../errors';
import { VGG19_CONVS } from '../vgg19';
import type { ConvWeights, VggWeights } from './types';

/** xoshiro128** (Blackman & Vigna), seeded through splitmix32: uniform floats in [0, 1). */
function xoshiro128(seed: number): () => number {
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
function fillNormal(out: Float32Array, std: number, uniform: () => number): void {
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - uniform())) * std;
    const theta = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(theta);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(theta);
  }
}

/** Parses `random:SEED` (SEED a non-negative integer); null for any other spec. */
export function parseRandomSpec(spec: string): number | null {
  if (!/^random(:|$)/.test(spec)) return null;
  const m = /^random:(\d{1,10})$/.exec(spec);
  const seed = m ? Number(m[1]) : NaN;
  if (!(seed <= 0xffffffff)) throw new NstError(`--weights: '${spec}' is not a random-weights spec`, 'write random:SEED with SEED an integer 0…4294967295, e.g. random:0');
  return seed;
}

/** The full VGG-19 with He-normal kernels and zero biases, deterministic in `seed`. */
export function randomWeights(seed: number): VggWeights {
  const uniform = xoshiro128(seed);
  const layers = new Map<string, ConvWeights>();
  for (const c of VGG19_CONVS) {
    const kernel = new Float32Array(9 * c.inChannels * c.outChannels);
    fillNormal(kernel, Math.sqrt(2 / (9 * c.inChannels)), uniform);
    layers.set(c.keras, { kernel, kernelShape: [3, 3, c.inChannels, c.outChannels], bias: new Float32Array(c.outChannels) });
  }
  return {
    layers,
    format: 'random',
    source: `random:${seed}`,
    random: true,
    info: { init: 'He normal: std sqrt(2/(9*in)), zero bias', generator: 'xoshiro128** + Box-Muller', seed: String(seed) },
  };
}
