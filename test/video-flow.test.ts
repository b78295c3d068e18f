/**
 * Video: optical flow against the known motion of synthetic clips, warping, the consistency weights c
 * of Ruder et al. (2016) against their inequalities, the temporal loss and its gradient against the
 * formula, frames in and out through ffmpeg, and the tensor count.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { NstError } from '../src/lib/errors';
import { loadImage, saveImage } from '../src/lib/image/io';
import { createRng } from '../src/lib/rng';
import { clipFramePath, runClip, type ClipRecord, type Stylise } from '../src/lib/video/clip';
import { consistencyWeights, longTermWeights } from '../src/lib/video/consistency';
import { estimateFlow, FLOW_METHODS } from '../src/lib/video/flow';
import { benchmarkFlow, flowBenchmarkTable } from '../src/lib/video/flow-benchmark';
import { flowToRgb } from '../src/lib/video/flow-colour';
import { decodeVideo, encodeVideo, listFrames, videoFrameRate } from '../src/lib/video/frames';
import { consecutiveWarpingErrors, endpointError, warpingError } from '../src/lib/video/measures';
import { blur } from '../src/lib/video/pyramid';
import { cameraPath, panAndZoomPath, renderClip, withMovingPatch, type Pose } from '../src/lib/video/synthetic';
import { frameTargets } from '../src/lib/video/temporal-targets';
import { temporalLoss } from '../src/lib/video/temporal-loss';
import { insideMask, warp } from '../src/lib/video/warp';

await initBackend('wasm');

const SIZE: [number, number] = [96, 128];
/** tubingen.jpg with its longer side 205 px, so that a 128×96 frame at scale 1 has room to move. */
const source = await loadImage('data/images/tubingen.jpg', { maxSide: 205 });
const [, SH, SW] = source.shape;
const centre: Pose = { cx: (SW - 1) / 2, cy: (SH - 1) / 2, scale: 1, angle: 0 };

const CLIPS: Record<string, Pose[]> = {
  'sub-pixel translation': cameraPath(centre, { ...centre, cx: centre.cx + 1.37, cy: centre.cy - 0.62 }, 2),
  rotation: cameraPath(centre, { ...centre, angle: (2 * Math.PI) / 180 }, 2),
  zoom: cameraPath(centre, { ...centre, scale: 1 / 1.04 }, 2),
};

/** Runs `body` and checks that it leaves no tensor behind. */
async function flat<T>(what: string, body: () => T | Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await body();
  assert.equal(tf.memory().numTensors, before, `${what}: the tensor count is flat`);
  return result;
}

const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());
const ffmpegMissing = spawnSync('ffmpeg', ['-version']).error ? 'ffmpeg is not installed (apt-get install ffmpeg)' : undefined;

describe('optical flow on synthetic clips with known motion', () => {
  for (const method of FLOW_METHODS) {
    for (const [name, poses] of Object.entries(CLIPS)) {
      it(`${method}: ${name} has a mean endpoint error under 0.5 px away from the borders`, async () => {
        const clip = renderClip(source, poses, SIZE);
        const epe = await flat(`${method} ${name}`, () => {
          const flow = estimateFlow(clip.frames[0]!, clip.frames[1]!, { method });
          const e = endpointError(flow, clip.forward[0]!, 8);
          flow.dispose();
          return e;
        });
        // The motion is ≥ 1 px somewhere in every clip, so a zero flow would fail.
        const zero = tf.tidy(() => endpointError(tf.zerosLike(clip.forward[0]!), clip.forward[0]!, 8));
        clip.dispose();
        assert.ok(zero > 1, `the clip moves (zero-flow error ${zero.toFixed(2)} px)`);
        assert.ok(epe < 0.5, `endpoint error ${epe.toFixed(3)} px`);
      });
    }
  }

  it('the benchmark measures every clip: error, time and kernel count', async () => {
    const rows = await flat('benchmark', () => benchmarkFlow({ width: 64, repeats: 1, methods: ['lucas-kanade'] }));
    assert.deepEqual(rows.map((r) => r.clip), ['translation', 'rotation 2°', 'zoom 4%', 'pan', 'moving patch']);
    for (const r of rows) assert.ok(r.size === '64×48' && r.minMs > 0 && r.kernels > 100 && r.maxMotion > 0.5, JSON.stringify(r));
    for (const r of rows.slice(0, 4)) assert.ok(r.epe < 0.5, `${r.clip}: ${r.epe}`);
    assert.equal(flowBenchmarkTable(rows).split('\n').length, 2 + rows.length);
  });

  it('rejects frames of different sizes and unknown methods', () => {
    const a = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    const b = tf.zeros([1, 8, 9, 3]) as tf.Tensor4D;
    assert.throws(() => estimateFlow(a, b), (e: unknown) => e instanceof NstError && /one size/.test(e.message));
    assert.throws(() => estimateFlow(a, a, { method: 'farneback' as never }), (e: unknown) => e instanceof NstError && /horn-schunck/.test(e.hint ?? ''));
    tf.dispose([a, b]);
  });
});

