/**
 * The multi-pass algorithm (Ruder, Dosovitskiy & Brox 2016, §3.4): after a first pass over the clip
 * (runClip), further passes alternate direction — backward, forward, … — and start each frame from a
 * blend of its own output of the previous pass and its neighbour's output of this pass, warped by the
 * flow where the flow can vouch for it:
 *
 *   x'⁽ⁱ⁾ = δ·x⁽ⁱ⁾ + (1 − δ)·[c ∘ ω(x⁽ⁿ⁾) + (1 − c) ∘ x⁽ⁱ⁾],   n = i − 1 forward, i + 1 backward,
 *
 * with c the forward-backward consistency weights between frames n and i. Each pass then optimises
 * every frame for a few iterations from that blend, with the temporal loss towards ω(x⁽ⁿ⁾) when the
 * clip has one. So information flows both ways through the clip, which one forward pass cannot do.
 *
 * Pass p ≥ 2 lives in `pass_<p>/` (frame PNGs and its own metrics.csv); the last pass is the clip's
 * result. A killed clip resumes at the first frame of the first unfinished pass without a PNG: every
 * output is read back from its PNG, as an uninterrupted run also uses them (rounded to 0..255).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadImage, saveImage, type LoadOptions } from '../image/io';
import { CLIP_FILES, clipFramePath, keepMetricsRows, type FrameRecord, type Stylise } from './clip';
import type { FlowSettings } from './flow';
import { warpingError } from './measures';
import { frameTargets } from './temporal-targets';
import { temporalLoss } from './temporal-loss';

/** The folder of pass `pass` (1-based); pass 1 is the clip folder itself (frames/). */
export function passDir(clipDir: string, pass: number): string {
  return pass === 1 ? clipDir : join(clipDir, `pass_${pass}`);
}

/** Pass 2 runs backward, pass 3 forward, and so on (pass 1, runClip's, is forward). */
export function passDirection(pass: number): 'forward' | 'backward' {
  return pass % 2 === 0 ? 'backward' : 'forward';
}

/** The blended start of a frame, δ·self + (1 − δ)·(c·warped + (1 − c)·self). Tensors borrowed; result owned. */
export function blendedInit(self: tf.Tensor4D, warpedNeighbour: tf.Tensor4D, weights: tf.Tensor4D, delta: number): tf.Tensor4D {
  return tf.tidy(() => {
    const propagated = tf.add(tf.mul(weights, warpedNeighbour), tf.mul(tf.sub(1, weights), self));
    return tf.add(tf.mul(delta, self), tf.mul(1 - delta, propagated)) as tf.Tensor4D;
  });
}

export interface PassOptions {
  frames: readonly string[];
  /** The clip folder (pass 1's outputs in frames/). */
  dir: string;
  load?: LoadOptions;
  flow?: FlowSettings;
  /** δ of the blend: the weight of the frame's own previous-pass output. */
  delta: number;
  /** Whether frames are optimised with the temporal loss towards the warped neighbour. */
  temporal: boolean;
  onFrame?: (record: FrameRecord & { pass: number }) => void;
}

/**
 * Runs pass `pass` (≥ 2) over the clip with `stylise` (its frames already done are skipped, read back
 * from their PNGs). Returns the records of the frames this call stylised, in processing order.
 */
export async function runPass(pass: number, opts: PassOptions, stylise: Stylise): Promise<(FrameRecord & { pass: number })[]> {
  const n = opts.frames.length;
  const order = passDirection(pass) === 'forward' ? [...Array(n).keys()] : [...Array(n).keys()].reverse();
  const own = (k: number) => loadImage(clipFramePath(passDir(opts.dir, pass - 1), k));
  const done: (FrameRecord & { pass: number })[] = [];
  await keepMetricsRows(join(passDir(opts.dir, pass), CLIP_FILES.metrics), (frame) => existsSync(clipFramePath(passDir(opts.dir, pass), frame)));
  let neighbour: { content: tf.Tensor4D; output: tf.Tensor4D } | null = null;
  try {
    for (const k of order) {
      const path = clipFramePath(passDir(opts.dir, pass), k);
      const content = await loadImage(opts.frames[k]!, opts.load);
      if (existsSync(path)) {
        const output = await loadImage(path);
        if (neighbour) tf.dispose([neighbour.content, neighbour.output]);
        neighbour = { content, output };
        continue;
      }
      const t0 = performance.now();
      const self = await own(k);
      const targets = neighbour ? frameTargets(content, [{ offset: 1, content: neighbour.content, output: neighbour.output }], opts.flow) : null;
      let output: tf.Tensor4D | undefined;
      try {
        const init = targets ? blendedInit(self, targets.targets[0]!.warped, targets.weights[0]!, opts.delta) : self.clone();
        try {
          const raw = await stylise({ index: k, frame: opts.frames[k]!, content, init, temporal: targets && opts.temporal ? temporalLoss(targets.targets) : null });
          // As its PNG holds it, so that resuming from the PNG changes nothing.
          output = tf.tidy(() => tf.clipByValue(raw, 0, 255).round());
          raw.dispose();
        } finally {
          init.dispose();
        }
        await saveImage(output, path);
        const record = {
          pass,
          index: k,
          elapsedMs: performance.now() - t0,
          warpingError: targets ? warpingError(output, targets.targets[0]!.warped, targets.weights[0]!) : null,
          reliable: targets ? tf.tidy(() => tf.mean(targets.weights[0]!).dataSync()[0]!) : null,
          flowEndpointError: null,
        };
        done.push(record);
        opts.onFrame?.(record);
      } catch (e) {
        tf.dispose([content, ...(output ? [output] : [])]);
        throw e;
      } finally {
        targets?.dispose();
        self.dispose();
      }
      if (neighbour) tf.dispose([neighbour.content, neighbour.output]);
      neighbour = { content, output: output! };
    }
  } finally {
    if (neighbour) tf.dispose([neighbour.content, neighbour.output]);
  }
  return done;
}

/**
 * The warping error of each consecutive pair of the final outputs (k − 1 → k, estimated content flow,
 * pixels with c = 1): the clip's temporal consistency after its last pass, as pass 1 records it.
 */
export async function finalWarpingErrors(opts: Pick<PassOptions, 'frames' | 'dir' | 'load' | 'flow'>, pass: number): Promise<number[]> {
  const errors: number[] = [];
  let previous: { content: tf.Tensor4D; output: tf.Tensor4D } | null = null;
  try {
    for (let k = 0; k < opts.frames.length; k++) {
      const current = { content: await loadImage(opts.frames[k]!, opts.load), output: await loadImage(clipFramePath(passDir(opts.dir, pass), k)) };
      if (previous) {
        const t = frameTargets(current.content, [{ offset: 1, ...previous }], opts.flow);
        errors.push(warpingError(current.output, t.targets[0]!.warped, t.weights[0]!));
        t.dispose();
        tf.dispose([previous.content, previous.output]);
      }
      previous = current;
    }
  } finally {
    if (previous) tf.dispose([previous.content, previous.output]);
  }
  return errors;
}
