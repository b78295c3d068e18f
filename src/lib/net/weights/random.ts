/**
 * `random:SEED`: untrained VGG-19 weights for offline smoke runs and tests. He-normal kernels
 * (He et al. 2015: std √(2/fan_in), fan_in = 9·in) and zero biases, from a seeded generator in plain
 * JavaScript so that the same seed gives the same weights on every backend and machine. Every output
 * that uses them says RANDOM WEIGHTS: results are not comparable to the papers'.
 */
import { NstError } from '../../errors';
import { createRng, fillNormal } from '../../rng';
import { VGG19_CONVS } from '../vgg19';
import type { ConvWeights, VggWeights } from './types';

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
  const uniform = createRng(seed);
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
