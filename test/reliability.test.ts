/**
 * Bad input and faults, as a hostile user would try them: each either runs correctly or is refused
 * before compute with a message that names the problem and the fix (docs/reliability.md lists them).
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { parseOptions } from '../src/cli/options';
import { initBackend } from '../src/lib/backend';
import { resolveConfig } from '../src/lib/config';
import { readConfigFile } from '../src/lib/config-file';
import { NstError } from '../src/lib/errors';
import { fitLongerSide, loadImage, readImageSize, readPixels } from '../src/lib/image/io';
import { vggGeometry } from '../src/lib/net/vgg';
import { checkMemory, estimateMemory, smallestImageSize, type MemoryInput } from '../src/lib/run/limits';

const VGG19 = vggGeometry('vgg19');
import { run } from '../src/lib/run/run';
import { RUN_FILES, runDir, runIdFor, snapshotPath } from '../src/lib/run/store';
import type { RunOptions } from '../src/lib/run/types';
import { k8sManifest, slurmScript } from '../src/lib/sweep/emit';
import { expandSweep } from '../src/lib/sweep/expand';
import { runsToDo, runSweep } from '../src/lib/sweep/runner';
import { parseSweepSpec } from '../src/lib/sweep/spec';
import { readStatus } from '../src/lib/sweep/status';
import { TINY_RUN } from './helpers/tiny-run';

const tmp = mkdtempSync(join(tmpdir(), 'nst-reliability-'));
const mounts: string[] = [];
after(() => {
  for (const m of mounts) spawnSync('umount', [m]);
  rmSync(tmp, { recursive: true, force: true });
});
before(async () => {
  await initBackend('wasm');
});

const base = {
  ...TINY_RUN,
  out: tmp,
};
const quiet: RunOptions = { log: null, progress: false };

/** The NstError `f` rejects with; fails the test if it resolves or throws anything else. */
async function refusal(f: () => Promise<unknown> | unknown): Promise<NstError> {
  try {
    await f();
  } catch (e) {
    assert.ok(e instanceof NstError, `expected an NstError, got ${e instanceof Error ? e.stack : String(e)}`);
    return e;
  }
  assert.fail('it was accepted');
}

