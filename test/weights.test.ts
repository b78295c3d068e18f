/**
 * VGG-19 weight loading: Keras HDF5 (both namings, truncated networks, files written by h5py), tfjs
 * layers directories, random:SEED, auto, the md5-checked download, error messages, and Gatys'
 * normalisation. Files are written by independent writers (h5wasm directly, h5py, tfjs' own save).
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { NstError } from '../src/lib/errors';
import { preprocess } from '../src/lib/net/preprocess';
import { createVgg19, type VggNetwork } from '../src/lib/net/vgg';
import { VGG19_CONVS, VGG19_LAYERS, type ConvSpec } from '../src/lib/net/vgg19';
import { fetchModel, modelEntry } from '../src/lib/net/weights/fetch';
import { writeKerasH5 } from '../src/lib/net/weights/keras-h5';
import { loadWeights } from '../src/lib/net/weights/load';
import { normalizeVgg19 } from '../src/lib/net/weights/normalize';
import { randomWeights } from '../src/lib/net/weights/random';
import type { VggWeights } from '../src/lib/net/weights/types';
import { describeHeld, requireLayers } from '../src/lib/net/weights/validate';
import { reference, referenceSkip } from './helpers/reference';
import { fixtureLayers, lcg, python, writeFixtureH5, writePlainH5, type FixtureLayer } from './helpers/weights-h5';

const tmp = mkdtempSync(join(tmpdir(), 'nst-weights-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  await initBackend('wasm');
});

const sha256Of = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const md5Of = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

/** Asserts that `fn` rejects with an NstError whose message + hint contain every string. */
async function rejectsWith(fn: () => Promise<unknown>, ...needles: string[]): Promise<NstError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof NstError, `expected an NstError, got ${e instanceof Error ? e.stack : String(e)}`);
    for (const n of needles) assert.ok(e.toString().includes(n), `error ${JSON.stringify(e.toString())} should mention ${JSON.stringify(n)}`);
    return e;
  }
  assert.fail('expected an error');
}

function assertSameLayers(weights: VggWeights, expected: FixtureLayer[]): void {
  assert.deepEqual([...weights.layers.keys()], expected.map((l) => l.keras));
  for (const l of expected) {
    const w = weights.layers.get(l.keras)!;
    assert.deepEqual(w.kernelShape, l.kernelShape, l.keras);
    assert.deepEqual(w.kernel, l.kernel, `${l.keras} kernel`);
    assert.deepEqual(w.bias, l.bias, `${l.keras} bias`);
  }
}

