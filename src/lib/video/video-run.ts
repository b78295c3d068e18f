/**
 * One clip from a config, as `run()` is one image: the frames (a folder, or a video decoded once into
 * `<clip>/input/`), the network opened once, `sessionStylise` over `runClip` (resumable frame by
 * frame), and the clip's measures. What `nst video`, sweeps and notebooks call.
 */
import type * as tf from '@tensorflow/tfjs';
import type { FeatureNetwork } from '../net/network';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { initBackend } from '../backend';
import { NstError } from '../errors';
import { bindNetwork } from '../net/bind-network';
import { describeNetwork } from '../net/registry';
import { openNetwork } from '../run/session';
import { writeJson } from '../run/store';
import type { StepLogs } from '../run/types';
import { LIBRARY_VERSION } from '../version';
import { CLIP_FILES, clipFramePath, runClip, type ClipRecord, type FrameRecord } from './clip';
import { checkFfmpeg, decodeVideo, encodeVideo, listFrames, videoFrameRate } from './frames';
import { finalWarpingErrors, passDir, passDirection, runPass } from './multi-pass';
import { ClipInterrupted, sessionStylise } from './session-stylise';
import { clipDirFor, clipIdFor, resolveClipConfig, type ClipConfig } from './video-config';

/** The decoded frames of a video source, in the clip folder. */
export const INPUT_DIR = 'input';

/** The frame rate of clip.mp4 when neither `fps` nor the source says one. */
export const DEFAULT_FPS = 24;

export interface VideoRunOptions {
  /** Lines for people (default console.log; null: silent). */
  log?: ((line: string) => void) | null;
  /** After every iteration of every frame. */
  onStep?: (frame: number, logs: StepLogs) => void;
  /** The true backward flows of a synthetic clip (ClipOptions.trueFlows): frames record the flow's endpoint error. Borrowed. */
  trueFlows?: readonly tf.Tensor4D[];
  /** Encode clip.mp4 at the end (default true; needs ffmpeg, checked first). */
  encode?: boolean;
  /** Aborting stops at the next iteration; the finished frames stay, and the same call continues the clip. */
  signal?: AbortSignal;
}

/** What the passes after the first add to clip.json (multi-pass clips only). */
export interface PassesRecord {
  /** Per pass p ≥ 2: its direction and the records of the frames this process stylised in it. */
  passes: { pass: number; direction: 'forward' | 'backward'; frames: FrameRecord[] }[];
  /** The folder of the result's frames (the last pass's). */
  resultFrames: string;
  /** The warping error of each consecutive pair of the result's frames (estimated flow, c = 1). */
  resultWarpingErrors: number[];
  /** Their mean: the clip's temporal consistency after its last pass. */
  meanWarpingError: number | null;
}

export interface VideoResult {
  clip: ClipConfig;
  id: string;
  /** `<out>/<experiment>/<clipId>` */
  dir: string;
  /** Pass 1's record (for a multi-pass clip its meanWarpingError is the result's, after the last pass). */
  record: ClipRecord & Partial<PassesRecord>;
  /** Stopped by `signal` before the clip was done: `record` is clip.json as it stands. */
  interrupted: boolean;
}

/** The measures of a finished clip, one line each. */
export function describeClipRecord(record: ClipRecord): string[] {
  const f = (v: number | null, digits = 3) => (v === null ? 'n/a' : v.toPrecision(digits));
  return [
    `temporal consistency: mean warping error ${f(record.meanWarpingError)} (squared 0..255 colour error on pixels with c = 1, consecutive frames)`,
    `speed: ${f(record.framesPerMinute)} frames per minute`,
    ...(record.meanFlowEndpointError !== null ? [`flow: mean endpoint error ${f(record.meanFlowEndpointError)} px against the ground truth`] : []),
  ];
}

function frameLine(r: FrameRecord, count: number): string {
  const measured = r.warpingError === null ? '' : `  warping error ${r.warpingError.toPrecision(3)} on ${(100 * r.reliable!).toFixed(0)}% reliable pixels`;
  const epe = r.flowEndpointError === null ? '' : `  flow EPE ${r.flowEndpointError.toFixed(2)} px`;
  return `frame ${r.index + 1}/${count} done in ${(r.elapsedMs / 1000).toFixed(1)} s${measured}${epe}`;
}

/** The content frames: a folder's files, or the video decoded into `<dir>/input/` (once; a resumed clip reuses them). */
async function clipFrames(clip: ClipConfig, dir: string): Promise<{ frames: string[]; fps: number }> {
  const { content } = clip.run;
  const { fps, maxFrames } = clip.video;
  let frames: string[];
  let sourceFps: number | undefined;
  if (statSync(content).isDirectory()) {
    frames = listFrames(content);
  } else {
    const input = join(dir, INPUT_DIR);
    frames = existsSync(input) ? listFrames(input) : await decodeVideo(content, input, { fps: fps || undefined, maxFrames: maxFrames || undefined });
    sourceFps = fps ? undefined : await videoFrameRate(content);
  }
  return { frames: maxFrames ? frames.slice(0, maxFrames) : frames, fps: fps || sourceFps || DEFAULT_FPS };
}

/**
 * Stylises the clip a flat config describes (run keys and video keys, see resolveClipConfig) into
 * `<out>/<experiment>/<clipId>/`: config.json, input/ (video sources), frames/, metrics.csv,
 * clip.json, clip.mp4. Rerunning the same config resumes at the first unfinished frame. Every user
 * mistake (keys, files, ffmpeg) is an NstError before the network is opened.
 */
