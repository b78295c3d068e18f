/**
 * Guides from image files: a mask per region, at an image's size, values in 0..1. Two ways to draw them:
 * - one file per region (`loadGuides({ sky: 'sky.png', town: 'town.png' })`): white is the region,
 *   black is not, grey is a soft edge (the mean of R, G, B over 255);
 * - one colour-coded file (`loadColourGuides('regions.png', { sky: '#0000ff', town: '#ff0000' })`):
 *   every pixel belongs to the region whose listed colour is nearest (Euclidean in RGB), so JPEG noise
 *   and anti-aliased edges still land in a region; the masks are made at the file's resolution and then
 *   area-averaged to the image size, which gives soft edges where regions meet.
 * Masks need not cover the image (unguided pixels get no style term) and may overlap. A region whose
 * mask is empty is refused, naming the file.
 */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';
import { readPixels } from '../image/io';
import { guideCoverage } from './guided-gram';
import { areaResize } from './propagate';

/** One mask [H,W] per region name, at an image's size. */
export type Guides = Readonly<Record<string, tf.Tensor2D>>;

export function disposeGuides(guides: Guides): void {
  for (const mask of Object.values(guides)) mask.dispose();
}

function refuseEmpty(mask: tf.Tensor2D, region: string, source: string): void {
  if (guideCoverage(mask) === 0) {
    throw new NstError(`guide '${region}' (${source}) is empty: no pixel belongs to the region`, 'draw the region in white (or its colour) on black, at the image\'s aspect ratio');
  }
}

/** A single region's mask file (white = region) at [height, width]. */
export async function loadGuide(path: string, size: readonly [number, number], region = path): Promise<tf.Tensor2D> {
  const { data, height, width } = await readPixels(path, { size: [size[0], size[1]] });
  const mask = new Float32Array(height * width);
  for (let p = 0; p < mask.length; p++) mask[p] = (data[p * 3]! + data[p * 3 + 1]! + data[p * 3 + 2]!) / (3 * 255);
  const t = tf.tensor2d(mask, [height, width]);
  try {
    refuseEmpty(t, region, path);
  } catch (e) {
    t.dispose();
    throw e;
  }
  return t;
}

/** One mask file per region, each at [height, width]. */
export async function loadGuides(files: Readonly<Record<string, string>>, size: readonly [number, number]): Promise<Guides> {
  const out: Record<string, tf.Tensor2D> = {};
  try {
    for (const [region, path] of Object.entries(files)) out[region] = await loadGuide(path, size, region);
  } catch (e) {
    disposeGuides(out);
    throw e;
  }
  return out;
}

/** `#rrggbb` → [r, g, b]. */
export function parseHexColour(text: string, what: string): [number, number, number] {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(text.trim());
  if (!m) throw new NstError(`${what}: '${text}' is not a colour`, 'write colours as #rrggbb, e.g. #0000ff for blue');
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
}

/** Regions of a colour-coded mask file, each pixel to the nearest listed colour, at [height, width]. */
export async function loadColourGuides(
  path: string,
  colours: Readonly<Record<string, string>>,
  size: readonly [number, number],
): Promise<Guides> {
  const regions = Object.keys(colours);
  if (regions.length === 0) throw new NstError(`guide file ${path}: no region colours given`, 'map each region name to its colour, e.g. { sky: "#0000ff", town: "#ff0000" }');
  const palette = regions.map((r) => parseHexColour(colours[r]!, `colour of region '${r}'`));
  const { data, height, width } = await readPixels(path);
  const masks = regions.map(() => new Float32Array(height * width));
  for (let p = 0; p < height * width; p++) {
    let best = 0;
    let bestDistance = Infinity;
    palette.forEach(([r, g, b], k) => {
      const d = (data[p * 3]! - r) ** 2 + (data[p * 3 + 1]! - g) ** 2 + (data[p * 3 + 2]! - b) ** 2;
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    });
    masks[best]![p] = 1;
  }
  const out: Record<string, tf.Tensor2D> = {};
  try {
    regions.forEach((region, k) => {
      out[region] = tf.tidy(() => areaResize(tf.tensor2d(masks[k]!, [height, width]), size));
      refuseEmpty(out[region]!, region, `${path}, colour ${colours[region]}`);
    });
  } catch (e) {
    disposeGuides(out);
    throw e;
  }
  return out;
}
