/** Image files ↔ tensors: sizes, a lossless round trip, and clear errors. */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { initBackend } from '../src/lib/backend';
import { NstError } from '../src/lib/errors';
import { fitLongerSide, loadImage, saveImage } from '../src/lib/image/io';

const dir = mkdtempSync(join(tmpdir(), 'nst-image-'));

before(async () => {
  await initBackend('wasm');
});

describe('image I/O', () => {
  it('resizes so that the longer side is N, keeping proportions', async () => {
    const t = await loadImage('data/images/tubingen.jpg', { maxSide: 128 }); // 1024×768
    assert.deepEqual(t.shape, [1, 96, 128, 3]);
    const max = t.max().dataSync()[0]!;
    assert.ok(max > 100 && max <= 255, `pixel range 0..255, max ${max}`);
    t.dispose();
    assert.deepEqual(fitLongerSide(1528, 1200, 512), [512, 402]);
  });

  it('resizes to an exact size, and loads WebP', async () => {
    const webp = join(dir, 'a.webp');
    await sharp('data/images/the_scream.jpg').resize(40, 30).webp({ lossless: true }).toFile(webp);
    const t = await loadImage(webp, { size: [20, 33] });
    assert.deepEqual(t.shape, [1, 20, 33, 3]);
    t.dispose();
  });

  it('saves PNG losslessly and atomically', async () => {
    const values = Array.from({ length: 4 * 5 * 3 }, (_, i) => (i * 37) % 256);
    const t = tf.tensor4d(values, [1, 4, 5, 3]);
    const path = join(dir, 'sub', 'x.png');
    await saveImage(t, path);
    const back = await loadImage(path);
    assert.deepEqual(Array.from(back.dataSync()), values);
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['x.png'], 'no temporary file is left behind');
    tf.dispose([t, back]);
  });

  it('a missing or corrupt image gives a clear error naming it', async () => {
    await assert.rejects(loadImage(join(dir, 'missing.png')), (e: unknown) => e instanceof NstError && /missing\.png/.test(e.message));
    const bad = join(dir, 'corrupt.jpg');
    writeFileSync(bad, Buffer.from('not really a jpeg'));
    await assert.rejects(loadImage(bad), (e: unknown) => e instanceof NstError && /corrupt\.jpg/.test(e.message));
    assert.ok(existsSync(bad));
  });
});
