/**
 * The perceptual controls (Gatys et al. 2017) wired into sessions and runs: the luminance
 * parameterisation and colour controls (§5), loss groups as data, spatial control with two regions
 * (§4) and coarse-to-fine (§6). Tiny runs on random VGG-19 weights and wasm: 32–64 px.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { colourControlledInputs } from '../src/lib/colour/control';
import { rgbToYiq } from '../src/lib/colour/yiq';
import { resolveConfig } from '../src/lib/config';
import { NstError } from '../src/lib/errors';
import { loadImage } from '../src/lib/image/io';
import { run } from '../src/lib/run/run';
import { createSession } from '../src/lib/run/session';
import { parseMetricsCsv, RUN_FILES } from '../src/lib/run/store';
import { TINY_RUN } from './helpers/tiny-run';

await initBackend('wasm');

const tmp = mkdtempSync(join(tmpdir(), 'nst-controls-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Host copy of a tensor made for the purpose. */
function host(make: () => tf.Tensor): Float32Array {
  const t = tf.tidy(make);
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

/** Mean and population covariance of an RGB image's pixels, in float64 on the host. */
function colourMoments(rgb: Float32Array): { mean: number[]; cov: number[][] } {
  const n = rgb.length / 3;
  const mean = [0, 1, 2].map((k) => rgb.filter((_, i) => i % 3 === k).reduce((s, v) => s + v, 0) / n);
  const cov = [0, 1, 2].map((a) => [0, 1, 2].map((b) => {
    let s = 0;
    for (let p = 0; p < n; p++) s += (rgb[3 * p + a]! - mean[a]!) * (rgb[3 * p + b]! - mean[b]!);
    return s / n;
  }));
  return { mean, cov };
}

describe('colour controls (§5)', () => {
  for (const colourMethod of ['cholesky', 'eigen'] as const) {
    it(`histogram (${colourMethod}): the style images the targets see have the content's colour mean and covariance`, async () => {
      const content = await loadImage('data/images/tubingen.jpg', { size: [24, 32] });
      const styles = [await loadImage('data/images/starry_night.jpg', { size: [20, 30] }), await loadImage('data/images/the_scream.jpg', { size: [28, 22] })];
      const out = colourControlledInputs({ colour: 'histogram', colourMethod, originalColours: 'none' }, content, styles);
      const want = colourMoments(content.dataSync() as Float32Array);
      for (const s of out.styles) {
        const got = colourMoments(s.dataSync() as Float32Array);
        // 1e-4 in 0..1 units: 1e-4·255 for means, 1e-4·255² for covariances.
        for (let a = 0; a < 3; a++) {
          assert.ok(Math.abs(got.mean[a]! - want.mean[a]!) < 1e-4 * 255, `mean ${a}: ${got.mean[a]} vs ${want.mean[a]}`);
          for (let b = 0; b < 3; b++) assert.ok(Math.abs(got.cov[a]![b]! - want.cov[a]![b]!) < 1e-4 * 255 ** 2, `cov ${a}${b}: ${got.cov[a]![b]} vs ${want.cov[a]![b]}`);
        }
      }
      tf.dispose([content, ...styles, out.content, ...out.styles]);
    });
  }

  it('refuses colour controls and the luminance parameterisation without a content image', () => {
    for (const bad of [{ colour: 'luminance' }, { param: 'luminance' }, { originalColours: 'eigen' }] as const) {
      assert.throws(() => resolveConfig({ style: ['data/images/starry_night.jpg'], ...bad }), (e: unknown) => e instanceof NstError && /needs a content image/.test(e.message));
    }
  });

  it('luminance-only transfer: the result has the content\'s I and Q, the raw result and the chroma error are kept', async () => {
    const r = await run({ ...TINY_RUN, out: tmp, experiment: 'luminance', colour: 'luminance', param: 'luminance', iterations: 4 }, { log: null });
    const summary = JSON.parse(readFileSync(join(r.dir, RUN_FILES.summary), 'utf8'));
    assert.ok(existsSync(join(r.dir, 'final-raw.png')), 'final-raw.png');
    const final = await loadImage(join(r.dir, RUN_FILES.final), {});
    const [, h, w] = final.shape;
    const content = await loadImage(TINY_RUN.content, { size: [h, w] });
    // IQ of the saved final against the content's, up to 8-bit rounding (and clipping, which only grey-ish content escapes).
    const iq = (img: tf.Tensor4D) => host(() => tf.slice(rgbToYiq(img), [0, 0, 0, 1], [1, h, w, 2]));
    const [a, b] = [iq(final), iq(content)];
    const rms = Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0) / (h * w));
    assert.ok(rms < 2, `IQ RMS difference ${rms}`);
    // Before saving, the recombination is exact: the summary's chroma error is float32 rounding.
    assert.ok(summary.chromaError < 1e-3, `summary chromaError ${summary.chromaError}`);
    assert.ok(summary.rawChromaError > 1, `the raw (grey) result's chroma error ${summary.rawChromaError}`);
    tf.dispose([final, content]);
  });
});

describe('the luminance parameterisation in a session', () => {
  it('optimises Y only, keeps the content\'s colours, and checkpoints its variable', async () => {
    const cfg = { ...TINY_RUN, param: 'luminance' as const, iterations: 6 };
    const a = await createSession(cfg);
    const b = await createSession(cfg);
    try {
      for (let i = 0; i < 2; i++) a.step();
      const cp = a.checkpoint();
      assert.deepEqual(cp.variable.shape.slice(3), [1]);
      for (let i = 0; i < 2; i++) a.step();
      b.restore(cp);
      for (let i = 0; i < 2; i++) b.step();
      assert.deepEqual(host(() => b.image()), host(() => a.image()), 'a restored session continues bit for bit');
      const img = a.image();
      assert.ok(a.chromaError(img)! < 1e-3, `chroma error ${a.chromaError(img)}`);
      img.dispose();
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});
