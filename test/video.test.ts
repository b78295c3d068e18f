/**
 * Video over the session (Ruder, Dosovitskiy & Brox 2016): on a 6-frame synthetic clip at 64 px the
 * temporal loss and the warped init lower the warping error (measured with the true flow) at least 2×
 * against per-frame runs of the same iterations while every frame's style term still falls; `nst video`
 * killed mid-clip resumes at the first unfinished frame and ends with the same frames; reused style
 * targets give the session's own objective; user mistakes are NstErrors before any compute.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../src/cli/main';
import { initBackend } from '../src/lib/backend';
import { resolveConfig } from '../src/lib/config';
import { NstError } from '../src/lib/errors';
import { loadImage, saveImage } from '../src/lib/image/io';
import { bindNetwork } from '../src/lib/net/bind-network';
import { computeStyleTargets, createSession, openNetwork } from '../src/lib/run/session';
import { clipFramePath, type ClipRecord } from '../src/lib/video/clip';
import { parseClipMetrics } from '../src/lib/video/clip-metrics';
import { consecutiveWarpingErrors } from '../src/lib/video/measures';
import { cameraPath, renderClip } from '../src/lib/video/synthetic';
import { clipDirFor, clipIdFor, resolveClipConfig } from '../src/lib/video/video-config';
import { runVideo } from '../src/lib/video/video-run';
import { passDir } from '../src/lib/video/multi-pass';
import { expandSweep } from '../src/lib/sweep/expand';
import { summaryRows } from '../src/lib/sweep/report';
import { runOne, runSweep } from '../src/lib/sweep/runner';
import { parseSweepSpec } from '../src/lib/sweep/spec';

await initBackend('wasm');

const dir = mkdtempSync(join(tmpdir(), 'nst-video-'));
const FRAMES = 6;
const STYLE = 'data/images/starry_night.jpg';
/** A 64×48 camera panning right and down over Tübingen, 3 px a frame, with its exact flows. */
const source = await loadImage('data/images/tubingen.jpg', { maxSide: 110 });
const centre = { cx: (source.shape[2] - 1) / 2 - 10, cy: (source.shape[1] - 1) / 2, scale: 1, angle: 0 };
const clip = renderClip(source, cameraPath(centre, { ...centre, cx: centre.cx + 15, cy: centre.cy + 3 }, FRAMES), [48, 64]);
source.dispose();
const contentDir = join(dir, 'content');
for (const [k, f] of clip.frames.entries()) await saveImage(f, join(contentDir, `f${k}.png`));

/** Small and fast (mobilenet_v2 at 64 px is ~0.1 s an Adam iteration here); the same for every clip below. */
const base = {
  content: contentDir,
  style: [STYLE],
  imageSize: 64,
  iterations: 12,
  optimizer: 'adam',
  learningRate: 5,
  network: 'mobilenet_v2',
  backend: 'wasm',
  experiment: 'video',
  flow: 'lucas-kanade',
  temporalWeight: 5e3,
};

async function outputs(clipDir: string): Promise<tf.Tensor4D[]> {
  return Promise.all(clip.frames.map((_, k) => loadImage(clipFramePath(clipDir, k))));
}

/** Mean warping error between consecutive outputs, with the true flow and its weights c. */
async function trueWarpingError(clipDir: string): Promise<number> {
  const outs = await outputs(clipDir);
  try {
    const errors = consecutiveWarpingErrors(outs, clip);
    return errors.reduce((a, b) => a + b, 0) / errors.length;
  } finally {
    tf.dispose(outs);
  }
}

/** metrics.csv without the wall-time column, which differs between any two runs. */
function metricsWithoutTimes(clipDir: string): string {
  const lines = readFileSync(join(clipDir, 'metrics.csv'), 'utf8').trim().split('\n');
  const col = lines[0]!.split(',').indexOf('elapsed_ms');
  return lines.map((l) => l.split(',').filter((_, i) => i !== col).join(',')).join('\n');
}