describe('warping', () => {
  it('warping the next frame by the true flow reproduces the frame, to within interpolation error', async () => {
    // Both frames are bilinear resamplings of one source, and the warp resamples once more, so what is
    // left is interpolation error: it must shrink as the source gets smoother, the motion unchanged.
    const smooth = blur(blur(source));
    for (const [name, poses] of Object.entries(CLIPS)) {
      for (const [image, bound, ratio] of [[source, 3, 3], [smooth, 0.6, 8]] as const) {
        const clip = renderClip(image, poses, SIZE);
        const [moved, still] = await flat(`warp ${name}`, () =>
          tf.tidy(() => {
            // frame0(p) = frame1(p + w(p)); compare where the warp stays inside the frame.
            const warped = warp(clip.frames[1]!, clip.forward[0]!);
            const inside = insideMask(clip.forward[0]!);
            const err = (x: tf.Tensor4D) => tf.div(tf.sum(tf.mul(inside, tf.abs(tf.sub(x, clip.frames[0]!)))), tf.mul(tf.sum(inside), 3)).dataSync()[0]!;
            return [err(warped), err(clip.frames[1]!)];
          }),
        );
        clip.dispose();
        const which = image === smooth ? 'smoothed source' : 'source';
        assert.ok(moved < bound, `${name}, ${which}: mean |ω(frame1) − frame0| = ${moved.toFixed(2)} of 255`);
        assert.ok(moved < still / ratio, `${name}, ${which}: the warp explains the motion (${moved.toFixed(2)} vs ${still.toFixed(2)} unwarped)`);
      }
    }
    smooth.dispose();
  });

  it('shows a flow as colour: direction as hue, length as saturation', () => {
    // Still, +x at full length, −x, +y at half length.
    const flow = tf.tensor4d([0, 0, 2, 0, -2, 0, 0, 1], [1, 1, 4, 2]);
    const rgb = flowToRgb(flow);
    const px = values(rgb).map(Math.round);
    assert.deepEqual(px.slice(0, 3), [255, 255, 255], 'no motion is white');
    assert.deepEqual(px.slice(3, 6), [255, 0, 0], '+x is red (hue 0°)');
    assert.deepEqual(px.slice(6, 9), [0, 255, 255], '−x is cyan (hue 180°)');
    // hue 90°: (0.5, 1, 0) at full saturation, half saturation blends it halfway to white.
    assert.deepEqual(px.slice(9, 12), [191, 255, 128], '+y at half length');
    tf.dispose([flow, rgb]);
  });

  it('samples bilinearly at exact positions and clamps outside the frame', () => {
    // A 2×3 ramp image: value = 10·y + x.
    const image = tf.tensor4d([0, 1, 2, 10, 11, 12], [1, 2, 3, 1]);
    const flow = tf.tensor4d([0.25, 0.5, 5, 0, 0, -3, 0, 0, -0.5, 0, 0, 0.75], [1, 2, 3, 2]);
    const out = warp(image, flow);
    const mask = insideMask(flow);
    // (0,0)+(0.25,0.5) → 10·0.5+0.25; (1,0)+(5,0) → clamped to x=2; (2,0)+(0,−3) → clamped to y=0;
    // (0,1)+(0,0); (1,1)+(−0.5,0) → 10.5; (2,1)+(0,0.75) → y clamped to 1.
    assert.deepEqual(values(out).map((v) => Math.round(v * 1000) / 1000), [5.25, 2, 2, 10, 10.5, 12]);
    assert.deepEqual(values(mask), [1, 0, 0, 1, 1, 0]);
    tf.dispose([image, flow, out, mask]);
  });
});

