/** `nst models inspect | fetch | normalize` through the real CLI (bin/nst.mjs), on the wasm backend. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { VGG19_CONVS } from '../src/lib/net/vgg19';
import { loadWeights } from '../src/lib/net/weights/load';
import { fixtureLayers, lcg, writeFixtureH5 } from './helpers/weights-h5';

const tmp = mkdtempSync(join(tmpdir(), 'nst-models-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `nst ...args` asynchronously (a test server in this process must keep answering). */
function nst(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/nst.mjs', ...args], { env: { ...process.env, NST_BACKEND: 'wasm', ...env }, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const block2 = fixtureLayers(4, 5);
const weightsFile = join(tmp, 'block2.h5');

describe('nst models inspect', () => {
  it('--json lists every layer with its Keras and paper names and shapes', async () => {
    await writeFixtureH5(weightsFile, block2, { naming: 'keras1' });
    const r = await nst(['models', 'inspect', weightsFile, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.format, 'keras-h5');
    assert.equal(report.random, false);
    assert.match(report.sha256, /^[0-9a-f]{64}$/);
    assert.equal(report.holds, 'block1_conv1…block2_conv2');
    assert.ok(report.info.naming.startsWith('keras1'));
    assert.deepEqual(
      report.layers,
      VGG19_CONVS.slice(0, 4).map((c) => ({ keras: c.keras, paper: c.name, kernelShape: [3, 3, c.inChannels, c.outChannels], biasLength: c.outChannels })),
    );
  });

  it('prints a readable table, and a clear error for a file that is not weights', async () => {
    const random = await nst(['models', 'inspect', 'random:2']);
    assert.equal(random.code, 0, random.stderr);
    assert.match(random.stdout, /RANDOM WEIGHTS/);
    assert.match(random.stdout, /block5_conv4\s+conv5_4\s+\[3,3,512,512\]\s+512/);
    const junk = join(tmp, 'junk.h5');
    writeFileSync(junk, 'GIF89a not weights');
    const bad = await nst(['models', 'inspect', junk]);
    assert.equal(bad.code, 2);
    assert.ok(bad.stderr.includes(junk) && bad.stderr.includes('neither HDF5'), bad.stderr);
    assert.ok(!bad.stderr.includes('    at '), 'user errors print no stack trace');
  });
});

describe('nst models fetch', () => {
  it('refuses a download whose md5 differs from the manifest, leaving nothing behind', async () => {
    const server = createServer((_, res) => res.end('not the VGG-19 weights'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/vgg19.h5`;
    const out = join(tmp, 'fetched');
    try {
      const r = await nst(['models', 'fetch', 'vgg19', '--out', out], { NST_VGG19_URL: url });
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.includes('253f8cb515780f3b799900260a226db6') && r.stderr.includes(url), r.stderr);
      assert.deepEqual(readdirSync(out), []);
    } finally {
      server.closeAllConnections();
      server.close();
    }
    const unknown = await nst(['models', 'fetch', 'alexnet']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /known models: vgg19/);
  });
});

describe('nst models normalize', () => {
  it('writes a Keras 2 file whose filters are the input ones rescaled per channel', async () => {
    const images = join(tmp, 'calib');
    mkdirSync(images, { recursive: true });
    for (const [i, [w, h]] of [[40, 32], [32, 36]].entries()) {
      const rand = lcg(100 + i);
      const pixels = Buffer.from(Uint8Array.from({ length: w * h * 3 }, () => Math.floor((rand() + 1) * 127.9)));
      await sharp(pixels, { raw: { width: w, height: h, channels: 3 } }).png().toFile(join(images, `img${i}.png`));
    }
    writeFileSync(join(images, 'notes.txt'), 'not an image');
    await writeFixtureH5(weightsFile, block2, { naming: 'keras1' });
    const out = join(tmp, 'normalised.h5');
    const r = await nst(['models', 'normalize', '--weights', weightsFile, '--images', images, '--out', out, '--image-size', '32', '--pooling', 'max']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /over 2 image\(s\)/);
    const w = await loadWeights(out);
    assert.ok(w.info.naming!.startsWith('keras2'));
    assert.match(w.info.normalized!, /max pooling/);
    assert.ok(w.info.normalized_from!.includes(weightsFile));
    // Output channel o of layer l is scaled by 1/m_o(l) and input channel c by m_c(l−1): the ratio new/old
    // is positive and, for each (c, o), the same at all nine kernel positions.
    for (const orig of block2) {
      const got = w.layers.get(orig.keras)!;
      const [, , cin, cout] = orig.kernelShape as [number, number, number, number];
      for (const [c, o] of [[0, 0], [cin - 1, cout - 1], [Math.floor(cin / 2), 3]] as const) {
        const ratios = Array.from({ length: 9 }, (_, p) => got.kernel[(p * cin + c) * cout + o]! / orig.kernel[(p * cin + c) * cout + o]!);
        assert.ok(ratios.every((q) => q > 0 && Math.abs(q / ratios[0]! - 1) < 1e-4), `${orig.keras} (${c},${o}): ${ratios}`);
        // The first layer's input (the image) is not rescaled: its bias scales exactly like its kernel.
        if (orig.keras === 'block1_conv1') assert.ok(Math.abs(got.bias[o]! / orig.bias[o]! / ratios[0]! - 1) < 1e-4);
      }
    }
  });
});
