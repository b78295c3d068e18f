/**
 * The perceptual controls (Gatys et al. 2017) wired into sessions and runs: the luminance
 * parameterisation and colour controls (§5), loss groups as data, spatial control with two regions
 * (§4) and coarse-to-fine (§6). Tiny runs on random VGG-19 weights and wasm: 32–64 px.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { initBackend } from '../src/lib/backend';
import { colourControlledInputs } from '../src/lib/colour/control';
import { rgbToYiq } from '../src/lib/colour/yiq';
import { resolveConfig } from '../src/lib/config';
import { NstError } from '../src/lib/errors';
import { loadImage } from '../src/lib/image/io';
import { run } from '../src/lib/run/run';
import { scaleControlledStyle } from '../src/lib/run/scale-control';
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

/** Two regions of the Neckarfront photo, each with its own style. */
const REGIONS = [
  { name: 'sky', contentMask: 'data/masks/tubingen_sky.png', style: ['data/images/starry_night.jpg'] },
  { name: 'town', contentMask: 'data/masks/tubingen_town.png', style: ['data/images/the_scream.jpg'], styleWeight: 2 },
];
/** The tiny run without its style: with regions, the style images are the regions'. */
const { style: _style, ...TINY_REGIONS } = TINY_RUN;

describe('spatial control (§4) and loss groups as data', () => {
  it('two regions, two styles: every region\'s style term falls ≥10× in 30 L-BFGS iterations at 64 px', async () => {
    const s = await createSession({ ...TINY_REGIONS, imageSize: 64, regions: REGIONS, guidePropagation: 'inside' });
    try {
      assert.deepEqual(s.groupNames, ['content', 'style', 'style/sky', 'style/town', 'tv']);
      assert.deepEqual(s.termNames.filter((t) => t.startsWith('style/')), ['style/sky/conv1_1', 'style/sky/conv2_1', 'style/town/conv1_1', 'style/town/conv2_1']);
      const first = s.step();
      for (let i = 1; i < 30; i++) s.step();
      const last = s.score().logs;
      for (const region of ['sky', 'town']) {
        const ratio = first.groups![`style/${region}`]! / last.groups![`style/${region}`]!;
        assert.ok(ratio >= 10, `style/${region} fell ${ratio.toFixed(1)}×`);
      }
      // The groups follow the tree: the regions make up the style group, and the three top groups the total.
      for (const l of [first, last]) {
        const g = l.groups!;
        assert.ok(Math.abs(g['style/sky']! + g['style/town']! - g.style!) <= 1e-5 * g.style!, 'regions sum to style');
        assert.ok(Math.abs(g.content! + g.style! + g.tv! - l.total) <= 1e-5 * l.total, 'groups sum to total');
        // β·(1·Σ_l w_l E_sky,l + 2·Σ_l w_l E_town,l), w_l = 1/2 (gatys2016).
        const byTerms = 1e3 * 0.5 * (l.terms['style/sky/conv1_1']! + l.terms['style/sky/conv2_1']! + 2 * (l.terms['style/town/conv1_1']! + l.terms['style/town/conv2_1']!));
        assert.ok(Math.abs(byTerms - g.style!) <= 1e-4 * g.style!, `style group ${g.style} vs terms ${byTerms}`);
      }
    } finally {
      s.dispose();
    }
  });

  it('a run logs each region\'s group and terms as metrics.csv columns, and reads them back', async () => {
    const r = await run({ ...TINY_REGIONS, out: tmp, experiment: 'regions', regions: REGIONS, iterations: 2 }, { log: null });
    const header = readFileSync(join(r.dir, RUN_FILES.metrics), 'utf8').split('\n')[0]!;
    assert.equal(header, 'iteration,elapsed_ms,evaluations,total,content,style,style/sky,style/town,tv,content/conv2_2,style/sky/conv1_1,style/sky/conv2_1,style/town/conv1_1,style/town/conv2_1,tv/image');
    const rows = parseMetricsCsv(readFileSync(join(r.dir, RUN_FILES.metrics), 'utf8'));
    assert.equal(rows.length, 3);
    assert.deepEqual(Object.keys(rows[2]!.groups!), ['content', 'style', 'style/sky', 'style/town', 'tv']);
    assert.equal(rows[2]!.groups!['style/sky'], r.final.groups!['style/sky']);
    assert.ok(!('style/sky' in rows[2]!.terms));
  });

  it('refuses a region that vanishes at a tap, and style losses other than the Gram matrix', async () => {
    await assert.rejects(createSession({ ...TINY_REGIONS, regions: REGIONS, styleLoss: 'w2' }), (e: unknown) => e instanceof NstError && /Gram/.test(e.message));
    assert.throws(() => resolveConfig({ ...TINY_RUN, style: ['data/images/shipwreck.jpg'], regions: REGIONS }), (e: unknown) => e instanceof NstError && /regions/.test(e.message));
    // An 8 px square of a 64 px mask is 4 px at 32 px: conv2_1's 10 px receptive field does not fit in it.
    const spot = join(tmp, 'spot.png');
    const pixels = Buffer.alloc(64 * 48 * 3);
    for (let y = 20; y < 28; y++) for (let x = 28; x < 36; x++) pixels.fill(255, 3 * (y * 64 + x), 3 * (y * 64 + x) + 3);
    await sharp(pixels, { raw: { width: 64, height: 48, channels: 3 } }).png().toFile(spot);
    const spotted = [{ name: 'spot', contentMask: spot, style: ['data/images/starry_night.jpg'] }];
    await assert.rejects(createSession({ ...TINY_REGIONS, guidePropagation: 'inside', regions: spotted }), (e: unknown) => e instanceof NstError && /region 'spot' of the content image vanishes at conv2_1/.test(e.message));
    const simple = await createSession({ ...TINY_REGIONS, guidePropagation: 'simple', regions: spotted });
    simple.dispose();
  });
});