describe('video on the session (6 frames, 64 px, mobilenet_v2)', () => {
  const whole = join(dir, 'whole');
  let temporalDir = '';

  it('the temporal loss lowers the warping error ≥ 2× against per-frame runs, and every style term still falls', { timeout: 120_000 }, async () => {
    const perFrame = await runVideo({ ...base, out: whole, frameInit: 'session', temporalOffsets: 'none' }, { log: null, encode: false, trueFlows: clip.backward });
    // After the first clip: the network's weights stay cached for the process.
    const before = tf.memory().numTensors;
    const temporal = await runVideo({ ...base, out: whole }, { log: null, encode: false, trueFlows: clip.backward });
    assert.equal(tf.memory().numTensors, before, 'the tensor count is flat');
    temporalDir = temporal.dir;
    const [independent, coherent] = [await trueWarpingError(perFrame.dir), await trueWarpingError(temporal.dir)];
    assert.ok(coherent * 2 <= independent, `warping error with the temporal loss ${coherent.toFixed(2)}, per frame ${independent.toFixed(2)}`);

    const rows = parseClipMetrics(readFileSync(join(temporal.dir, 'metrics.csv'), 'utf8'));
    for (let k = 0; k < FRAMES; k++) {
      const frame = rows.filter((r) => r.frame === k);
      assert.equal(frame.length, base.iterations + 1, `frame ${k}: one row per iterate, the final one included`);
      const [first, last] = [frame[0]!.logs, frame[frame.length - 1]!.logs];
      assert.ok(last.style < first.style, `frame ${k}: style ${first.style} → ${last.style}`);
      assert.equal('temporal' in last.terms, k > 0, `frame ${k}: the temporal term is logged from frame 1 on`);
      if (k > 0) {
        // The total holds γ·temporal besides the weighted groups.
        assert.ok(Math.abs(first.total - (first.content + first.style + first.tv + base.temporalWeight * first.terms.temporal!)) <= 1e-4 * first.total);
      }
    }
    const record = JSON.parse(readFileSync(join(temporal.dir, 'clip.json'), 'utf8')) as ClipRecord;
    assert.equal(record.status, 'complete');
    assert.equal(record.frames.length, FRAMES);
    assert.ok(record.framesPerMinute! > 0);
    assert.ok(record.meanWarpingError! >= 0 && record.meanWarpingError! < (perFrame.record.meanWarpingError! / 2));
    // Lucas–Kanade on a 3 px pan of a textured photo: well under a pixel.
    assert.ok(record.meanFlowEndpointError! < 0.5, `flow EPE ${record.meanFlowEndpointError}`);
  });

  it('a clip killed mid-way (nst video, SIGKILL) resumes at the first unfinished frame and ends with the same frames', { timeout: 120_000 }, async () => {
    assert.ok(temporalDir, 'needs the uninterrupted clip of the test above');
    const out = join(dir, 'killed');
    const cfg = { ...base, out };
    const killedDir = clipDirFor(resolveClipConfig(cfg));
    const args = Object.entries(cfg).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`, String(v)]);
    const child = spawn(process.execPath, ['bin/nst.mjs', 'video', ...args, '--no-video'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    while (!existsSync(clipFramePath(killedDir, 2)) && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await exited;
    const done = readdirSync(join(killedDir, 'frames')).filter((f) => f.endsWith('.png')).length;
    assert.ok(done >= 3 && done < FRAMES, `killed after ${done} frames`);

    const lines: string[] = [];
    await runVideo(cfg, { log: (l) => lines.push(l), encode: false });
    const redone = lines.filter((l) => /^frame \d+\/\d+ done/.test(l)).map((l) => Number(/^frame (\d+)/.exec(l)![1]) - 1);
    assert.deepEqual(redone, Array.from({ length: FRAMES - done }, (_, i) => done + i), 'the resumed clip starts at the first frame without a PNG');
    for (let k = 0; k < FRAMES; k++) {
      assert.ok(readFileSync(clipFramePath(killedDir, k)).equals(readFileSync(clipFramePath(temporalDir, k))), `frame ${k} is the uninterrupted clip's`);
    }
    assert.equal(metricsWithoutTimes(killedDir), metricsWithoutTimes(temporalDir), "the killed frame's rows are dropped, the others kept");
  });
});