describe('Keras HDF5 weights', () => {
  const block2 = fixtureLayers(4);

  for (const naming of ['keras1', 'keras2'] as const) {
    it(`reads a VGG-19 truncated after block2, ${naming} naming, exactly as written`, async () => {
      const path = join(tmp, `block2-${naming}.h5`);
      await writeFixtureH5(path, block2, { naming });
      const w = await loadWeights(path);
      assertSameLayers(w, block2);
      assert.equal(w.format, 'keras-h5');
      assert.equal(w.random, false);
      assert.equal(w.source, path);
      assert.equal(w.sha256, sha256Of(path));
      assert.ok(w.info.naming!.startsWith(naming), w.info.naming);
      assert.equal(describeHeld(w), 'block1_conv1…block2_conv2');
      // A truncated network serves every layer up to what it holds, and says what it lacks beyond.
      requireLayers(w, ['conv1_1', 'conv2_2', 'pool2'], '--style-layers');
      assert.throws(() => requireLayers(w, ['pool2', 'conv3_1'], '--style-layers'), NstError);
    });
  }

  it('ignores non-VGG layers (fc1) and reads whole-model files (model_weights group)', async () => {
    const path = join(tmp, 'whole.h5');
    const fc1: FixtureLayer = { keras: 'fc1', kernel: new Float32Array(12), kernelShape: [3, 4], bias: new Float32Array(4) };
    // A rank-2 "kernel" would fail as a convolution: being ignored is what lets this load.
    await writeFixtureH5(path, block2.slice(0, 2), { naming: 'keras2', wholeModel: true, extra: [fc1], empty: ['input_1', 'block1_pool'] });
    const w = await loadWeights(path);
    assertSameLayers(w, block2.slice(0, 2));
    assert.equal(w.info.ignored, 'fc1');
  });

  for (const naming of ['keras1', 'keras2'] as const) {
    it(`reads the full official layout written by h5py (${naming}) as h5py reads it`, async (t) => {
      const skip = referenceSkip();
      if (skip) return t.skip(skip);
      const path = join(tmp, `full-${naming}.h5`);
      reference('make-weights', path, '--seed', '3', '--naming', naming);
      const expected = python(
        `import h5py,json,sys
f=h5py.File(sys.argv[1],'r'); out={}
for n in [x.decode() for x in f.attrs['layer_names']]:
    g=f[n]; wn=[x.decode() for x in g.attrs['weight_names']]
    if not wn: continue
    k=g[wn[0]][()]; b=g[wn[1]][()]
    out[n]={'shape':list(k.shape),'first':k.ravel()[:3].tolist(),'last':float(k.ravel()[-1]),'mid':float(k[1,2,k.shape[2]//2,k.shape[3]-1]),'bias':b[:3].tolist(),'blen':len(b)}
print(json.dumps(out))`,
        path,
      );
      const w = await loadWeights(path);
      assert.equal(w.layers.size, 16);
      assert.ok(w.info.naming!.startsWith(naming));
      for (const c of VGG19_CONVS) {
        const e = expected[c.keras];
        const got = w.layers.get(c.keras)!;
        assert.deepEqual(got.kernelShape, [3, 3, c.inChannels, c.outChannels]);
        assert.deepEqual(e.shape, got.kernelShape);
        assert.equal(got.bias.length, e.blen);
        assert.deepEqual([...got.kernel.subarray(0, 3)], e.first.map(Math.fround));
        assert.equal(got.kernel[got.kernel.length - 1], Math.fround(e.last));
        // k[1,2,in/2,out-1] in row-major [kh,kw,in,out]
        const [, , cin, cout] = got.kernelShape;
        assert.equal(got.kernel[((1 * 3 + 2) * cin + Math.floor(cin / 2)) * cout + cout - 1], Math.fround(e.mid));
        assert.deepEqual([...got.bias.subarray(0, 3)], e.bias.map(Math.fround));
      }
    });
  }

  it('writes Keras 2 files in the official layout that h5py and the reader read back', async (t) => {
    const path = join(tmp, 'written.h5');
    const layers = new Map(block2.map((l) => [l.keras, { kernel: l.kernel, kernelShape: l.kernelShape as [number, number, number, number], bias: l.bias }]));
    await writeKerasH5({ layers }, path, { normalized: 'test note' });
    const back = await loadWeights(path);
    assertSameLayers(back, block2);
    assert.equal(back.info.normalized, 'test note');
    assert.deepEqual(readdirSync(tmp).filter((f) => f.startsWith('written.h5.tmp')), []);
    const skip = referenceSkip();
    if (skip) return t.skip(`h5py check: ${skip}`);
    const seen = python(
      `import h5py,json,sys
f=h5py.File(sys.argv[1],'r')
names=[x.decode() for x in f.attrs['layer_names']]
wn={n:[x.decode() for x in f[n].attrs['weight_names']] for n in names}
k=f['block2_conv1/block2_conv1/kernel:0'][()]
print(json.dumps({'names':names,'wn':wn,'shape':list(k.shape),'k':float(k[2,0,63,127]),'b':float(f['block2_conv2'][wn['block2_conv2'][1]][5]),'note':f.attrs['nst_normalized'].decode(),'kv':f.attrs['keras_version'].decode()}))`,
      path,
    );
    assert.deepEqual(seen.names, ['block1_conv1', 'block1_conv2', 'block1_pool', 'block2_conv1', 'block2_conv2', 'block2_pool']);
    assert.deepEqual(seen.wn.block1_pool, []);
    assert.deepEqual(seen.wn.block2_conv1, ['block2_conv1/kernel:0', 'block2_conv1/bias:0']);
    assert.deepEqual(seen.shape, [3, 3, 64, 128]);
    assert.equal(seen.k, block2[2]!.kernel[((2 * 3 + 0) * 64 + 63) * 128 + 127]);
    assert.equal(seen.b, block2[3]!.bias[5]);
    assert.equal(seen.note, 'test note');
    assert.equal(seen.kv, '2.2.4');
  });
});