describe('coarse-to-fine (§6)', () => {
  const { imageSize: _size, ...tiny } = TINY_RUN;
  const cfg = { ...tiny, schedule: [32, 64], stageIterations: [5], saveEvery: 5, out: tmp };

  it('runs the stages in one folder: a stage column, one row per iterate of every stage, one snapshot series', async () => {
    const r = await run({ ...cfg, experiment: 'c2f' }, { log: null });
    const rows = parseMetricsCsv(readFileSync(join(r.dir, RUN_FILES.metrics), 'utf8'));
    assert.ok(readFileSync(join(r.dir, RUN_FILES.metrics), 'utf8').startsWith('stage,iteration,'));
    assert.deepEqual(rows.map((l) => [l.stage, l.iteration]), [0, 1].flatMap((st) => [0, 1, 2, 3, 4, 5].map((i) => [st, i])));
    for (const f of ['snapshots/iter_00005.png', 'snapshots/iter_00010.png', 'final.png']) assert.ok(existsSync(join(r.dir, f)), f);
    const final = await loadImage(r.finalImage, {});
    assert.deepEqual(final.shape.slice(1, 3), [48, 64]);
    final.dispose();
    // Stage 2 starts from the upsampled stage-1 result: below where a 64 px run from noise starts.
    const fresh = await createSession({ ...TINY_RUN, imageSize: 64 });
    const fromNoise = fresh.score().logs.total;
    fresh.dispose();
    const stage2 = rows.find((l) => l.stage === 1 && l.iteration === 0)!;
    assert.ok(stage2.total < fromNoise, `stage 2 starts at ${stage2.total}, a 64 px run from noise at ${fromNoise}`);
  });

  it('an interrupted multi-stage run continues in its unfinished stage to the uninterrupted image', async () => {
    const whole = await run({ ...cfg, experiment: 'c2f-whole' }, { log: null });
    const cut = { ...cfg, experiment: 'c2f-cut' };
    const controller = new AbortController();
    const first = await run(cut, { log: null, signal: controller.signal, callbacks: { onStepEnd: (l) => void (l.stage === 1 && l.iteration === 2 && controller.abort()) } });
    assert.equal(first.stopReason, 'interrupted');
    const second = await run(cut, { log: null });
    assert.equal(second.stopReason, 'completed');
    assert.equal(second.resumedFrom, 3);
    const rows = parseMetricsCsv(readFileSync(join(second.dir, RUN_FILES.metrics), 'utf8'));
    assert.deepEqual(rows.map((l) => [l.stage, l.iteration]), [0, 1].flatMap((st) => [0, 1, 2, 3, 4, 5].map((i) => [st, i])));
    assert.deepEqual(readFileSync(second.finalImage), readFileSync(whole.finalImage));
  });

  it('refuses schedules that do not increase and an image size other than the last stage\'s', () => {
    assert.throws(() => resolveConfig({ ...tiny, schedule: [64, 32] }), /must increase/);
    assert.throws(() => resolveConfig({ ...tiny, schedule: [32, 64], imageSize: 128 }), /last size/);
    assert.throws(() => resolveConfig({ ...tiny, stageIterations: [3] }), /needs a --schedule/);
    assert.equal(resolveConfig({ ...tiny, schedule: [32, 64] }).imageSize, 64);
  });

  it('refuses, before any compute, a first stage too small for the layers', async () => {
    await assert.rejects(run({ ...cfg, schedule: [1, 64], experiment: 'c2f-small' }, { log: null }), (e: unknown) => e instanceof NstError && /^the first --schedule size 1: .* too small for conv2_/.test(e.message));
    assert.ok(!existsSync(join(tmp, 'c2f-small')) || readdirSync(join(tmp, 'c2f-small')).every((d) => !existsSync(join(tmp, 'c2f-small', d, RUN_FILES.metrics))), 'no half-written run folder');
  });
});

