/**
 * Stylising a clip frame by frame with temporal coherence (Ruder, Dosovitskiy & Brox, "Artistic style
 * transfer for videos", GCPR 2016): each frame is initialised from the previous output warped by the
 * optical flow (§3.1) and optimised with a temporal loss towards the warped previous outputs on the
 * pixels the flow can vouch for (§3.2–3.3). How one frame is optimised is injected (`stylise`), so the
 * runner needs no session: it owns the frames, the flow, the targets, the files and resuming.
 *
 * A clip folder holds
 *   frames/frame_00001.png …   the stylised frames, each written atomically when its frame is done
 *   clip.json                  the options, one record per finished frame, the status and the totals
 *   metrics.csv                per-iteration rows, written by `stylise`, with a `frame` column
 *   clip.mp4                   the frames encoded (H.264), once all are done
 * A killed clip resumes at the first frame without a PNG: earlier outputs are read back from their
 * PNGs, and metrics.csv rows of unfinished frames are dropped. Every previous output is used as its
 * PNG holds it (rounded to 0..255 integers) in an uninterrupted run as well, so a resumed clip ends
 * with the same frames as one that ran through.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NstError } from '../errors';
import { loadImage, saveImage, writeFileAtomic, type LoadOptions } from '../image/io';
import type { Objective } from '../objectives/objective';
import { resolveFlowOptions, type FlowSettings } from './flow';
import { encodeVideo } from './frames';
import { endpointError, framesPerMinute, warpingError } from './measures';
import { frameTargets, type PreviousFrame } from './temporal-targets';
import { temporalLoss } from './temporal-loss';

/**
 * How frame i ≥ 1 starts (Ruder et al. 2016, §3.1 and §4): from the previous output warped by the flow
 * (`warped`, the paper's method), from the previous output as it is (`previous`), or as the session
 * starts any image (`session`: content or noise, as its config says — the per-frame baseline). Frame 0
 * always starts as the session starts.
 */
export const CLIP_INITS = ['warped', 'previous', 'session'] as const;
export type ClipInit = (typeof CLIP_INITS)[number];

/** One frame's work for `stylise`. Its tensors are borrowed: the runner frees them after the call. */
export interface StyliseRequest {
  /** 0-based frame index. */
  readonly index: number;
  /** The content frame's file (`content` is it loaded with the clip's load options). */
  readonly frame: string;
  /** The content frame, RGB 0..255, [1,H,W,3]. */
  readonly content: tf.Tensor4D;
  /** The image to start from, RGB 0..255, or null: start as the session always does. */
  readonly init: tf.Tensor4D | null;
  /** The temporal term (unweighted; the caller weights it), or null for frame 0 and per-frame runs. */
  readonly temporal: Objective | null;
}

/**
 * Optimises one frame and resolves to a new tensor, its output, RGB 0..255 [1,H,W,3]; the runner takes
 * ownership of it (never return a tensor of the request itself).
 */
export type Stylise = (request: StyliseRequest) => Promise<tf.Tensor4D>;

export interface ClipOptions {
  /** The content frames, in order (see `listFrames`, `decodeVideo`). */
  frames: readonly string[];
  /** The clip folder. */
  dir: string;
  /** How the frames are loaded (all at one size). */
  load?: LoadOptions;
  init?: ClipInit;
  /**
   * Offsets j of the previous frames the temporal loss compares with: [] for none (per-frame runs),
   * [1] for the short-term loss (§3.2), several (e.g. [1, 2, 4]) for the long-term loss (§3.3), whose
   * weights c_long count each pixel against the most recent frame that shows it. The paper's own J for
   * its long-term results is in its §4; we do not restate it from memory.
   */
  temporalOffsets?: readonly number[];
  flow?: FlowSettings;
  /** Frames per second of clip.mp4. */
  fps?: number;
  /** Encode clip.mp4 when all frames are done (needs ffmpeg); default true. */
  encode?: boolean;
  /** Called after each frame is saved, with its record. */
  onFrame?: (record: FrameRecord) => void;
  /**
   * The true backward flows of a synthetic clip (trueFlows[k]: from frame k+1 to frame k, see
   * SyntheticClip.backward), borrowed: each frame then records the endpoint error of its estimated flow.
   */
  trueFlows?: readonly tf.Tensor4D[];
}

export interface FrameRecord {
  index: number;
  /** Wall time of this frame: flow, targets and `stylise`. */
  elapsedMs: number;
  /**
   * The warping error between this output and the previous one warped by the content flow, on the
   * pixels with c = 1 (see `warpingError`); null for frame 0.
   */
  warpingError: number | null;
  /** The fraction of pixels with c = 1 against the previous frame; null for frame 0. */
  reliable: number | null;
  /**
   * Mean endpoint error (px) of the estimated flow to the previous frame against `trueFlows`, at least
   * 1/16 of the width from the borders (as docs/video.md's benchmark); null without ground truth.
   */
  flowEndpointError: number | null;
}