describe('config: own keys, decimal numbers, each layer once, folder names', () => {
  it('refuses keys from the prototype chain, including a parsed __proto__', async () => {
    for (const key of ['toString', 'constructor', 'hasOwnProperty', '__proto__']) {
      const parsed = JSON.parse(`{"${key}": 1, "style": ["a.jpg"]}`) as Record<string, unknown>;
      assert.match((await refusal(() => resolveConfig(parsed))).message, new RegExp(`unknown config key '${key}'`));
    }
    const yaml = join(tmp, 'proto.yaml');
    writeFileSync(yaml, '__proto__: {imageSize: 1}\nstyle: [a.jpg]\n');
    assert.match((await refusal(() => resolveConfig(readConfigFile(yaml)))).message, /unknown config key '__proto__'/);
  });

  it('reads numbers in decimal only: --image-size 0x20 is not 32', async () => {
    const parsed = (args: string[]) => resolveConfig({ style: ['a.jpg'], ...parseOptions(args).config });
    for (const bad of ['0x20', '0b11', '0o7', 'Infinity', '1e', '']) {
      assert.match((await refusal(() => parsed(['--image-size', bad]))).message, /--image-size \(imageSize\): expected a number/);
    }
    assert.equal(parsed(['--image-size', ' 64 ']).imageSize, 64);
    assert.equal(parsed(['--style-weight', '1.5E3']).styleWeight, 1500);
  });

  it('names the option when a layer is listed twice, also under another name', async () => {
    assert.match((await refusal(() => resolveConfig({ ...base, styleLayers: 'conv1_1,block1_conv1' }))).message, /--style-layers \(styleLayers\): layer 'conv1_1' is listed twice/);
    assert.match((await refusal(() => resolveConfig({ ...base, contentLayers: ['conv4_2', 'conv4_2'] }))).message, /--content-layers .* 'conv4_2' is listed twice/);
  });

  it('refuses folder names that leave --out, an empty --out, and weights beyond float32', async () => {
    for (const name of ['..', '.', 'a/b', '../up']) {
      assert.match((await refusal(() => resolveConfig({ ...base, experiment: name }))).message, /--experiment .* is not a folder name/);
      assert.match((await refusal(() => parseSweepSpec({ name, base: {}, parameters: { seed: { values: [1] } } }))).message, /name: expected a folder name/);
    }
    assert.match((await refusal(() => resolveConfig({ ...base, out: ' ' }))).message, /--out \(out\): is empty/);
    assert.match((await refusal(() => resolveConfig({ ...base, styleWeight: 1e308 }))).message, /--style-weight .* beyond float32's range/);
    assert.equal(resolveConfig({ ...base, styleWeight: 3e38 }).styleWeight, 3e38);
  });
});

describe('image sizes: every size runs or is refused before compute', () => {
  const paper = { ...base, contentLayers: ['conv4_2'], styleLayers: ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'], iterations: 1, experiment: 'sizes' };

  it('VGG-19: a tap after k poolings needs 2^k pixels, and the smallest --image-size follows', () => {
    const need: Record<string, number> = { conv1_1: 1, conv1_2: 1, pool1: 2, conv2_1: 2, conv3_1: 4, conv4_2: 8, conv5_1: 16, pool5: 32 };
    for (const [tap, px] of Object.entries(need)) assert.equal(VGG19.minInputSize([tap]), px, tap);
    assert.equal(VGG19.minInputSize(['conv1_1', 'conv4_1', 'conv2_1']), 8);
    // Against brute force: the first size whose shorter side (as fitLongerSide rounds it) is large enough.
    for (const native of [[768, 1024], [1024, 768], [6, 400], [999, 1000], [17, 17]] as [number, number][]) {
      for (const min of [1, 2, 16, 32]) {
        let s = 1;
        while (Math.min(...fitLongerSide(native[0], native[1], s)) < min) s++;
        assert.equal(smallestImageSize(native, min), s, `${native} ≥ ${min}`);
      }
    }
  });

  for (const size of [1, 8, 16]) {
    it(`--image-size ${size} on a 4:3 image is refused with the smallest size the layers allow (21)`, async () => {
      const e = await refusal(() => run({ ...paper, imageSize: size }, quiet));
      assert.match(e.message, new RegExp(`^--image-size ${size}: the content image data/images/tubingen\\.jpg \\(1024×768\\) becomes ${size}×${Math.max(1, Math.round(size * 0.75))} px, too small for .*conv5_1`));
      assert.match(e.hint!, /the smallest --image-size these layers allow for this image is 21/);
      assert.ok(!existsSync(join(runDir(resolveConfig({ ...paper, imageSize: size })), RUN_FILES.metrics)), 'refused before anything ran');
    });
  }

  it('--image-size 21 runs', async () => {
    const result = await run({ ...paper, imageSize: 21 }, quiet);
    assert.equal(result.stopReason, 'completed');
    assert.ok(Number.isFinite(result.final.total));
  });

  it('a very thin image is refused with the size it would need', async () => {
    const thin = join(tmp, 'thin.png');
    await sharp({ create: { width: 400, height: 6, channels: 3, background: '#808080' } }).png().toFile(thin);
    const e = await refusal(() => run({ ...paper, content: thin, imageSize: 512 }, quiet));
    assert.match(e.message, /\(400×6\) becomes 512×8 px, too small for conv5_1/);
    assert.match(e.hint!, new RegExp(`is ${smallestImageSize([6, 400], 16)}\\b`));
  });

  for (const size of [20000, 1e9]) {
    it(`--image-size ${size} is refused for memory, with the largest size that fits — not blamed on the image`, async () => {
      const e = await refusal(() => run({ ...paper, imageSize: size }, quiet));
      assert.match(e.message, new RegExp(`^--image-size ${size}: a \\d+×\\d+ run needs about .* and the wasm backend caps its heap at 4 GiB`));
      assert.match(e.hint!, /--image-size \d+ or less/);
      assert.doesNotMatch(String(e), /cannot read image|JPEG/);
    });
  }

  it('the memory estimate adds up its parts; the largest size offered is the boundary', () => {
    const taps = [
      { name: 'a', channels: 4, stride: 1 },
      { name: 'b', channels: 8, stride: 2 },
      { name: 'c', channels: 16, stride: 4 },
    ];
    const at = (s: number): MemoryInput => ({ size: [s, s], styles: [[s, s]], taps, used: ['b'], weights: { total: 1000, upToDeepest: 100 }, optimizer: 'lbfgs', historySize: 10 });
    const e = estimateMemory(at(10));
    // By hand: maps up to b = 4 + 8/4 = 6 values a pixel, ×5.8 copies ×4 bytes ×100 pixels; history 2·10 image vectors.
    assert.equal(e.features, 5.8 * 4 * 6 * 100);
    assert.equal(e.history, 2 * 10 * 12 * 100);
    assert.equal(e.weights, 1000 + 3 * 100);
    assert.equal(e.total, e.weights + e.features + e.history + e.other);
    const wasm = { name: 'wasm' as const, device: 'CPU' };
    const limit = 0.9 * 4 * 2 ** 30;
    const err = (() => {
      try {
        checkMemory(100000, at, wasm);
      } catch (x) {
        return x as NstError;
      }
      assert.fail('not refused');
    })();
    const largest = Number(/--image-size (\d+) or less/.exec(err.hint!)![1]);
    assert.ok(estimateMemory(at(largest)).total <= limit && estimateMemory(at(largest + 1)).total > limit, `boundary at ${largest}`);
    assert.doesNotThrow(() => checkMemory(largest, at, wasm));
    // Where the history is what does not fit, the history size that does is offered, and it fits.
    const deep = (h: number) => (s: number): MemoryInput => ({ ...at(s), historySize: h });
    const hint = (() => {
      try {
        checkMemory(100, deep(40000), wasm);
      } catch (x) {
        return (x as NstError).hint!;
      }
      assert.fail('not refused');
    })();
    const fits = Number(/--history-size (\d+) \(L-BFGS keeps 2×40000 image-sized vectors/.exec(hint)![1]);
    assert.ok(estimateMemory(deep(fits)(100)).total <= limit && estimateMemory(deep(fits + 1)(100)).total > limit, `history boundary at ${fits}`);
  });

  it('VGG-19 taps: channels and strides of the layer table', () => {
    const t = new Map(VGG19.taps.map((x) => [x.name, x]));
    assert.deepEqual([t.get('conv1_1')!.channels, t.get('conv1_1')!.stride, t.get('conv3_4')!.stride, t.get('pool5')!.stride, t.get('conv5_1')!.channels], [64, 1, 4, 32, 512]);
    assert.equal(t.get('conv1_1')!.receptiveField, 3);
    assert.equal(t.get('conv1_2')!.receptiveField, 5);
    assert.equal(t.get('pool1')!.receptiveField, 6);
  });
});

describe('file system: faults reported as such, before the network loads', () => {
  // Weights that do not exist: had the network loaded first, the error would be about them.
  const cfg = { ...base, weights: join(tmp, 'no-such-weights.h5'), iterations: 2 };
  const canMount = (() => {
    if (process.getuid?.() !== 0) return false;
    const probe = join(tmp, 'probe');
    mkdirSync(probe);
    const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
    if (ok) mounts.push(probe);
    return ok;
  })();

  it('an output path that is a file, or runs through one', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    for (const out of [file, join(file, 'sub')]) {
      const e = await refusal(() => run({ ...cfg, out }, quiet));
      assert.match(e.message, new RegExp(`${file} is a file, not a folder`));
    }
  });

  it('a symbolic link to a folder that is gone', async () => {
    const link = join(tmp, 'dangling');
    symlinkSync(join(tmp, 'gone', 'away'), link);
    assert.match((await refusal(() => run({ ...cfg, out: link }, quiet))).message, /is a symbolic link to .*gone\/away, which does not exist/);
  });

  it('a read-only file system', { skip: canMount ? false : 'needs root to mount a tmpfs' }, async () => {
    const ro = join(tmp, 'ro');
    mkdirSync(ro);
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', ro]).status, 0);
    mounts.push(ro);
    const e = await refusal(() => run({ ...cfg, out: ro }, quiet));
    assert.match(e.message, /cannot create the run folder: the file system is read-only \(EROFS\)/);
  });

  it('a full disk', { skip: canMount ? false : 'needs root to mount a tmpfs' }, async () => {
    const full = join(tmp, 'full');
    mkdirSync(full);
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full]).status, 0);
    mounts.push(full);
    spawnSync('dd', ['if=/dev/zero', `of=${join(full, 'fill')}`, 'bs=4k', 'count=16']);
    const e = await refusal(() => run({ ...cfg, out: full }, quiet));
    assert.match(e.message, /the disk is full \(ENOSPC\)|not enough space for the run/);
  });

  it('a disk with less room than the run writes', { skip: canMount ? false : 'needs root to mount a tmpfs' }, async () => {
    const small = join(tmp, 'small');
    mkdirSync(small);
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', small]).status, 0);
    mounts.push(small);
    const e = await refusal(() => run({ ...cfg, out: small, imageSize: 256, optimizer: 'lbfgs', historySize: 100 }, quiet));
    assert.match(e.message, /not enough space for the run in .*: \d+ MiB free, the run writes about \d+ MiB/);
  });

  it('no permission to write', async () => {
    const locked = join(tmp, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    if (process.getuid?.() !== 0) {
      assert.match((await refusal(() => run({ ...cfg, out: locked }, quiet))).message, /permission denied \(EACCES\)/);
      return;
    }
    // root may write anywhere: ask as nobody, through the command line.
    chmodSync(tmp, 0o755);
    const r = spawnSync(process.execPath, ['bin/nst.mjs', 'run', '--content', cfg.content, '--style', cfg.style[0]!, '--weights', cfg.weights, '--image-size', '32', '--backend', 'wasm', '--out', locked], {
      uid: 65534,
      gid: 65534,
      env: { ...process.env, HOME: tmp },
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /cannot create the run folder: permission denied \(EACCES\)/);
  });
});

describe('run ids and the config stored with a run', () => {
  it('64 bits of hash; a named backend is part of the id, auto is not', () => {
    const id = (over: Record<string, unknown>) => runIdFor(resolveConfig({ ...base, ...over }));
    assert.match(id({}), /^tubingen-starry_night-[0-9a-f]{16}$/);
    assert.notEqual(id({ backend: 'cpu' }), id({ backend: 'wasm' }));
    assert.notEqual(id({ backend: 'auto' }), id({ backend: 'wasm' }));
    assert.equal(id({ backend: 'auto', saveEvery: 5, printEvery: 3, experiment: 'x', out: 'y' }), id({ backend: 'auto' }));
  });

  it('a large grid assembles the very ids its resolved runs have', () => {
    const spec = parseSweepSpec({
      name: 'wide',
      base: { content: base.content, style: base.style },
      parameters: {
        start: { values: [{ init: 'content' }, { init: 'noise', seed: 3 }] },
        styleLayers: { values: ['gatys2016_style', ['block1_conv1', 'conv2_1'], ['conv1_1']] },
        style: { values: [[base.style[0]], ['data/images/the_scream.jpg'], [base.style[0], 'data/images/shipwreck.jpg']] },
        styleWeight: { values: Array.from({ length: 600 }, (_, i) => 10 + i) },
      },
    });
    const sweep = expandSweep(spec, { out: tmp });
    assert.equal(sweep.size, 2 * 3 * 3 * 600);
    for (let i = 0; i < sweep.size; i += 97) {
      const r = sweep.run(i);
      assert.equal(r.id, runIdFor(r.config), `run ${i}`);
    }
  });

  it('a folder whose config.json says another config is neither resumed nor counted done', async () => {
    const cfg = { ...base, optimizer: 'adam' as const, iterations: 2, experiment: 'tampered' };
    const done = await run(cfg, quiet);
    const path = join(done.dir, RUN_FILES.config);
    const stored = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...stored, tvWeight: 5 }));
    const e = await refusal(() => run(cfg, quiet));
    assert.match(e.message, /holds the results of another config \(tvWeight: 5 → 0\)/);
    assert.match(e.hint!, /--restart/);
    // Keys the network binding may change are compared as they were requested.
    writeFileSync(path, JSON.stringify({ ...stored, requested: { ...stored.requested, styleWeight: 5 } }));
    assert.match((await refusal(() => run(cfg, quiet))).message, /another config \(styleWeight: 5 → 1000\)/);
    assert.equal((await run(cfg, { ...quiet, resume: 'never' })).stopReason, 'completed');

    const sweep = expandSweep(parseSweepSpec({ name: 'tampered', base: { ...base, optimizer: 'adam', iterations: 2, out: undefined }, parameters: { seed: { values: [0, 1] } } }), { out: tmp });
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), tvWeight: 5 }));
    assert.ok(runsToDo(sweep).todo.some((r) => r.dir === done.dir), 'not skipped as COMPLETED');
    await runSweep(sweep, { index: sweep.runs.findIndex((r) => r.dir === done.dir), log: null });
    assert.equal(readStatus(done.dir)!.state, 'FAILED');
    assert.match(readStatus(done.dir)!.error!, /holds the results of another config/);
  });
});