describe('consistency weights c (Ruder et al. 2016, §3.2)', () => {
  it('mark the band a camera pan uncovers as c = 0, with estimated flows', async () => {
    const clip = renderClip(source, cameraPath(centre, { ...centre, cx: centre.cx + 2.6 }, 2), SIZE);
    const c = await flat('pan weights', () => {
      const forward = estimateFlow(clip.frames[0]!, clip.frames[1]!);
      const backward = estimateFlow(clip.frames[1]!, clip.frames[0]!);
      const weights = consistencyWeights(forward, backward);
      const v = values(weights);
      tf.dispose([forward, backward, weights]);
      return v;
    });
    clip.dispose();
    const [h, w] = SIZE;
    const column = (x: number) => Array.from({ length: h - 16 }, (_, i) => c[(i + 8) * w + x]!);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // The camera moved 2.6 px right: frame 1's columns x > w − 1 − 2.6 show what frame 0 never saw.
    for (const x of [w - 3, w - 2, w - 1]) assert.equal(mean(column(x)), 0, `uncovered column ${x} has c = 0`);
    const rest = Array.from({ length: w - 16 }, (_, x) => column(x + 4)).flat();
    assert.ok(mean(rest) > 0.95, `the rest of the frame is reliable (mean c ${mean(rest).toFixed(3)})`);
  });

  it('mark the background a moving patch uncovers, and its boundary, with true flows', async () => {
    const patch = tf.tidy(() => tf.fill([1, 24, 24, 3], 200) as tf.Tensor4D);
    // The patch moves 4 px right per frame over a still background: frame 1 shows, at x ∈ [40, 44),
    // rows [30, 54), background that the patch hid in frame 0.
    const clip = withMovingPatch(renderClip(source, [centre, centre], SIZE), patch, [40, 30], [4, 0]);
    patch.dispose();
    const c = await flat('patch weights', () => {
      const weights = consistencyWeights(clip.forward[0]!, clip.backward[0]!);
      const v = values(weights);
      weights.dispose();
      return v;
    });
    clip.dispose();
    const w = SIZE[1];
    const at = (x: number, y: number) => c[y * w + x]!;
    for (let y = 31; y < 53; y++) for (let x = 40; x < 44; x++) assert.equal(at(x, y), 0, `disoccluded (${x},${y})`);
    // The patch's left and right edges in frame 1 are motion boundaries.
    for (let y = 31; y < 53; y++) assert.equal(at(67, y), 0, `right edge of the patch (67,${y})`);
    // Inside the patch and in the still background far from it the flows agree.
    for (let y = 34; y < 50; y++) for (const x of [50, 60, 10, 100]) assert.equal(at(x, y), 1, `reliable (${x},${y})`);
  });

  it('switch at the paper\'s thresholds: 0.01(|w̃|² + |ŵ|²) + 0.5 and 0.01|ŵ|² + 0.002', () => {
    const [h, w] = [5, 9];
    const constant = (u: number) => tf.tidy(() => tf.concat([tf.fill([1, h, w, 1], u), tf.zeros([1, h, w, 1])], 3) as tf.Tensor4D);
    const middle = (weights: tf.Tensor4D) => weights.dataSync()[2 * w + 4]!;
    // ŵ = (1, 0), w = (−1 + ε, 0): |w̃ + ŵ|² = ε² against 0.01((1 − ε)² + 1) + 0.5.
    for (const [eps, expected] of [[0.7, 1], [0.72, 0]] as const) {
      const backward = constant(1);
      const forward = constant(-1 + eps);
      const weights = consistencyWeights(forward, backward);
      assert.equal(middle(weights), expected, `ε = ${eps}: ${eps * eps} vs ${0.01 * ((1 - eps) ** 2 + 1) + 0.5}`);
      tf.dispose([backward, forward, weights]);
    }
    // û = a·(x − 4), v̂ = 0, and w(y) = −a(y − 4)/(1 + a) its exact inverse: only the motion-boundary
    // test can fire, and at x = 4 (ŵ = 0) it reads |∇û|² = a² > 0.002.
    for (const [a, expected] of [[0.04, 1], [0.05, 0]] as const) {
      const field = (k: number) =>
        tf.tidy(() => {
          const x = tf.sub(tf.reshape(tf.tile(tf.reshape(tf.range(0, w), [1, w]), [h, 1]), [1, h, w, 1]), 4);
          return tf.concat([tf.mul(x, k), tf.zeros([1, h, w, 1])], 3) as tf.Tensor4D;
        });
      const backward = field(a);
      const forward = field(-a / (1 + a));
      const weights = consistencyWeights(forward, backward);
      assert.equal(middle(weights), expected, `a = ${a}: a² = ${a * a} vs 0.002`);
      tf.dispose([backward, forward, weights]);
    }
  });

  it('long-term weights count each pixel against the most recent frame that shows it', () => {
    const masks = [
      [1, 0, 0, 1],
      [1, 1, 0, 0],
      [0, 1, 1, 1],
    ].map((m) => tf.tensor4d(m, [1, 1, 4, 1]));
    const long = longTermWeights(masks);
    assert.deepEqual(long.map(values), [
      [1, 0, 0, 1],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
    ]);
    tf.dispose([...masks, ...long]);
  });
});

