/**
 * The feature-network registry end to end: names and taps checked before compute, the trained networks
 * that ship in the nsfwjs package, `auto`'s fallback, VGG-16 on the VGG code, and what a run records.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { resolveConfig } from '../src/lib/config';
import { NstError } from '../src/lib/errors';
import { installPackagedModel, packagedEntry } from '../src/lib/net/packaged-model';
import { RECOMMENDED_STYLE_WEIGHT } from '../src/lib/net/presets';
import { VGG16_LAYERS } from '../src/lib/net/vgg19';
import { writeKerasH5 } from '../src/lib/net/weights/keras-h5';
import { randomWeights } from '../src/lib/net/weights/random';
import { run } from '../src/lib/run/run';
import { expandSweep } from '../src/lib/sweep/expand';
import { parseSweepSpec } from '../src/lib/sweep/spec';
import { createSession } from '../src/lib/run/session';
import { parseMetricsCsv } from '../src/lib/run/store';

const out = mkdtempSync(join(tmpdir(), 'nst-networks-'));
const base = { content: 'data/images/tubingen.jpg', style: ['data/images/starry_night.jpg'], out, backend: 'wasm' as const, printEvery: 0 };
// `auto` must not reach the network in tests: a closed local port fails at once.
process.env.NST_VGG19_URL = 'http://127.0.0.1:9/vgg19.h5';

before(async () => {
  await initBackend('wasm');
});
after(() => rmSync(out, { recursive: true, force: true }));

const isNst = (pattern: RegExp) => (e: unknown) => e instanceof NstError && pattern.test(`${e.message}\n${e.hint ?? ''}`);

function nst(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/nst.mjs', ...args], { env: { ...process.env, NST_BACKEND: 'wasm' }, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('network names and taps are checked before compute', () => {
  it('an unknown network lists the known ones', async () => {
    await assert.rejects(createSession({ ...base, network: 'alexnet' }), isNst(/--network.*unknown network 'alexnet'[\s\S]*vgg19, vgg16, inception_v3, mobilenet_v2/));
  });

  it('a VGG tap the network lacks names the option and lists the taps', () => {
    assert.throws(() => resolveConfig({ ...base, network: 'vgg16', styleLayers: ['conv5_4'] }), isNst(/--style-layers[\s\S]*conv5_3/));
    assert.throws(() => resolveConfig({ ...base, network: 'vgg19', contentLayers: ['conv4_2', 'block4_conv2'] }), isNst(/--content-layers.*listed twice/));
  });

  it('an InceptionV3 tap it lacks is refused when the session opens the network, listing its taps', async () => {
    const before = tf.memory().numTensors;
    await assert.rejects(createSession({ ...base, network: 'inception_v3', styleLayers: ['conv1_1'], imageSize: 64 }), isNst(/--style-layers: inception_v3 has no layer 'conv1_1'[\s\S]*activation_1/));
    assert.equal(tf.memory().numTensors, before, 'a refused session leaves no tensors');
  });

  it('VGG weights are refused for a network that brings its own', async () => {
    await assert.rejects(createSession({ ...base, network: 'mobilenet_v2', weights: 'random:0' }), isNst(/--weights.*mobilenet_v2 brings its own weights/));
  });
});

describe('the trained networks in the nsfwjs package', () => {
  it('install into models/ as tfjs directories whose checksum the manifest pins', async () => {
    const dir = join(out, 'models');
    for (const name of ['inception_v3', 'mobilenet_v2']) {
      const r = await installPackagedModel(name, { dir });
      assert.ok(r.installed);
      assert.equal(r.sha256, packagedEntry(name)!.sha256);
      assert.ok(existsSync(join(dir, name, 'group1-shard1of' + (name === 'inception_v3' ? 6 : 1) + '.bin')));
      assert.equal((await installPackagedModel(name, { dir })).installed, false, 'a verified copy is reused');
    }
  });

  it('nst models inspect lists their taps with shapes, and nst models list where they are', async () => {
    const r = await nst(['models', 'inspect', 'inception_v3', '--size', '128', '--json']);
    // Taps deeper than a 128 px input allows are listed without a shape.
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    const mixed2 = report.taps.find((t: { name: string }) => t.name === 'mixed2');
    assert.deepEqual(mixed2.shape, [1, 13, 13, 288]);
    assert.equal(report.preprocessing, 'tf');
    assert.ok(!report.taps.some((t: { name: string }) => /dense|flatten/.test(t.name)), 'the classifier head is dropped');
    assert.equal(report.taps.find((t: { name: string }) => t.name === 'average_pooling2d_10').shape, null);
    const m = await nst(['models', 'inspect', 'mobilenet_v2', '--size', '96']);
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, /block_13_expand_relu\s+ReLU/);
    const list = JSON.parse((await nst(['models', 'list', '--json'])).stdout);
    assert.deepEqual(list.map((l: { name: string }) => l.name), ['vgg19', 'vgg16', 'inception_v3', 'mobilenet_v2']);
  });
});

describe('a 128 px run on InceptionV3', () => {
  let result: Awaited<ReturnType<typeof run>>;
  before(async () => {
    result = await run({ ...base, network: 'inception_v3', styleWeight: RECOMMENDED_STYLE_WEIGHT.inception_v3, imageSize: 128, iterations: 30, experiment: 'inception' }, { log: null, progress: false });
  });

  it('lowers every style term at least 10×', () => {
    const rows = parseMetricsCsv(readFileSync(join(result.dir, 'metrics.csv'), 'utf8'));
    for (const layer of ['activation_1', 'activation_3', 'activation_5', 'mixed0', 'mixed2']) {
      const first = rows[0]!.terms[`style/${layer}`]!;
      const last = result.final.terms[`style/${layer}`]!;
      assert.ok(last * 10 <= first, `style/${layer}: ${first} → ${last}`);
    }
  });

  it('records the network, taps, preprocessing and weights checksum in config.json', () => {
    const config = JSON.parse(readFileSync(join(result.dir, 'config.json'), 'utf8'));
    assert.equal(config.network, 'inception_v3');
    assert.deepEqual(config.contentLayers, ['mixed1']);
    assert.equal(config.networkResolved.preprocessing, 'tf');
    assert.equal(config.networkResolved.weights.sha256, packagedEntry('inception_v3')!.sha256);
    assert.deepEqual(config.networkResolved.taps.map((t: { name: string }) => t.name), ['mixed1', 'activation_1', 'activation_3', 'activation_5', 'mixed0', 'mixed2']);
    assert.equal(config.networkResolved.taps[1].position, 'after-activation');
  });

  it('keeps the tensor count flat across iterations (Adam)', async () => {
    const session = await createSession({ ...base, network: 'mobilenet_v2', imageSize: 64, optimizer: 'adam', iterations: 6 });
    try {
      const counts: number[] = [];
      for (let i = 0; i < 5; i++) {
        session.step();
        counts.push(tf.memory().numTensors);
      }
      assert.deepEqual(counts.slice(1), counts.slice(0, 4), `tensor counts ${counts.join(' ')}`);
    } finally {
      session.dispose();
    }
  });
});

describe('auto', () => {
  it('without VGG-19 runs on inception_v3 and says so on its first line', { skip: existsSync('models/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5') && 'a VGG-19 is installed in models/' }, async () => {
    const lines: string[] = [];
    const r = await run({ ...base, imageSize: 64, iterations: 1, experiment: 'auto' }, { log: (l) => lines.push(l), progress: false });
    assert.match(lines[0]!, /^network: no pretrained VGG-19 in .* download failed.*; using inception_v3 from nsfwjs@4\.4\.0/);
    assert.equal(r.network.name, 'inception_v3');
    assert.equal(r.randomWeights, false);
    // β = 1e3 was VGG-19's: the fallback network's own recommendation replaces it, and says so.
    assert.equal(r.config.styleWeight, RECOMMENDED_STYLE_WEIGHT.inception_v3);
    assert.ok(lines.some((l) => /^note: styleWeight 300000: inception_v3's recommended β/.test(l)), lines.join('\n'));
    // The same request again (as a second `npm start`) finds its own folder: what ran differs from what
    // was asked (presets bound to taps, β replaced), and config.json keeps both.
    const again = await run({ ...base, imageSize: 64, iterations: 1, experiment: 'auto' }, { log: () => {}, progress: false });
    assert.equal(again.dir, r.dir);
    assert.deepEqual(again.config.styleLayers, r.config.styleLayers);
  });

  it('stays on VGG-19 (random weights, saying why) when the layers name VGG-19 taps', async () => {
    const lines: string[] = [];
    await run({ ...base, imageSize: 32, iterations: 1, styleLayers: ['conv1_1'], contentLayers: ['conv2_1'], experiment: 'auto-vgg' }, { log: (l) => lines.push(l), progress: false });
    assert.match(lines[0]!, /^network: vgg19, random:0 — RANDOM WEIGHTS/);
    assert.match(lines[1]!, /the layers name VGG-19 taps/);
  });
});

describe('VGG-16 on the VGG code', () => {
  it('runs from a Keras VGG-16 file and offers conv5_3 but not conv5_4', async () => {
    const all = randomWeights(5);
    const vgg16 = { layers: new Map([...all.layers].filter(([k]) => VGG16_LAYERS.some((l) => l.keras === k))) };
    const file = join(out, 'vgg16.h5');
    await writeKerasH5(vgg16, file);
    const session = await createSession({ ...base, network: 'vgg16', weights: file, imageSize: 32, styleLayers: ['conv5_3'], contentLayers: ['conv4_3'] });
    try {
      assert.equal(session.net.name, 'vgg16');
      assert.equal(session.net.minInputSize(['conv5_3']), 16);
      assert.ok(Number.isFinite(session.step().total));
    } finally {
      session.dispose();
    }
    assert.throws(() => resolveConfig({ ...base, network: 'vgg16', weights: file, styleLayers: ['conv5_4'] }), isNst(/VGG-16 layer 'conv5_4'/));
  });
});

describe('sweeps', () => {
  it('sweep the network like any other key, each run resolving its own presets', () => {
    const spec = parseSweepSpec({ name: 'nets', base: { ...base, imageSize: 32, iterations: 1 }, parameters: { network: { values: ['vgg19', 'inception_v3', 'mobilenet_v2'] } } });
    const sweep = expandSweep(spec);
    assert.deepEqual(sweep.runs.map((r) => r.config.network), ['vgg19', 'inception_v3', 'mobilenet_v2']);
    assert.equal(new Set(sweep.runs.map((r) => r.id)).size, 3);
    assert.deepEqual(sweep.runs[0]!.config.styleLayers, ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1']);
    // Networks whose taps are known only once opened keep the preset name until the session binds it.
    assert.deepEqual(sweep.runs[1]!.config.styleLayers, ['style']);
  });
});