describe('values placed in job scripts and manifests', () => {
  const sweep = expandSweep(parseSweepSpec({ name: 'emit', base: { content: base.content, style: base.style }, parameters: { seed: { values: [1, 2] } } }, join(tmp, 'emit.yaml')), { out: join(tmp, 'emit-out') });
  writeFileSync(join(tmp, 'emit.yaml'), 'name: emit\n');

  it('a newline in --partition cannot add an #SBATCH line; other values are checked too', async () => {
    for (const [options, pattern] of [
      [{ partition: 'gpu\n#SBATCH --wrap=rm' }, /--partition: "gpu\\n#SBATCH --wrap=rm" is not a Slurm partition name/],
      [{ partition: 'gpu; rm -rf ~' }, /--partition: .* is not a Slurm partition name/],
      [{ time: '2 hours' }, /--time: "2 hours" is not a Slurm time limit/],
    ] as const) {
      assert.match((await refusal(() => slurmScript(sweep, options))).message, pattern);
    }
    assert.match(slurmScript(sweep, { partition: 'gpu,debug', time: '1-12:00:00' }), /#SBATCH --partition=gpu,debug\n/);
    const spaced = expandSweep(sweep.spec, { out: join(tmp, 'with space') });
    assert.match((await refusal(() => slurmScript(spaced))).message, /--out: the path .* has white space/);
  });

  it('k8s: the image and the claim must be names', async () => {
    assert.match((await refusal(() => k8sManifest(sweep, { image: 'reg/nst:1\n  privileged: true' }))).message, /--image: .* is not a container image reference/);
    assert.match((await refusal(() => k8sManifest(sweep, { pvc: 'My_Claim' }))).message, /--pvc: "My_Claim" is not a PersistentVolumeClaim name/);
    assert.doesNotThrow(() => k8sManifest(sweep, { image: 'registry.example.org:5000/team/nst:1.0@sha256:abc', pvc: 'nst-results.v2' }));
  });
});

describe('stop reasons and divergence', () => {
  it('--tolerance 0 never stops "by tolerance": L-BFGS converging says so', async () => {
    const result = await run({ ...base, contentWeight: 0, styleWeight: 0, init: 'content', iterations: 5, tolerance: 0, experiment: 'converged' }, quiet);
    assert.equal(result.stopReason, 'converged');
    const summary = JSON.parse(readFileSync(join(result.dir, RUN_FILES.summary), 'utf8'));
    assert.match(summary.reason, /not --tolerance/);
    assert.ok(existsSync(result.finalImage));
  });

  it('Adam with a huge learning rate: the kept image is the last finite iterate, and the hint is the learning rate', async () => {
    const cfg = { ...base, optimizer: 'adam' as const, learningRate: 1e30, init: 'content' as const, iterations: 10, experiment: 'div-adam' };
    const e = await refusal(() => run(cfg, quiet));
    assert.match(e.message, /NaN or infinite at iteration 2: adam's steps grew the image without bound/);
    assert.match(e.hint!, /lower --learning-rate \(now 1e\+30; try 1e\+29\)/);
    assert.doesNotMatch(e.hint!, /strong_wolfe/);
    const dir = runDir(resolveConfig(cfg));
    const summary = JSON.parse(readFileSync(join(dir, RUN_FILES.summary), 'utf8'));
    assert.deepEqual([summary.stopReason, summary.iterations, summary.lastFinite], ['diverged', 0, snapshotPath(dir, 0)]);
    // Iterate 0 is the content image (init content): not the saturated image of iterate 1.
    const [kept, content] = await Promise.all([loadImage(snapshotPath(dir, 0)), loadImage(cfg.content, { maxSide: 32 })]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(kept, content))).dataSync()[0]!);
    tf.dispose([kept, content]);
    assert.ok(diff <= 1, `the kept image differs from the content image by ${diff}`);
    assert.ok(!existsSync(join(dir, RUN_FILES.checkpoint)) && !existsSync(join(dir, RUN_FILES.final)));
  });

  it('L-BFGS: with strong Wolfe the hint is its trial step, without a line search the hint is the line search', async () => {
    const wolfe = await refusal(() => run({ ...base, learningRate: 1e20, iterations: 5, experiment: 'div-wolfe' }, quiet));
    assert.match(wolfe.message, /a trial step of the strong-Wolfe line search/);
    assert.match(wolfe.hint!, /lower --learning-rate \(L-BFGS's first trial step, now 1e\+20/);
    assert.doesNotMatch(wolfe.hint!, /use --optimizer lbfgs|--line-search strong_wolfe/);
    const none = await refusal(() => run({ ...base, learningRate: 1e20, lineSearch: 'none', iterations: 5, experiment: 'div-none' }, quiet));
    assert.match(none.hint!, /use --line-search strong_wolfe/);
  });

  it('weights whose product overflows float32: the hint is the weights, and no iterate had a finite loss', async () => {
    const e = await refusal(() => run({ ...base, styleWeight: 3e38, iterations: 5, experiment: 'div-weights' }, quiet));
    assert.match(e.message, /at iteration 1: the weighted style loss overflows float32 .* while every term is finite/);
    assert.match(e.hint!, /lower --style-weight \(now 3e\+38\)/);
    assert.match(e.hint!, /no iterate had a finite loss/);
  });
});

describe('images as a viewer shows them', () => {
  // 4×2: the left half red, the right half blue.
  const raw = Buffer.alloc(4 * 2 * 3);
  for (let i = 0; i < 8; i++) raw[i * 3 + (i % 4 < 2 ? 0 : 2)] = 255;
  const source = () => sharp(raw, { raw: { width: 4, height: 2, channels: 3 } });
  const pixel = (p: { data: Uint8Array; width: number }, x: number, y: number) => Array.from(p.data.slice((y * p.width + x) * 3, (y * p.width + x) * 3 + 3));

  it('turns by the EXIF orientation, also when resizing to the longer side', async () => {
    for (const [orientation, top] of [[6, [255, 0, 0]], [8, [0, 0, 255]]] as const) {
      const path = join(tmp, `o${orientation}.png`);
      await source().png().withMetadata({ orientation }).toFile(path);
      assert.deepEqual(await readImageSize(path), { height: 4, width: 2 });
      const p = await readPixels(path);
      assert.deepEqual([p.width, p.height], [2, 4]);
      assert.deepEqual(pixel(p, 0, 0), top, `orientation ${orientation}`);
      const big = await readPixels(path, { maxSide: 8 });
      assert.deepEqual([big.width, big.height], [4, 8], 'portrait stays portrait');
    }
  });

  it('16-bit, greyscale, CMYK and transparent images decode to the 8-bit sRGB picture', async () => {
    const files: [string, sharp.Sharp][] = [
      ['16bit.png', source().toColourspace('rgb16').png()],
      ['grey.png', source().toColourspace('b-w').png()],
      ['cmyk.jpg', source().toColourspace('cmyk').jpeg({ quality: 100 })],
    ];
    for (const [name, img] of files) await img.toFile(join(tmp, name));
    const p16 = await readPixels(join(tmp, '16bit.png'));
    assert.deepEqual([pixel(p16, 0, 0), pixel(p16, 3, 1)], [[255, 0, 0], [0, 0, 255]]);
    const grey = await readPixels(join(tmp, 'grey.png'));
    assert.equal(grey.data.length, 4 * 2 * 3);
    const [r, g, b] = pixel(grey, 0, 0);
    assert.ok(r === g && g === b && r! > 0 && r! < 255, `grey ${r},${g},${b}`);
    const cmyk = await readPixels(join(tmp, 'cmyk.jpg'));
    const red = pixel(cmyk, 0, 0);
    assert.ok(red[0]! > 180 && red[1]! < 60 && red[2]! < 60, `CMYK red reads as red: ${red}`);
    // Transparent pixels over white, as viewers show them; opaque ones unchanged.
    const rgba = Buffer.alloc(4 * 2 * 4);
    for (let i = 0; i < 8; i++) rgba.set([10, 200, 30, i % 4 < 2 ? 0 : 255], i * 4);
    for (const [name, depth] of [['alpha.png', 'srgb'], ['alpha16.png', 'rgb16']] as const) {
      await sharp(rgba, { raw: { width: 4, height: 2, channels: 4 } }).toColourspace(depth).png().toFile(join(tmp, name));
      const a = await readPixels(join(tmp, name));
      assert.deepEqual([pixel(a, 0, 0), pixel(a, 3, 0)], [[255, 255, 255], [10, 200, 30]], name);
    }
  });
});