describe('temporal loss (Ruder et al. 2016, eq. 3)', () => {
  const [h, w] = [4, 5];
  const ramp = (k: number, off: number) => tf.tensor4d(Array.from({ length: h * w * 3 }, (_, i) => ((i * k + off) % 97) * 2.5), [1, h, w, 3]);
  const weightsOf = () => tf.tensor4d(Array.from({ length: h * w }, (_, i) => (i % 3 === 0 ? 0 : 1)), [1, h, w, 1]);

  it('is 0 when the image equals the warped previous frame, and (1/D)Σc(x − ω)² otherwise', () => {
    const warped = ramp(7, 3);
    const c = weightsOf();
    const x = ramp(11, 5);
    const loss = temporalLoss([{ warped, weights: c }]);
    assert.equal(tf.tidy(() => loss.evaluate({}, warped).dataSync()[0]), 0);
    const xs = values(x);
    const ws = values(warped);
    const cs = values(c);
    const expected = xs.reduce((s, xi, i) => s + cs[Math.floor(i / 3)]! * (xi - ws[i]!) ** 2, 0) / (h * w * 3);
    const got = tf.tidy(() => loss.evaluate({}, x).dataSync()[0]!);
    assert.ok(Math.abs(got - expected) / expected < 1e-5, `${got} vs ${expected}`);
    tf.dispose([warped, c, x]);
  });

  it('has the gradient 2c(x − ω)/D, and sums over long-term targets', async () => {
    const w1 = ramp(7, 3);
    const w2 = ramp(5, 1);
    const c1 = weightsOf();
    const c2 = tf.tidy(() => tf.sub(1, c1) as tf.Tensor4D);
    const x = ramp(11, 5);
    const d = h * w * 3;
    await flat('temporal gradient', () => {
      const short = temporalLoss([{ warped: w1, weights: c1 }]);
      const grad = tf.grad((img: tf.Tensor) => short.evaluate({}, img as tf.Tensor4D))(x);
      const expected = values(x).map((xi, i) => (2 * values(c1)[Math.floor(i / 3)]! * (xi - values(w1)[i]!)) / d);
      values(grad).forEach((g, i) => assert.ok(Math.abs(g - expected[i]!) <= 1e-5 * Math.max(1, Math.abs(expected[i]!)), `∂L/∂x[${i}] = ${g} vs ${expected[i]}`));
      grad.dispose();
      const long = temporalLoss([
        { warped: w1, weights: c1 },
        { warped: w2, weights: c2 },
      ]);
      const parts = [temporalLoss([{ warped: w1, weights: c1 }]), temporalLoss([{ warped: w2, weights: c2 }])];
      const sum = parts.reduce((s, p) => s + tf.tidy(() => p.evaluate({}, x).dataSync()[0]!), 0);
      const got = tf.tidy(() => long.evaluate({}, x).dataSync()[0]!);
      assert.ok(Math.abs(got - sum) / sum < 1e-6, `long-term ${got} = Σ short-term ${sum}`);
    });
    tf.dispose([w1, w2, c1, c2, x]);
  });

  it('rejects targets and images of the wrong size', () => {
    const warped = ramp(7, 3);
    const c = weightsOf();
    assert.throws(() => temporalLoss([]), NstError);
    const bad = tf.zeros([1, h, w, 3]) as tf.Tensor4D;
    assert.throws(() => temporalLoss([{ warped, weights: bad }]), (e: unknown) => e instanceof NstError && /\[1,4,5,1\]/.test(e.message));
    const small = tf.zeros([1, h - 1, w, 3]) as tf.Tensor4D;
    assert.throws(() => tf.tidy(() => temporalLoss([{ warped, weights: c }]).evaluate({}, small)), (e: unknown) => e instanceof NstError && /does not match/.test(e.message));
    tf.dispose([warped, c, bad, small]);
  });
});

