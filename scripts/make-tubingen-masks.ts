/**
 * Makes the sky / town mask pair of the Neckarfront photo (data/masks/tubingen_sky.png and
 * tubingen_town.png, 1024×768, white = region) from data/images/tubingen.jpg, reproducibly:
 *
 * 1. sky candidates: blue pixels, B ≥ 130 and B − R ≥ 40 (the open sky is B ≈ 180–195 with
 *    B − R ≈ 75–105, sky seen through the tree's outer twigs B ≈ 150 with B − R ≈ 50; roofs, walls,
 *    the tree's trunk and the water fail one or both);
 * 2. keep the candidates 4-connected to the top row (drops blue windows and the river's reflections);
 * 3. morphological closing with a 15×15 square (dilate, then erode: guides/propagate), which absorbs
 *    the thin twigs, antennas and the spire's tip into the sky;
 * 4. fill holes: non-sky pixels not 4-connected to the left, right or bottom border become sky.
 * The town mask is the complement. Run: node --import tsx scripts/make-tubingen-masks.ts
 */
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { initBackend } from '../src/lib/backend';
import { dilate, erode } from '../src/lib/guides/propagate';

const SOURCE = 'data/images/tubingen.jpg';
const OUT = 'data/masks';
const CLOSING = 15;

/** Pixels of `mask` (0/1) reachable from `seeds` through pixels where mask = `value` (4-connected). */
function reachable(mask: Uint8Array, w: number, h: number, value: number, seeds: number[]): Uint8Array {
  const seen = new Uint8Array(w * h);
  const stack = seeds.filter((p) => mask[p] === value);
  for (const p of stack) seen[p] = 1;
  while (stack.length > 0) {
    const p = stack.pop()!;
    const x = p % w;
    for (const q of [p - w, p + w, x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1]) {
      if (q >= 0 && q < w * h && !seen[q] && mask[q] === value) {
        seen[q] = 1;
        stack.push(q);
      }
    }
  }
  return seen;
}

const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

async function main(): Promise<void> {
  await initBackend('wasm');
  const { data, info } = await sharp(SOURCE).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width: w, height: h } = info;
  const candidates = new Uint8Array(w * h);
  for (let p = 0; p < w * h; p++) {
    const [r, b] = [data[p * 3]!, data[p * 3 + 2]!];
    candidates[p] = b >= 130 && b - r >= 40 ? 1 : 0;
  }
  const sky = reachable(candidates, w, h, 1, range(w, (x) => x));
  const closed = tf.tidy(() => erode(dilate(tf.tensor2d(Float32Array.from(sky), [h, w]), CLOSING), CLOSING));
  const closedSky = Uint8Array.from(closed.dataSync(), (v) => (v >= 0.5 ? 1 : 0));
  closed.dispose();
  const border = [...range(h, (y) => y * w), ...range(h, (y) => y * w + w - 1), ...range(w, (x) => (h - 1) * w + x)];
  const town = reachable(closedSky, w, h, 0, border);
  const write = (mask: Uint8Array, name: string) =>
    sharp(Buffer.from(mask.map((v) => v * 255)), { raw: { width: w, height: h, channels: 1 } }).png().toFile(`${OUT}/${name}`);
  await write(town.map((v) => 1 - v), 'tubingen_sky.png');
  await write(town, 'tubingen_town.png');
  const skyShare = 1 - town.reduce((s, v) => s + v, 0) / (w * h);
  console.log(`${OUT}/tubingen_sky.png, ${OUT}/tubingen_town.png: ${w}×${h}, sky ${(100 * skyShare).toFixed(1)}%`);
}

await main();