describe('weights errors name the file, the layer and the expected shape', () => {
  it('a layer needed beyond a truncated file', async () => {
    const path = join(tmp, 'err-prefix.h5');
    await writeFixtureH5(path, fixtureLayers(4), { naming: 'keras2' });
    const w = await loadWeights(path);
    await rejectsWith(async () => requireLayers(w, ['conv4_2'], '--content-layers'), path, 'block3_conv1 (conv3_1)', '--content-layers', 'conv4_2', 'block1_conv1…block2_conv2', 'up to conv2_2');
    const partial = { ...w, layers: new Map([...w.layers].slice(0, 3)) };
    await rejectsWith(async () => requireLayers(partial, ['conv2_2'], '--style-layers'), 'has no layer block2_conv2 (conv2_2), needed by --style-layers;', 'block1_conv1…block2_conv1');
  });

  it('a wrong kernel shape, a transposed kernel, a wrong bias length', async () => {
    const layers = fixtureLayers(4);
    const bad = { ...layers[2]!, kernel: new Float32Array(9 * 32 * 128), kernelShape: [3, 3, 32, 128] };
    const path = join(tmp, 'err-shape.h5');
    await writeFixtureH5(path, [layers[0]!, layers[1]!, bad], { naming: 'keras2' });
    await rejectsWith(() => loadWeights(path), path, 'block2_conv1', '[3,3,32,128]', 'expected [3,3,64,128]');

    const transposed = { ...layers[0]!, kernelShape: [64, 3, 3, 3] };
    const pathT = join(tmp, 'err-theano.h5');
    await writeFixtureH5(pathT, [transposed], { naming: 'keras1' });
    await rejectsWith(() => loadWeights(pathT), pathT, 'block1_conv1', 'expected [3,3,3,64]', 'Theano');

    const shortBias = { ...layers[0]!, bias: new Float32Array(10) };
    const pathB = join(tmp, 'err-bias.h5');
    await writeFixtureH5(pathB, [shortBias], { naming: 'keras2' });
    await rejectsWith(() => loadWeights(pathB), pathB, 'block1_conv1', '10 biases', 'expected 64');
  });

  it('a dataset listed in weight_names but missing, non-finite values', async () => {
    const path = join(tmp, 'err-dataset.h5');
    await writeFixtureH5(path, fixtureLayers(1), { naming: 'keras1', dropDataset: 'block1_conv1_b_1:0' });
    await rejectsWith(() => loadWeights(path), path, 'block1_conv1', 'block1_conv1_b_1:0');
    const nan = fixtureLayers(1);
    nan[0]!.kernel[7] = NaN;
    const pathN = join(tmp, 'err-nan.h5');
    await writeFixtureH5(pathN, nan, { naming: 'keras2' });
    await rejectsWith(() => loadWeights(pathN), pathN, 'block1_conv1', 'non-finite', 'index 7');
  });

  it('not HDF5, a nonexistent path, a folder without model.json, an HDF5 file that is not Keras, a bad random spec', async () => {
    const text = join(tmp, 'notes.h5');
    writeFileSync(text, 'these are not weights\n');
    await rejectsWith(() => loadWeights(text), text, 'neither HDF5', 'random:SEED');
    const missing = join(tmp, 'nope', 'vgg19.h5');
    await rejectsWith(() => loadWeights(missing), missing, 'not found', 'model.json');
    await rejectsWith(() => loadWeights(tmp), tmp, 'no model.json');
    const notKeras = join(tmp, 'plain.h5');
    await writePlainH5(notKeras);
    await rejectsWith(() => loadWeights(notKeras), notKeras, 'layer_names', 'not a Keras weights file');
    await rejectsWith(() => loadWeights('random:abc'), 'random:abc', 'random:SEED');
  });

  it('a truncated file (written by h5wasm, and by h5py), cut in half', async (t) => {
    const path = join(tmp, 'trunc-src.h5');
    await writeFixtureH5(path, fixtureLayers(4), { naming: 'keras2' });
    const sources = [path];
    const skip = referenceSkip();
    if (skip) t.diagnostic(`h5py half skipped: ${skip}`);
    else {
      const small = join(tmp, 'trunc-h5py.h5');
      python(`import h5py,numpy as np,sys
with h5py.File(sys.argv[1],'w') as f:
    f.attrs['layer_names']=np.array([b'block1_conv1'])
    g=f.create_group('block1_conv1'); g.attrs['weight_names']=np.array([b'block1_conv1/kernel:0',b'block1_conv1/bias:0'])
    g.create_dataset('block1_conv1/kernel:0',data=np.ones((3,3,3,64),np.float32)); g.create_dataset('block1_conv1/bias:0',data=np.zeros(64,np.float32))
print(1)`, small);
      sources.push(small);
    }
    for (const src of sources) {
      const bytes = readFileSync(src);
      const half = src.replace(/\.h5$/, '-half.h5');
      writeFileSync(half, bytes.subarray(0, Math.floor(bytes.length / 2)));
      await rejectsWith(() => loadWeights(half), half, 'truncated', String(bytes.length));
    }
  });
});