describe('frame targets and measures', () => {
  it('warps the previous outputs into the current frame and measures consecutive warping errors', async () => {
    const smooth = blur(blur(source));
    const clip = renderClip(smooth, cameraPath(centre, { ...centre, cx: centre.cx + 3, cy: centre.cy + 1 }, 3), SIZE);
    smooth.dispose();
    await flat('frame targets', () => {
      // "Outputs" equal to the content frames are perfectly consistent: warping frame 1 by the flow
      // reproduces frame 2 on reliable pixels, so the error stays at interpolation level.
      const targets = frameTargets(clip.frames[2]!, [
        { offset: 1, content: clip.frames[1]!, output: clip.frames[1]! },
        { offset: 2, content: clip.frames[0]!, output: clip.frames[0]! },
      ], { method: 'lucas-kanade' });
      assert.equal(targets.targets.length, 2);
      const near = warpingError(clip.frames[2]!, targets.targets[0]!.warped, targets.weights[0]!);
      const far = warpingError(clip.frames[2]!, targets.targets[1]!.warped, targets.weights[1]!);
      assert.ok(near < 2 && far < 2, `warping errors ${near.toFixed(2)}, ${far.toFixed(2)} (squared, 0..255)`);
      // Only frame −2 sees nothing that frame −1 does not, with a pure pan: its long-term weights vanish.
      const longSum = tf.tidy(() => targets.targets[1]!.weights.sum().dataSync()[0]!);
      assert.ok(longSum < 0.02 * SIZE[0] * SIZE[1], `long-term weights of frame −2 sum to ${longSum}`);
      targets.dispose();
    });
    // A flickering clip (every other frame brightened) scores far worse than the clip itself.
    const errors = await flat('warping errors', () => {
      const flicker = clip.frames.map((f, k) => tf.tidy(() => tf.add(f, k % 2 ? 20 : 0) as tf.Tensor4D));
      const steady = consecutiveWarpingErrors(clip.frames, clip);
      const flickering = consecutiveWarpingErrors(flicker, clip);
      tf.dispose(flicker);
      return { steady, flickering };
    });
    clip.dispose();
    errors.flickering.forEach((e, k) => assert.ok(e > 350 && e > 20 * errors.steady[k]!, `frame ${k + 1}: ${e.toFixed(1)} vs ${errors.steady[k]!.toFixed(2)}`));
  });

  it('a pan-and-zoom path stays inside the source, and a path outside it is refused', () => {
    const poses = panAndZoomPath([SH, SW], SIZE, 6);
    const clip = renderClip(source, poses, SIZE);
    assert.equal(clip.frames.length, 6);
    assert.ok(poses[5]!.scale < poses[0]!.scale && poses[5]!.cx > poses[0]!.cx, 'it zooms in while panning right');
    clip.dispose();
    assert.throws(() => renderClip(source, [{ ...centre, cx: 20 }], SIZE), (e: unknown) => e instanceof NstError && /outside/.test(e.message));
  });
});