export interface ClipRecord {
  status: 'running' | 'complete';
  /** What the outputs depend on; a clip folder only resumes with the same. */
  options: { frames: string[]; load: LoadOptions; init: ClipInit; temporalOffsets: number[]; flow: ReturnType<typeof resolveFlowOptions> };
  fps: number;
  frames: FrameRecord[];
  /** Over the frames this record holds (frames of earlier, killed sessions included). */
  framesPerMinute: number | null;
  meanWarpingError: number | null;
  meanFlowEndpointError: number | null;
}

export const CLIP_FILES = { record: 'clip.json', frames: 'frames', metrics: 'metrics.csv', video: 'clip.mp4' } as const;

export function clipFramePath(dir: string, index: number): string {
  return join(dir, CLIP_FILES.frames, `frame_${String(index + 1).padStart(5, '0')}.png`);
}

function checkOptions(opts: ClipOptions): ClipRecord['options'] {
  if (opts.frames.length === 0) throw new NstError('the clip has no frames', 'give a folder of PNG/JPEG frames or a video file');
  if (opts.trueFlows && opts.trueFlows.length !== opts.frames.length - 1) {
    throw new NstError(`${opts.frames.length} frames need ${opts.frames.length - 1} true flows (got ${opts.trueFlows.length})`, 'give the backward flows of the synthetic clip the frames were rendered from');
  }
  const init = opts.init ?? 'warped';
  if (!(CLIP_INITS as readonly string[]).includes(init)) throw new NstError(`unknown clip init '${init}'`, `allowed: ${CLIP_INITS.join(', ')}`);
  const offsets = [...(opts.temporalOffsets ?? [1])];
  // Offset 1 must come first: the long-term weights of farther frames are what frame i−1 leaves over.
  offsets.forEach((j, k) => {
    if (!Number.isInteger(j) || (k === 0 && j !== 1) || (k > 0 && j <= offsets[k - 1]!)) {
      throw new NstError(`temporal offsets must be increasing whole numbers starting at 1 (got ${offsets.join(', ')})`, 'e.g. 1 for the short-term loss, 1,2,4 for the long-term loss, none for per-frame runs');
    }
  });
  return { frames: [...opts.frames], load: { ...opts.load }, init, temporalOffsets: offsets, flow: resolveFlowOptions(opts.flow) };
}

/** The first frame index without an output PNG. */
function firstUnfinished(dir: string, count: number): number {
  let k = 0;
  while (k < count && existsSync(clipFramePath(dir, k))) k++;
  return k;
}

/** Keeps a clip metrics.csv's header and the rows of the frames `keep` accepts (a killed frame's rows go). */
export async function keepMetricsRows(path: string, keep: (frame: number) => boolean): Promise<void> {
  if (!existsSync(path)) return;
  const [header, ...rows] = (await readFile(path, 'utf8')).split('\n').filter((l) => l.length > 0);
  const col = header!.split(',').indexOf('frame');
  if (col < 0) throw new NstError(`${path} has no 'frame' column`, 'metrics.csv of a clip needs a frame column; remove the file to start the log afresh');
  const kept = rows.filter((r) => keep(Number(r.split(',')[col])));
  await writeFileAtomic(path, [header!, ...kept].map((l) => `${l}\n`).join(''));
}

function summarise(frames: FrameRecord[]): Pick<ClipRecord, 'framesPerMinute' | 'meanWarpingError' | 'meanFlowEndpointError'> {
  const mean = (values: (number | null)[]) => {
    const finite = values.filter((e): e is number => e !== null && Number.isFinite(e));
    return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : null;
  };
  const ms = frames.reduce((s, f) => s + f.elapsedMs, 0);
  return {
    framesPerMinute: frames.length ? framesPerMinute(frames.length, ms) : null,
    meanWarpingError: mean(frames.map((f) => f.warpingError)),
    meanFlowEndpointError: mean(frames.map((f) => f.flowEndpointError)),
  };
}

/**
 * Stylises every frame not yet done, then writes clip.mp4 and marks the record complete. Returns the
 * record. A folder that holds a clip with other options is refused rather than mixed.
 */