describe('TensorFlow.js layers-model directories', () => {
  it('reads a model saved by tfjs itself (model.json + shard)', async () => {
    const layers = fixtureLayers(4, 7);
    const model = tf.sequential();
    for (const l of VGG19_LAYERS.slice(0, 6)) {
      if (l.kind === 'pool') model.add(tf.layers.maxPooling2d({ name: l.keras, poolSize: 2 }));
      else model.add(tf.layers.conv2d({ name: l.keras, filters: l.outChannels, kernelSize: 3, padding: 'same', activation: 'relu', ...(l.inChannels === 3 ? { inputShape: [null, null, 3] } : {}) }));
    }
    model.setWeights(layers.flatMap((l) => [tf.tensor(l.kernel, l.kernelShape), tf.tensor(l.bias)]));
    const dir = join(tmp, 'tfjs-saved');
    mkdirSync(dir, { recursive: true });
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        writeFileSync(join(dir, 'group1-shard1of1.bin'), Buffer.from(a.weightData as ArrayBuffer));
        writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs }] }));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    model.dispose();
    const w = await loadWeights(dir);
    assertSameLayers(w, layers);
    assert.equal(w.format, 'tfjs-layers');
    const expectedSha = createHash('sha256').update(readFileSync(join(dir, 'model.json'))).update(readFileSync(join(dir, 'group1-shard1of1.bin'))).digest('hex');
    assert.equal(w.sha256, expectedSha);
    // model.json itself is accepted too.
    assertSameLayers(await loadWeights(join(dir, 'model.json')), layers);
  });

  /** float → IEEE half bits, for values exactly representable (test data is chosen so). */
  function toHalf(v: number): number {
    if (v === 0) return 0;
    const sign = v < 0 ? 0x8000 : 0;
    const a = Math.abs(v);
    const e = Math.floor(Math.log2(a));
    return sign | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
  }

  it('reads prefixed names, several groups and shards, float16 and uint8 quantisation', async () => {
    const dir = join(tmp, 'tfjs-hand');
    mkdirSync(dir, { recursive: true });
    const layers = fixtureLayers(2, 3);
    // Values exact in float16 / on the uint8 grid, so expectations are exact.
    const k1 = Float32Array.from(layers[0]!.kernel, (_, i) => ((i % 61) - 30) / 64);
    const q2 = Uint8Array.from(layers[1]!.kernel, (_, i) => (i * 37) % 256);
    const scale = 0.004;
    const min = -0.5;
    const k2 = Float32Array.from(q2, (q) => q * scale + min);
    const half = new Uint16Array(k1.length).map((_, i) => toHalf(k1[i]!));
    const junk = new Float32Array([1, 2, 3, 4, 5]);
    // group 1: junk, block1_conv1 kernel (f16), bias (f32); split over two shards at an odd byte.
    const g1 = Buffer.concat([Buffer.from(junk.buffer), Buffer.from(half.buffer), Buffer.from(layers[0]!.bias.buffer)]);
    writeFileSync(join(dir, 'g1-shard1of2.bin'), g1.subarray(0, 1001));
    writeFileSync(join(dir, 'g1-shard2of2.bin'), g1.subarray(1001));
    const g2 = Buffer.concat([Buffer.from(layers[1]!.bias.buffer), Buffer.from(q2)]);
    writeFileSync(join(dir, 'g2-shard1of1.bin'), g2);
    const manifest = [
      {
        paths: ['g1-shard1of2.bin', 'g1-shard2of2.bin'],
        weights: [
          { name: 'vgg19/dense/kernel', shape: [5], dtype: 'float32' },
          { name: 'vgg19/block1_conv1/kernel', shape: [3, 3, 3, 64], dtype: 'float32', quantization: { dtype: 'float16' } },
          { name: 'vgg19/block1_conv1/bias:0', shape: [64], dtype: 'float32' },
        ],
      },
      {
        paths: ['g2-shard1of1.bin'],
        weights: [
          { name: 'block1_conv2/bias', shape: [64], dtype: 'float32' },
          { name: 'block1_conv2/kernel', shape: [3, 3, 64, 64], dtype: 'float32', quantization: { dtype: 'uint8', scale, min } },
        ],
      },
    ];
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', weightsManifest: manifest }));
    const w = await loadWeights(dir);
    assert.deepEqual([...w.layers.keys()], ['block1_conv1', 'block1_conv2']);
    assert.deepEqual(w.layers.get('block1_conv1')!.kernel, k1);
    assert.deepEqual(w.layers.get('block1_conv1')!.bias, layers[0]!.bias);
    assert.deepEqual(w.layers.get('block1_conv2')!.bias, layers[1]!.bias);
    const got2 = w.layers.get('block1_conv2')!.kernel;
    assert.ok(got2.every((v, i) => Math.abs(v - k2[i]!) < 1e-6));
    assert.equal(w.info.ignored, 'vgg19/dense/kernel');
    assert.equal(w.info.quantization, 'float16,uint8');

    rmSync(join(dir, 'g2-shard1of1.bin'));
    await rejectsWith(() => loadWeights(dir), 'g2-shard1of1.bin', 'missing');
    writeFileSync(join(dir, 'g2-shard1of1.bin'), g2.subarray(0, 300));
    await rejectsWith(() => loadWeights(dir), 'block1_conv2/kernel', 'needs bytes 256…37120', 'shards hold 300', 'truncated');
  });
});