describe('frames in and out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nst-video-'));

  it('lists a folder of frames in numeric order, and refuses an empty one', async () => {
    const frames = join(dir, 'listed');
    const t = tf.zeros([1, 4, 6, 3]);
    for (const name of ['f10.png', 'f9.jpg', 'f1.png']) await saveImage(t, join(frames, name));
    writeFileSync(join(frames, 'notes.txt'), 'not a frame');
    t.dispose();
    assert.deepEqual(listFrames(frames).map((p) => p.slice(frames.length + 1)), ['f1.png', 'f9.jpg', 'f10.png']);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'readme.txt'), 'no frames here');
    assert.throws(() => listFrames(empty), (e: unknown) => e instanceof NstError && /no frames in/.test(e.message));
    assert.throws(() => listFrames(join(dir, 'nowhere')), (e: unknown) => e instanceof NstError && /not found/.test(e.message));
  });

  it('encodes frames to an mp4 and decodes them back', { skip: ffmpegMissing }, async () => {
    const frames: string[] = [];
    // Odd width: the encoder crops to even dimensions for 4:2:0.
    for (let k = 0; k < 4; k++) {
      const path = join(dir, 'in', `frame_${k + 1}.png`);
      const t = tf.tidy(() => tf.concat([tf.fill([1, 24, 33, 1], 60 * k), tf.fill([1, 24, 33, 1], 128), tf.fill([1, 24, 33, 1], 255 - 60 * k)], 3));
      await saveImage(t, path);
      t.dispose();
      frames.push(path);
    }
    const mp4 = join(dir, 'clip.mp4');
    await encodeVideo(frames, mp4, { fps: 12 });
    assert.equal(await videoFrameRate(mp4), 12);
    const decoded = await decodeVideo(mp4, join(dir, 'out'));
    assert.equal(decoded.length, 4);
    for (const [k, path] of decoded.entries()) {
      const t = await loadImage(path);
      assert.deepEqual(t.shape, [1, 24, 32, 3]);
      const mean = values(tf.tidy(() => tf.mean(t, [0, 1, 2])));
      t.dispose();
      [60 * k, 128, 255 - 60 * k].forEach((v, ch) => assert.ok(Math.abs(mean[ch]! - v) < 8, `frame ${k} channel ${ch}: ${mean[ch]} vs ${v}`));
    }
    const limited = await decodeVideo(mp4, join(dir, 'out2'), { maxFrames: 2 });
    assert.equal(limited.length, 2);
  });

  it('says what is wrong: ffmpeg missing, an unreadable file, no frames', { skip: ffmpegMissing }, async () => {
    const junk = join(dir, 'junk.mp4');
    writeFileSync(junk, 'not a video');
    await assert.rejects(decodeVideo(junk, join(dir, 'junk')), (e: unknown) => e instanceof NstError && /junk\.mp4/.test(e.message));
    await assert.rejects(decodeVideo(join(dir, 'absent.mp4'), join(dir, 'absent')), (e: unknown) => e instanceof NstError && /not found/.test(e.message));
    await assert.rejects(encodeVideo([], join(dir, 'none.mp4'), { fps: 10 }), (e: unknown) => e instanceof NstError && /no frames/.test(e.message));
    const saved = process.env.NST_FFMPEG;
    process.env.NST_FFMPEG = join(dir, 'no-such-ffmpeg');
    try {
      await assert.rejects(decodeVideo(junk, join(dir, 'junk')), (e: unknown) => e instanceof NstError && /ffmpeg not found/.test(e.message) && /apt-get install ffmpeg/.test(e.hint ?? ''));
    } finally {
      if (saved === undefined) delete process.env.NST_FFMPEG;
      else process.env.NST_FFMPEG = saved;
    }
  });
});