export async function runClip(opts: ClipOptions, stylise: Stylise): Promise<ClipRecord> {
  const options = checkOptions(opts);
  const fps = opts.fps ?? 24;
  const recordPath = join(opts.dir, CLIP_FILES.record);
  const start = firstUnfinished(opts.dir, options.frames.length);
  let frames: FrameRecord[] = [];
  if (existsSync(recordPath)) {
    const old = JSON.parse(await readFile(recordPath, 'utf8')) as ClipRecord;
    if (JSON.stringify(old.options) !== JSON.stringify(options)) {
      throw new NstError(`${opts.dir} holds a clip made with other options`, 'use another output folder, or delete this one to start again');
    }
    frames = old.frames.filter((f) => f.index < start);
  } else if (start > 0) {
    throw new NstError(`${opts.dir} holds stylised frames but no ${CLIP_FILES.record}`, 'use another output folder, or delete this one to start again');
  }
  const save = (status: ClipRecord['status']) => writeFileAtomic(recordPath, JSON.stringify({ status, options, fps, frames, ...summarise(frames) }, null, 2) + '\n');
  await keepMetricsRows(join(opts.dir, CLIP_FILES.metrics), (frame) => frame < start);
  await save('running');

  // Frame i−1 is always kept: the warped init and the warping-error measure need it.
  const previousCount = Math.max(1, ...options.temporalOffsets);
  // The content frames and outputs the next frame can look back at, nearest last.
  const history: { index: number; content: tf.Tensor4D; output: tf.Tensor4D }[] = [];
  const load = (k: number) => loadImage(options.frames[k]!, options.load);
  for (let k = Math.max(0, start - previousCount); k < start; k++) history.push({ index: k, content: await load(k), output: await loadImage(clipFramePath(opts.dir, k)) });

  try {
    for (let index = start; index < options.frames.length; index++) {
      const t0 = performance.now();
      const content = await load(index);
      if (history.length > 0 && !tf.util.arraysEqual(history[0]!.content.shape, content.shape)) {
        throw new NstError(`frame ${options.frames[index]} is [${content.shape.join(',')}], the clip's frames [${history[0]!.content.shape.join(',')}]`, 'every frame must have one size, or load them with a fixed size');
      }
      const byOffset = (j: number) => history.find((h) => h.index === index - j);
      // Offset 1 comes first, loss or not: the warped init and the measure need it.
      const offsets = (options.temporalOffsets.length > 0 ? options.temporalOffsets : [1]).filter((j) => byOffset(j));
      const previous: PreviousFrame[] = offsets.map((j) => ({ offset: j, content: byOffset(j)!.content, output: byOffset(j)!.output }));
      const targets = previous.length > 0 ? frameTargets(content, previous, options.flow) : null;
      const temporalTargets = targets && options.temporalOffsets.length > 0 ? targets.targets : [];
      const last = history[history.length - 1];
      const init = !last || options.init === 'session' ? null : options.init === 'warped' ? targets!.targets[0]!.warped : last.output;
      let output: tf.Tensor4D;
      try {
        const raw = await stylise({ index, frame: options.frames[index]!, content, init, temporal: temporalTargets.length > 0 ? temporalLoss(temporalTargets) : null });
        // As its PNG holds it, so that resuming from the PNG changes nothing.
        output = tf.tidy(() => tf.clipByValue(raw, 0, 255).round());
        raw.dispose();
        if (!tf.util.arraysEqual(output.shape, content.shape)) {
          output.dispose();
          throw new Error(`stylise returned [${output.shape.join(',')}] for a frame of [${content.shape.join(',')}]`);
        }
      } catch (e) {
        targets?.dispose();
        content.dispose();
        throw e;
      }
      const truth = opts.trueFlows?.[index - 1];
      const measured = targets
        ? {
            warpingError: warpingError(output, targets.targets[0]!.warped, targets.weights[0]!),
            reliable: tf.tidy(() => tf.mean(targets.weights[0]!).dataSync()[0]!),
            flowEndpointError: truth ? endpointError(targets.flows[0]!, truth, Math.round(content.shape[2] / 16)) : null,
          }
        : { warpingError: null, reliable: null, flowEndpointError: null };
      targets?.dispose();
      await saveImage(output, clipFramePath(opts.dir, index));
      history.push({ index, content, output });
      while (history.length > previousCount) {
        const gone = history.shift()!;
        tf.dispose([gone.content, gone.output]);
      }
      const record: FrameRecord = { index, elapsedMs: performance.now() - t0, ...measured };
      frames.push(record);
      await save('running');
      opts.onFrame?.(record);
    }
  } finally {
    for (const h of history) tf.dispose([h.content, h.output]);
  }
  if (opts.encode ?? true) await encodeVideo(options.frames.map((_, k) => clipFramePath(opts.dir, k)), join(opts.dir, CLIP_FILES.video), { fps });
  await save('complete');
  return { status: 'complete', options, fps, frames, ...summarise(frames) };
}