describe('random:SEED', () => {
  it('is deterministic in the seed, He-normal, with zero biases, and labelled random', () => {
    const a = randomWeights(7);
    const b = randomWeights(7);
    const c = randomWeights(8);
    assert.equal(a.random, true);
    assert.equal(a.source, 'random:7');
    assert.equal(a.sha256, undefined);
    assert.equal(a.layers.size, 16);
    for (const name of ['block1_conv1', 'block3_conv1', 'block5_conv4']) {
      assert.deepEqual(a.layers.get(name)!.kernel, b.layers.get(name)!.kernel);
      assert.notDeepEqual(a.layers.get(name)!.kernel.subarray(0, 64), c.layers.get(name)!.kernel.subarray(0, 64));
    }
    for (const c0 of VGG19_CONVS) {
      const w = a.layers.get(c0.keras)!;
      assert.deepEqual(w.kernelShape, [3, 3, c0.inChannels, c0.outChannels]);
      assert.ok(w.bias.every((v) => v === 0));
    }
    for (const [name, tol] of [['block1_conv1', 0.08], ['block3_conv1', 0.01]] as const) {
      const k = a.layers.get(name)!.kernel;
      const std = Math.sqrt(2 / (9 * a.layers.get(name)!.kernelShape[2]));
      const mean = k.reduce((s, v) => s + v, 0) / k.length;
      const sd = Math.sqrt(k.reduce((s, v) => s + (v - mean) ** 2, 0) / k.length);
      assert.ok(Math.abs(sd / std - 1) < tol, `${name}: std ${sd} vs ${std}`);
      assert.ok(Math.abs(mean) < (4 * std) / Math.sqrt(k.length), `${name}: mean ${mean}`);
      const within = k.filter((v) => Math.abs(v) < std).length / k.length;
      assert.ok(Math.abs(within - 0.6827) < 3 * Math.sqrt(0.6827 * 0.3173 / k.length) + 0.002, `${name}: ${within} within 1σ`);
    }
  });
});