describe('scale control (§6)', () => {
  it('makes the new style image by texture synthesis of the fine style\'s low layers, started from the coarse style', async () => {
    const fine = 'data/images/starry_night.jpg';
    const made = await scaleControlledStyle({ fineStyle: fine, coarseStyle: 'data/images/the_scream.jpg' }, { weights: 'random:0', imageSize: 32, iterations: 3, backend: 'wasm', out: tmp, printEvery: 0 }, { log: null });
    assert.equal(made.stopReason, 'completed');
    assert.deepEqual(made.config.styleLayers, ['conv1_1', 'conv2_1']);
    assert.deepEqual(made.config.style, [fine]);
    assert.equal(made.config.init, 'data/images/the_scream.jpg');
    // Started from the coarse style, a few iterations keep its layout: the image is nearer to it than to the fine style.
    const img = await loadImage(made.finalImage, {});
    const [, h, w] = img.shape;
    const rms = async (path: string) => {
      const other = await loadImage(path, { size: [h, w] });
      const d = host(() => tf.sqrt(tf.mean(tf.square(tf.sub(img, other)))));
      other.dispose();
      return d[0]!;
    };
    const [toCoarse, toFine] = [await rms('data/images/the_scream.jpg'), await rms(fine)];
    img.dispose();
    assert.ok(toCoarse < toFine, `RMS to the coarse style ${toCoarse}, to the fine style ${toFine}`);
    const transfer = await run({ ...TINY_RUN, style: [made.finalImage], iterations: 1, out: tmp, experiment: 'scale' }, { log: null });
    assert.equal(transfer.stopReason, 'completed');
  });
});

describe('tensor hygiene with the controls', () => {
  it('luminance parameterisation, colour control and regions: the tensor count does not grow, and dispose frees all', async () => {
    const before = tf.memory().numTensors;
    const s = await createSession({ ...TINY_REGIONS, regions: REGIONS, param: 'luminance', colour: 'histogram', historySize: 3 });
    try {
      const counts: number[] = [];
      for (let i = 0; i < 7; i++) {
        s.step();
        counts.push(tf.memory().numTensors);
      }
      // L-BFGS holds history pairs until its history is full (3 here); after that nothing may grow.
      assert.deepEqual(counts.slice(4), counts.slice(4).map(() => counts[4]), `counts: ${counts.join(',')}`);
      tf.dispose([s.result(), s.image()]);
      s.score();
      assert.equal(tf.memory().numTensors, counts[4]);
    } finally {
      s.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
  });
});