describe('the multi-pass algorithm (§3.4)', () => {
  const multi = { ...base, frameInit: 'session', temporalOffsets: 'none', passes: 3, passIterations: 6 };
  let multiDir = '';

  it('blending with the warped neighbours, backward then forward, steadies per-frame results', { timeout: 120_000 }, async () => {
    const single = await runVideo({ ...multi, passes: 1, out: join(dir, 'single-pass') }, { log: null, encode: false });
    const result = await runVideo({ ...multi, out: join(dir, 'multi-pass') }, { log: null, encode: false });
    multiDir = result.dir;
    assert.deepEqual(result.record.passes!.map((p) => [p.pass, p.direction, p.frames.map((f) => f.index)]), [
      [2, 'backward', [5, 4, 3, 2, 1, 0]],
      [3, 'forward', [0, 1, 2, 3, 4, 5]],
    ]);
    assert.equal(result.record.resultFrames, join(passDir(result.dir, 3), 'frames'));
    const [before, after] = [await trueWarpingError(single.dir), await trueWarpingError(passDir(result.dir, 3))];
    assert.ok(after * 1.5 <= before, `warping error after 3 passes ${after.toFixed(2)}, one per-frame pass ${before.toFixed(2)}`);
    // Pass 1 is the single pass, frame for frame.
    for (let k = 0; k < FRAMES; k++) assert.ok(readFileSync(clipFramePath(result.dir, k)).equals(readFileSync(clipFramePath(single.dir, k))));
    const rows = parseClipMetrics(readFileSync(join(passDir(result.dir, 2), 'metrics.csv'), 'utf8'));
    assert.equal(rows.length, FRAMES * (multi.passIterations + 1), 'pass 2 logs its own rows: iterates 0..passIterations of every frame');
    const record = JSON.parse(readFileSync(join(result.dir, 'clip.json'), 'utf8'));
    assert.equal(record.status, 'complete');
    assert.equal(record.resultWarpingErrors.length, FRAMES - 1);
  });

  it('a clip stopped in pass 2 resumes there and ends with the same frames', { timeout: 120_000 }, async () => {
    assert.ok(multiDir, 'needs the uninterrupted clip of the test above');
    const cfg = { ...multi, out: join(dir, 'multi-killed') };
    // Pass 1 logs 13 rows a frame; stop after two frames of pass 2 (7 rows each) and part of a third.
    let calls = 0;
    const stopAt = FRAMES * (base.iterations + 1) + 2 * (multi.passIterations + 1) + 3;
    await assert.rejects(runVideo(cfg, { log: null, encode: false, onStep: () => { if (++calls === stopAt) throw new Error('killed'); } }), /killed/);
    const killed = clipDirFor(resolveClipConfig(cfg));
    assert.deepEqual(readdirSync(join(passDir(killed, 2), 'frames')).sort(), ['frame_00005.png', 'frame_00006.png']);
    const again = await runVideo(cfg, { log: null, encode: false });
    assert.deepEqual(again.record.passes![0]!.frames.map((f) => f.index), [3, 2, 1, 0], 'pass 2 resumes at its first frame without a PNG');
    for (const pass of [2, 3]) {
      for (let k = 0; k < FRAMES; k++) {
        assert.ok(readFileSync(clipFramePath(passDir(killed, pass), k)).equals(readFileSync(clipFramePath(passDir(multiDir, pass), k))), `pass ${pass} frame ${k}`);
      }
      assert.equal(metricsWithoutTimes(passDir(killed, pass)), metricsWithoutTimes(passDir(multiDir, pass)), `pass ${pass}: the killed frame's rows are dropped`);
    }
  });
});

describe('clips in sweeps (kind: video)', () => {
  it('run, skip when done, resume when stopped, and report their warping error', { timeout: 120_000 }, async () => {
    const out = join(dir, 'sweeps');
    const { experiment: _experiment, ...clip } = base;
    const spec = parseSweepSpec({ name: 'clips', kind: 'video', base: { ...clip, maxFrames: 3, iterations: 3 }, parameters: { temporalOffsets: { values: ['none', '1'] } } }, '');
    const sweep = expandSweep(spec, { out });
    assert.deepEqual(sweep.runs.map((r) => r.id), ['none', '1'].map((t) => clipIdFor(resolveClipConfig({ ...base, maxFrames: 3, iterations: 3, temporalOffsets: t, out, experiment: 'clips' }))));
    // Stopped during its first frame, the clip is INTERRUPTED; the same call continues it.
    const controller = new AbortController();
    assert.equal(await runOne(sweep, sweep.run(1), { signal: controller.signal, onIteration: () => controller.abort() }), 'INTERRUPTED');
    assert.ok(!existsSync(clipFramePath(sweep.run(1).dir, 0)));
    const first = await runSweep(sweep, { log: null, progress: false });
    assert.deepEqual(first.ran, [0, 1]);
    assert.deepEqual(first.states, ['COMPLETED', 'COMPLETED']);
    for (const r of sweep.runs) {
      assert.equal(JSON.parse(readFileSync(join(r.dir, 'clip.json'), 'utf8')).status, 'complete');
      assert.ok(existsSync(join(r.dir, 'clip.mp4')) && existsSync(clipFramePath(r.dir, 2)));
    }
    assert.deepEqual((await runSweep(sweep, { log: null, progress: false })).ran, [], 'completed clips are not run again');
    const rows = summaryRows(sweep);
    assert.deepEqual(rows.map((r) => [r.status, r.iterations]), [['COMPLETED', 3], ['COMPLETED', 3]]);
    for (const row of rows) assert.ok((row.mean_warping_error as number) > 0 && (row.frames_per_minute as number) > 0, JSON.stringify(row));
  });

  it('a run sweep that sets a video key is refused, naming kind: video', () => {
    assert.throws(() => parseSweepSpec({ name: 'x', base: { temporalWeight: 1 }, parameters: { seed: { values: [0] } } }, 'x.yaml'), (e: unknown) => e instanceof NstError && /temporalWeight: is a video key/.test(e.message) && /kind: video/.test(e.hint!));
  });
});

