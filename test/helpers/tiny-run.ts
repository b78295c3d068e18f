/** The tiny run the reliability, resume and writer tests share, and their polling helpers. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** 32 px on random VGG-19 weights, two style layers: an iteration takes milliseconds on wasm. */
export const TINY_RUN = {
  content: 'data/images/tubingen.jpg',
  style: ['data/images/starry_night.jpg'],
  weights: 'random:0',
  imageSize: 32,
  contentLayers: ['conv2_2'],
  styleLayers: ['conv1_1', 'conv2_1'],
  backend: 'wasm' as const,
  printEvery: 0,
};

/** Rows of a run folder's metrics.csv (0 before it exists). */
export function metricsRows(dir: string): number {
  const path = join(dir, 'metrics.csv');
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').length - 1 : 0;
}

/** Polls `cond` every 50 ms until it holds, failing after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