describe('clip runner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nst-clip-'));
  const frameDir = join(dir, 'content');

  /**
   * A stand-in for the session: the output mixes the content with the init, and shifts by the temporal
   * loss's value at the content frame, so every output depends on the previous ones through both. It
   * logs two "iterations" per frame to metrics.csv, and can fail at one frame as if killed there.
   */
  function fakeStylise(clipDir: string, calls: number[], killAt = -1): Stylise {
    return async ({ index, content, init, temporal }) => {
      calls.push(index);
      const metrics = join(clipDir, 'metrics.csv');
      if (!existsSync(metrics)) writeFileSync(metrics, 'frame,iteration,loss\n');
      appendFileSync(metrics, `${index},1,${index * 10}\n`);
      if (index === killAt) throw new Error('killed');
      appendFileSync(metrics, `${index},2,${index * 10 + 1}\n`);
      return tf.tidy(() => {
        const shift = temporal ? tf.mul(tf.sqrt(temporal.evaluate({}, content)), 0.5) : tf.scalar(0);
        return tf.add(tf.add(tf.mul(content, 0.6), init ? tf.mul(init, 0.4) : 40), shift) as tf.Tensor4D;
      });
    };
  }

  it('resumes a killed clip at the first unfinished frame and ends with the same frames', { timeout: 60_000 }, async () => {
    const clip = renderClip(source, cameraPath(centre, { ...centre, cx: centre.cx + 6, cy: centre.cy + 2 }, 4), [24, 32]);
    for (const [k, f] of clip.frames.entries()) await saveImage(f, join(frameDir, `f${k}.png`));
    clip.dispose();
    const frames = listFrames(frameDir);
    const base = { frames, temporalOffsets: [1, 2], flow: { method: 'lucas-kanade' as const }, encode: !ffmpegMissing, fps: 8 };
    const whole = join(dir, 'whole');
    const killed = join(dir, 'killed');
    const before = tf.memory().numTensors;
    const wholeCalls: number[] = [];
    const record = await runClip({ ...base, dir: whole }, fakeStylise(whole, wholeCalls));
    assert.deepEqual(wholeCalls, [0, 1, 2, 3]);
    const firstCalls: number[] = [];
    await assert.rejects(runClip({ ...base, dir: killed }, fakeStylise(killed, firstCalls, 2)), /killed/);
    assert.deepEqual(readdirSync(join(killed, 'frames')).sort(), ['frame_00001.png', 'frame_00002.png']);
    const resumedCalls: number[] = [];
    const resumed = await runClip({ ...base, dir: killed }, fakeStylise(killed, resumedCalls));
    assert.equal(tf.memory().numTensors, before, 'the tensor count is flat');
    assert.deepEqual(resumedCalls, [2, 3], 'the resumed clip starts at the first unfinished frame');
    for (let k = 0; k < 4; k++) {
      assert.ok(readFileSync(clipFramePath(whole, k)).equals(readFileSync(clipFramePath(killed, k))), `frame ${k} is the same`);
    }
    // The outputs really differ from frame to frame (so the comparison above can fail).
    assert.ok(!readFileSync(clipFramePath(whole, 1)).equals(readFileSync(clipFramePath(whole, 2))));
    assert.equal(readFileSync(join(killed, 'metrics.csv'), 'utf8'), readFileSync(join(whole, 'metrics.csv'), 'utf8'), 'the killed frame\'s rows are dropped');
    const saved = JSON.parse(readFileSync(join(killed, 'clip.json'), 'utf8')) as ClipRecord;
    assert.equal(saved.status, 'complete');
    assert.deepEqual(saved.frames.map((f) => f.index), [0, 1, 2, 3]);
    assert.equal(resumed.frames.length, 4);
    assert.equal(record.frames[0]!.warpingError, null);
    record.frames.slice(1).forEach((f) => assert.ok(f.warpingError! >= 0 && f.reliable! > 0.5, `frame ${f.index}: ${JSON.stringify(f)}`));
    if (!ffmpegMissing) assert.ok(existsSync(join(killed, 'clip.mp4')));
    // A finished clip has nothing left to do; other options are refused, not mixed in.
    const again: number[] = [];
    await runClip({ ...base, dir: killed }, fakeStylise(killed, again));
    assert.deepEqual(again, []);
    await assert.rejects(runClip({ ...base, init: 'previous', dir: killed }, fakeStylise(killed, again)), (e: unknown) => e instanceof NstError && /other options/.test(e.message));
  });

  it('with the temporal loss, a toy stylise that lands somewhere else on every frame flickers far less', async () => {
    // "Stylising" frame i minimises (1/D)Σ(x − t_i)² + γ·temporal, t_i = content + noise of its own
    // seed: per frame, every output jumps by the noise; with the loss and the warped init it follows
    // the previous output where the flow vouches for it.
    const clip = renderClip(source, cameraPath(centre, { ...centre, cx: centre.cx + 5, cy: centre.cy + 2 }, 6), [24, 32]);
    const contentDir = join(dir, 'toy-content');
    for (const [k, f] of clip.frames.entries()) await saveImage(f, join(contentDir, `f${k}.png`));
    clip.dispose();
    const toy: Stylise = async ({ index, content, init, temporal }) => {
      const rng = createRng(index + 1);
      const target = tf.tidy(() => tf.add(content, tf.tensor4d(Array.from({ length: content.size }, () => 40 * (rng() - 0.5)), content.shape)));
      const d = content.size;
      const loss = (x: tf.Tensor) => {
        const fit = tf.div(tf.sum(tf.squaredDifference(x, target)), d);
        return (temporal ? tf.add(fit, temporal.evaluate({}, x as tf.Tensor4D)) : fit) as tf.Scalar;
      };
      let x = tf.clone(init ?? content);
      for (let step = 0; step < 20; step++) {
        const next = tf.tidy(() => tf.sub(x, tf.mul(tf.grad(loss)(x), d / 4)));
        x.dispose();
        x = next as tf.Tensor4D;
      }
      target.dispose();
      return x;
    };
    const frames = listFrames(contentDir);
    const common = { frames, flow: { method: 'lucas-kanade' as const }, encode: false };
    const perFrame = await runClip({ ...common, dir: join(dir, 'toy-per-frame'), init: 'session', temporalOffsets: [] }, toy);
    const coherent = await runClip({ ...common, dir: join(dir, 'toy-temporal'), init: 'warped', temporalOffsets: [1] }, toy);
    const mean = (r: ClipRecord) => r.frames.slice(1).reduce((s, f) => s + f.warpingError!, 0) / (r.frames.length - 1);
    assert.ok(mean(coherent) < mean(perFrame) / 2, `warping error ${mean(coherent).toFixed(1)} with the temporal loss vs ${mean(perFrame).toFixed(1)} per frame`);
  });

  it('refuses temporal offsets that do not start at 1', async () => {
    await assert.rejects(runClip({ frames: ['a.png'], dir: join(dir, 'bad'), temporalOffsets: [2, 4] }, async () => tf.zeros([1, 1, 1, 3])), (e: unknown) => e instanceof NstError && /starting at 1/.test(e.message));
  });
});