describe('style targets computed once per clip', () => {
  it('give a session the same objective as its own targets, and the session leaves them alive', { timeout: 60_000 }, async () => {
    const cfg = resolveConfig({ content: join(contentDir, 'f0.png'), style: [STYLE], imageSize: 64, network: 'mobilenet_v2', iterations: 1 });
    const net = await openNetwork(cfg);
    const targets = await computeStyleTargets(bindNetwork(cfg, net).config, net, [48, 64]);
    try {
      // One session at a time: each registers its image variable by name.
      const own = await createSession(cfg, { net });
      const a = own.score().logs;
      own.dispose();
      const reused = await createSession(cfg, { net, styleTargets: targets });
      const b = reused.score().logs;
      reused.dispose();
      assert.deepEqual(b.terms, a.terms);
      // Still usable after both sessions are gone: the targets are borrowed.
      const again = await createSession(cfg, { net, styleTargets: targets });
      assert.equal(again.score().logs.style, a.style);
      again.dispose();
    } finally {
      targets.dispose();
      net.dispose();
    }
  });
});

describe('nst video: mistakes are NstErrors before any compute', () => {
  const out = join(dir, 'errors');
  const empty = join(dir, 'empty');
  mkdirSync(empty, { recursive: true });
  const fakeVideo = join(dir, 'clip.mp4');
  writeFileSync(fakeVideo, 'not a video');
  const rejects = (partial: Record<string, unknown>, pattern: RegExp, encode = false) =>
    assert.rejects(runVideo({ ...base, out, ...partial }, { log: null, encode }), (e: unknown) => e instanceof NstError && pattern.test(`${e.message} ${e.hint ?? ''}`));

  it('names the bad option and what is allowed', async () => {
    await rejects({ frameInit: 'noise' }, /--frame-init \(frameInit\): 'noise' is not allowed.*warped, previous, session/);
    await rejects({ temporalOffsets: '2,4' }, /--temporal-offsets.*starting at 1/);
    await rejects({ temporalOffsets: '1,1' }, /--temporal-offsets.*increasing/);
    await rejects({ flow: 'tv-l1' }, /--flow.*horn-schunck, lucas-kanade/);
    await rejects({ temporalWeight: -1 }, /--temporal-weight.*≥ 0/);
    await rejects({ temporalWeight: 0 }, /--temporal-weight.*--temporal-offsets none/);
    await rejects({ maxFrames: 2.5 }, /--max-frames.*whole number/);
    await rejects({ frameRate: 3 }, /unknown config key 'frameRate'.*video keys: temporalWeight/);
    await rejects({ iterations: 0 }, /--iterations.*positive/);
  });

  it('says when the clip, its frames, the style or ffmpeg are missing', async () => {
    await rejects({ content: join(dir, 'nowhere.mp4') }, /--content: clip not found/);
    await rejects({ content: '' }, /--content: no clip given/);
    await rejects({ content: empty }, /no frames in .*empty/);
    await rejects({ style: [join(dir, 'nope.jpg')] }, /--style: image not found/);
    const saved = process.env.NST_FFMPEG;
    process.env.NST_FFMPEG = join(dir, 'no-such-ffmpeg');
    try {
      await rejects({ content: fakeVideo }, /ffmpeg not found.*apt-get install ffmpeg/);
      await rejects({ content: contentDir }, /ffmpeg not found/, true);
    } finally {
      if (saved === undefined) delete process.env.NST_FFMPEG;
      else process.env.NST_FFMPEG = saved;
    }
    assert.ok(!existsSync(out), 'nothing was written');
  });

  it('the command exits with 2 and prints the error and its hint', async () => {
    const printed: string[] = [];
    const error = console.error;
    console.error = (s: string) => printed.push(s);
    try {
      assert.equal(await main(['video', '--content', empty, '--style', STYLE, '--no-video', '--out', out]), 2);
      assert.equal(await main(['video', '--content', contentDir, '--style', STYLE, '--temporal-offsets', 'x', '--out', out]), 2);
    } finally {
      console.error = error;
    }
    assert.match(printed[0]!, /^error: no frames in/);
    assert.match(printed[1]!, /--temporal-offsets/);
  });
});

describe('clip ids', () => {
  it('cover the video keys and the run keys, not where the clip is written', () => {
    const id = (p: Record<string, unknown>) => clipIdFor(resolveClipConfig({ ...base, ...p }));
    const ids = [id({}), id({ temporalWeight: 1e3 }), id({ temporalOffsets: '1,2' }), id({ frameInit: 'previous' }), id({ flow: 'horn-schunck' }), id({ iterations: 3 })];
    assert.equal(new Set(ids).size, ids.length, ids.join(' '));
    assert.equal(id({ out: join(dir, 'elsewhere') }), ids[0]);
    assert.match(ids[0]!, /^content-starry_night-[0-9a-f]{16}$/);
  });
});