export async function runVideo(partial: Readonly<Record<string, unknown>>, opts: VideoRunOptions = {}): Promise<VideoResult> {
  const log = opts.log === undefined ? (s: string) => console.log(s) : opts.log;
  const clip = resolveClipConfig(partial);
  const cfg = clip.run;
  if (!existsSync(cfg.content)) throw new NstError(`--content: clip not found: ${cfg.content}`, 'give a video file or a folder of PNG/JPEG frames (relative paths are from the current directory)');
  for (const style of cfg.style) if (!existsSync(style)) throw new NstError(`--style: image not found: ${style}`, 'check the path (relative paths are from the current directory)');
  const encode = opts.encode ?? true;
  if (encode || !statSync(cfg.content).isDirectory()) await checkFfmpeg(statSync(cfg.content).isDirectory() ? ['ffmpeg'] : ['ffmpeg', 'ffprobe']);
  const id = clipIdFor(clip);
  const dir = clipDirFor(clip);
  const { frames, fps } = await clipFrames(clip, dir);
  await mkdir(dir, { recursive: true });

  const backend = await initBackend(cfg.backend);
  const net = await openNetwork(cfg);
  try {
    const { notes } = bindNetwork(cfg, net);
    log?.(describeNetwork(net));
    if (net.weights.reason) log?.(`  why: ${net.weights.reason}`);
    for (const n of notes) log?.(`note: ${n}`);
    log?.(`clip: ${dir} (${frames.length} frames at ${fps} fps)`);
    await writeJson(join(dir, 'config.json'), {
      ...cfg,
      video: clip.video,
      clipId: id,
      networkResolved: { name: net.name, preprocessing: net.preprocessing, weights: net.weights },
      backend: { name: backend.name, requested: backend.requested },
      libraryVersion: LIBRARY_VERSION,
    });
    const passes = clip.video.passes;
    const stylise = sessionStylise({ config: cfg, net, temporalWeight: clip.video.temporalWeight, metricsPath: join(dir, CLIP_FILES.metrics), onStep: opts.onStep, signal: opts.signal });
    let record: VideoResult['record'];
    try {
      record = await runClip(
        {
          frames,
          dir,
          load: { maxSide: cfg.imageSize },
          init: clip.video.frameInit,
          temporalOffsets: clip.video.temporalOffsets,
          flow: { method: clip.video.flow },
          fps,
          // A multi-pass clip encodes its last pass.
          encode: encode && passes === 1,
          trueFlows: opts.trueFlows,
          onFrame: (r) => log?.(frameLine(r, frames.length)),
        },
        stylise.stylise,
      );
      if (passes > 1) record = await laterPasses(clip, dir, frames, fps, encode, net, opts, record, log);
    } catch (e) {
      if (!(e instanceof ClipInterrupted)) throw e;
      log?.(`${e.message}; to continue: run the same command again`);
      return { clip, id, dir, record: JSON.parse(readFileSync(join(dir, CLIP_FILES.record), 'utf8')), interrupted: true };
    } finally {
      stylise.dispose();
    }
    for (const line of describeClipRecord(record)) log?.(line);
    return { clip, id, dir, record, interrupted: false };
  } finally {
    net.dispose();
  }
}

/**
 * Passes 2…P of a multi-pass clip (video/multi-pass.ts), each with its own session settings
 * (`passIterations`) and metrics.csv in `pass_<p>/`; then the result's warping errors, clip.mp4 of the
 * last pass, and clip.json completed with the passes' records.
 */
async function laterPasses(
  clip: ClipConfig,
  dir: string,
  frames: string[],
  fps: number,
  encode: boolean,
  net: FeatureNetwork,
  opts: VideoRunOptions,
  first: ClipRecord,
  log: ((line: string) => void) | null,
): Promise<VideoResult['record']> {
  const { video, run: cfg } = clip;
  const load = { maxSide: cfg.imageSize };
  const flow = { method: video.flow };
  const config = { ...cfg, iterations: video.passIterations || cfg.iterations };
  const record: PassesRecord & { status: ClipRecord['status'] } = { status: 'running', passes: [], resultFrames: '', resultWarpingErrors: [], meanWarpingError: null };
  const save = () => writeJson(join(dir, CLIP_FILES.record), { ...first, ...record });
  await save();
  for (let pass = 2; pass <= video.passes; pass++) {
    const stylise = sessionStylise({ config, net, temporalWeight: video.temporalWeight, metricsPath: join(passDir(dir, pass), CLIP_FILES.metrics), onStep: opts.onStep, signal: opts.signal });
    await mkdir(join(passDir(dir, pass), CLIP_FILES.frames), { recursive: true });
    const entry = { pass, direction: passDirection(pass), frames: [] as FrameRecord[] };
    record.passes.push(entry);
    try {
      entry.frames = await runPass(pass, { frames, dir, load, flow, delta: video.passBlend, temporal: video.temporalOffsets.length > 0, onFrame: (r) => log?.(`pass ${pass} (${entry.direction}): ${frameLine(r, frames.length)}`) }, stylise.stylise);
    } finally {
      stylise.dispose();
    }
    await save();
  }
  const last = passDir(dir, video.passes);
  record.resultFrames = join(last, CLIP_FILES.frames);
  record.resultWarpingErrors = await finalWarpingErrors({ frames, dir, load, flow }, video.passes);
  const errors = record.resultWarpingErrors;
  record.meanWarpingError = errors.length ? errors.reduce((a, b) => a + b, 0) / errors.length : null;
  if (encode) await encodeVideo(frames.map((_, k) => clipFramePath(last, k)), join(dir, CLIP_FILES.video), { fps });
  record.status = 'complete';
  await save();
  return { ...first, ...record };
}
