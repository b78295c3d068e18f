/**
 * Image files ↔ tensors, through sharp (libvips). Tensors are [1,H,W,3] float32 RGB in 0..255.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { NstError } from '../errors';

export interface LoadOptions {
  /** Resize (bilinear) so that the longer side is this many pixels. */
  maxSide?: number;
  /** Resize (bilinear) to exactly [height, width]. Wins over maxSide. */
  size?: [number, number];
}

/** The [height, width] an image of h×w gets when its longer side becomes maxSide. */
export function fitLongerSide(h: number, w: number, maxSide: number): [number, number] {
  const scale = maxSide / Math.max(h, w);
  return [Math.max(1, Math.round(h * scale)), Math.max(1, Math.round(w * scale))];
}

function checkExists(path: string): void {
  if (!existsSync(path)) throw new NstError(`image not found: ${path}`, 'check the path (relative paths are from the current directory)');
}

/**
 * The size of an image as a viewer shows it, from its header alone: EXIF orientations 5–8 (a phone
 * held upright) swap width and height.
 */
export async function readImageSize(path: string): Promise<{ height: number; width: number }> {
  checkExists(path);
  try {
    const meta = await sharp(path).metadata();
    return { height: meta.autoOrient.height, width: meta.autoOrient.width };
  } catch (e) {
    throw new NstError(`cannot read image ${path}: ${(e as Error).message}`, 'give a JPEG, PNG or WebP file');
  }
}

/**
 * Decodes JPEG/PNG/WebP (and what else libvips reads) into 8-bit sRGB pixels, resized as asked, as a
 * viewer shows the file: turned by its EXIF orientation, transparent parts over white, CMYK and
 * greyscale converted to sRGB (through the embedded colour profile, if any), 16-bit scaled to 8.
 */
export async function readPixels(path: string, opts: LoadOptions = {}): Promise<{ data: Uint8Array; height: number; width: number }> {
  const { height, width } = await readImageSize(path);
  let img = sharp(path, { failOn: 'error' }).autoOrient().flatten({ background: '#ffffff' }).toColourspace('srgb');
  try {
    const target = opts.size ?? (opts.maxSide ? fitLongerSide(height, width, opts.maxSide) : undefined);
    const unchanged = target && target[0] === height && target[1] === width;
    if (target && !unchanged) img = img.resize(target[1], target[0], { fit: 'fill', kernel: 'linear' });
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width };
  } catch (e) {
    throw new NstError(`cannot read image ${path}: ${(e as Error).message}`, 'give a JPEG, PNG or WebP file');
  }
}

export async function loadImage(path: string, opts: LoadOptions = {}): Promise<tf.Tensor4D> {
  const { data, height, width } = await readPixels(path, opts);
  return tf.tidy(() => tf.tensor4d(data, [1, height, width, 3], 'int32').toFloat());
}

/** PNG bytes of a [1,H,W,3] (or [H,W,3]) RGB 0..255 tensor, clipped and rounded. */
export async function encodePng(image: tf.Tensor): Promise<Buffer> {
  const [h, w] = image.shape.slice(-3, -1) as [number, number];
  const pixels = tf.tidy(() => tf.clipByValue(image, 0, 255).round().toInt());
  const data = Uint8Array.from(await pixels.data());
  pixels.dispose();
  return sharp(Buffer.from(data.buffer), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

/**
 * Writes bytes so that `path` either does not exist or is complete: a killed process never leaves a
 * half-written file under the final name.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Saves a [1,H,W,3] RGB 0..255 tensor as PNG, atomically. */
export async function saveImage(image: tf.Tensor, path: string): Promise<void> {
  await writeFileAtomic(path, await encodePng(image));
}