/** A local HTTP server for download tests; `hits` counts requests. */
async function serve(handler: RequestListener): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/vgg19.h5`,
    hits: () => hits,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

async function refusedUrl(): Promise<string> {
  const s = await serve(() => undefined);
  await s.close();
  return s.url;
}

describe('fetch (local HTTP server)', () => {
  it('downloads, verifies the md5 and installs atomically; a verified copy is not fetched again', async () => {
    const body = randomBytes(300_000);
    const s = await serve((_, res) => {
      res.setHeader('content-length', body.length);
      res.end(body);
    });
    const dir = join(tmp, 'fetch-ok');
    const seen: number[] = [];
    try {
      const r = await fetchModel('vgg19', { dir, entry: { url: s.url, md5: md5Of(body) }, progress: (n) => seen.push(n) });
      assert.equal(r.downloaded, true);
      assert.equal(r.path, join(dir, modelEntry('vgg19').file));
      assert.deepEqual(readFileSync(r.path), body);
      assert.equal(r.md5, md5Of(body));
      assert.equal(seen[seen.length - 1], body.length);
      assert.deepEqual(readdirSync(dir), [modelEntry('vgg19').file]);
      const again = await fetchModel('vgg19', { dir, entry: { url: s.url, md5: md5Of(body) } });
      assert.equal(again.downloaded, false);
      assert.equal(s.hits(), 1);
    } finally {
      await s.close();
    }
  });

  it('rejects a checksum mismatch and leaves no file', async () => {
    const s = await serve((_, res) => res.end(Buffer.from('not the weights')));
    const dir = join(tmp, 'fetch-bad');
    try {
      await rejectsWith(() => fetchModel('vgg19', { dir, entry: { url: s.url, md5: '0'.repeat(32) } }), 'md5', '0'.repeat(32), s.url, 'nothing was installed');
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      await s.close();
    }
  });

  it('fails fast on a refused connection, naming the URL and where to put the file', async () => {
    const url = await refusedUrl();
    const dir = join(tmp, 'fetch-refused');
    const t0 = performance.now();
    const target = join(dir, modelEntry('vgg19').file);
    await rejectsWith(() => fetchModel('vgg19', { dir, entry: { url } }), url, target, 'ECONNREFUSED');
    assert.ok(performance.now() - t0 < 3000);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('gives up on a silent server and on a stalled body, leaving no .part', async () => {
    const silent = await serve(() => undefined);
    const stalled = await serve((_, res) => {
      res.setHeader('content-length', 1000);
      res.write(Buffer.alloc(10));
    });
    const dir = join(tmp, 'fetch-stall');
    try {
      await rejectsWith(() => fetchModel('vgg19', { dir, entry: { url: silent.url }, connectTimeoutMs: 300 }), 'no response within 0.3 s', silent.url);
      await rejectsWith(() => fetchModel('vgg19', { dir, entry: { url: stalled.url }, stallTimeoutMs: 300 }), 'stalled', 'nothing was installed');
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      await silent.close();
      await stalled.close();
    }
  });

  it('takes the URL from NST_VGG19_URL', () => {
    const saved = process.env.NST_VGG19_URL;
    process.env.NST_VGG19_URL = 'http://127.0.0.1:9/mirror.h5';
    try {
      assert.equal(modelEntry('vgg19').url, 'http://127.0.0.1:9/mirror.h5');
      assert.equal(modelEntry('vgg19', { url: 'http://x/y' }).url, 'http://x/y');
    } finally {
      if (saved === undefined) delete process.env.NST_VGG19_URL;
      else process.env.NST_VGG19_URL = saved;
    }
    assert.match(modelEntry('vgg19').url, /^https:\/\/storage\.googleapis\.com\/.*vgg19_weights_tf_dim_ordering_tf_kernels_notop\.h5$/);
    assert.equal(modelEntry('vgg19').md5, '253f8cb515780f3b799900260a226db6');
  });
});

function randomBytes(n: number): Buffer {
  const rand = lcg(n);
  return Buffer.from(Uint8Array.from({ length: n }, () => Math.floor((rand() + 1) * 128)));
}

describe('weights auto', () => {
  it('falls back to random:0 with the reason when models/ is empty and downloads are off or fail', async () => {
    const dir = join(tmp, 'auto-empty');
    const off = await loadWeights('auto', { fetch: false, modelsDir: dir });
    assert.equal(off.random, true);
    assert.equal(off.source, 'random:0');
    assert.match(off.reason!, /no pretrained VGG-19 in .*auto-empty/);
    const url = await refusedUrl();
    const lines: string[] = [];
    const failed = await loadWeights('auto', { modelsDir: dir, vgg19: { url }, log: (l) => lines.push(l) });
    assert.equal(failed.random, true);
    assert.ok(failed.reason!.includes('the download failed') && failed.reason!.includes(url), failed.reason);
    assert.ok(lines.some((l) => l.includes(url)));
  });

  it('downloads into models/ when allowed, then uses the verified local copy', async () => {
    const path = join(tmp, 'auto-src.h5');
    await writeFixtureH5(path, fixtureLayers(2), { naming: 'keras2' });
    const bytes = readFileSync(path);
    const s = await serve((_, res) => res.end(bytes));
    const dir = join(tmp, 'auto-models');
    try {
      const first = await loadWeights('auto', { modelsDir: dir, vgg19: { url: s.url, md5: md5Of(bytes) }, log: () => undefined });
      assert.equal(first.random, false);
      assert.equal(first.reason, undefined);
      assertSameLayers(first, fixtureLayers(2));
      const second = await loadWeights('auto', { modelsDir: dir, vgg19: { url: s.url, md5: md5Of(bytes) } });
      assert.equal(second.sha256, first.sha256);
      assert.equal(s.hits(), 1);
      await rejectsWith(() => loadWeights('auto', { modelsDir: dir, vgg19: { md5: 'f'.repeat(32) } }), 'f'.repeat(32), 'nst models fetch vgg19');
    } finally {
      await s.close();
    }
  });
});

describe("Gatys' normalisation", () => {
  /** Per-channel mean of each held conv layer's features over the images, computed here with plain tf ops. */
  function meansOf(net: VggNetwork, convs: readonly ConvSpec[], images: tf.Tensor4D[]): Map<string, Float32Array> {
    const sums = new Map<string, Float32Array>();
    for (const img of images) {
      tf.tidy(() => {
        const f = net.features(img, convs.map((c) => c.name));
        for (const c of convs) {
          const m = tf.mean(f[c.name]!, [0, 1, 2]).dataSync() as Float32Array;
          const acc = sums.get(c.keras) ?? new Float32Array(m.length);
          m.forEach((v, i) => (acc[i]! += v / images.length));
          sums.set(c.keras, acc);
        }
      });
    }
    return sums;
  }

  function rgbImage(seed: number, h: number, w: number): tf.Tensor4D {
    const rand = lcg(seed);
    return tf.tensor4d(Float32Array.from({ length: h * w * 3 }, () => (rand() + 1) * 127.5), [1, h, w, 3]);
  }

  const cases = [
    { pooling: 'avg', convs: 16, taps: ['conv1_1', 'pool1', 'conv2_2', 'conv3_4', 'pool4', 'conv5_1', 'conv5_4', 'pool5'] },
    { pooling: 'max', convs: 8, taps: ['conv1_2', 'pool1', 'conv2_1', 'pool2', 'conv3_4', 'pool3'] },
  ] as const;
  for (const { pooling, convs, taps } of cases) {
    it(`makes each filter's mean activation 1 and divides features by it (${pooling} pooling, ${convs} convolutions, 32 px)`, () => {
      const full = randomWeights(5);
      const base: VggWeights = { ...full, layers: new Map([...full.layers].slice(0, convs)) };
      // Non-zero biases, so that the bias scaling is exercised too.
      const rand = lcg(11);
      for (const w of base.layers.values()) w.bias.forEach((_, i) => (w.bias[i] = rand() * 0.05));
      const held = VGG19_CONVS.slice(0, convs);
      const calib = [rgbImage(1, 32, 32), rgbImage(2, 32, 28)];
      const before = tf.memory().numTensors;
      const { weights: normed, means, dead } = normalizeVgg19(base, calib, { pooling });
      assert.equal(tf.memory().numTensors, before);
      assert.equal(normed.layers.size, convs);

      const net0 = createVgg19(base, { pooling });
      const net1 = createVgg19(normed, { pooling });
      try {
        // The normalised net's mean activations over the calibration images are 1. Filters that barely
        // fire lose float32 precision in proportion to how small their mean is next to the layer's.
        const original = meansOf(net0, held, calib);
        const after = meansOf(net1, held, calib);
        let deadSeen = 0;
        for (const c of held) {
          const m0 = original.get(c.keras)!;
          const m1 = after.get(c.keras)!;
          const largest = Math.max(...m0);
          m0.forEach((v, k) => {
            assert.ok(Math.abs(means.get(c.keras)![k]! - v) <= 1e-5 * largest, `${c.keras}[${k}]: mean ${means.get(c.keras)![k]} vs ${v}`);
            if (v > 0) assert.ok(Math.abs(m1[k]! - 1) * v <= 1e-3 * v + 1e-5 * largest, `${c.keras}[${k}]: mean activation ${m1[k]} (m ${v}, largest ${largest})`);
            else deadSeen++;
          });
        }
        assert.equal(Object.values(dead).reduce((a, b) => a + b, 0), deadSeen);

        // On an image outside the calibration set: normalised features × m = original features, at every tap.
        const test = rgbImage(3, 32, 32);
        tf.tidy(() => {
          const x = preprocess(test);
          const f0 = net0.features(x, taps);
          const f1 = net1.features(x, taps);
          for (const tap of taps) {
            const conv = VGG19_LAYERS.slice(0, VGG19_LAYERS.findIndex((l) => l.name === tap) + 1).filter((l) => l.kind === 'conv').pop()!;
            const m = Float32Array.from(original.get(conv.keras)!, (v) => (v > 0 ? v : 1));
            const err = tf.max(tf.abs(tf.sub(tf.mul(f1[tap]!, tf.tensor1d(m)), f0[tap]!))).dataSync()[0]!;
            const scale = tf.max(tf.abs(f0[tap]!)).dataSync()[0]!;
            assert.ok(err <= 1e-4 * scale, `${tap}: max error ${err} vs max ${scale}`);
          }
        });
        [...calib, test].forEach((t) => t.dispose());
      } finally {
        net0.dispose();
        net1.dispose();
      }
    });
  }
});
