/**
 * A clip's configuration: a run config (every `nst run` key; `content` names the video file or the
 * folder of frames) and the video keys below, resolved and checked in one place, so that `nst video`,
 * a config file, a sweep and a notebook reduce to the same pair — as `resolveConfig` does for runs.
 */
import { join } from 'node:path';
import { CONFIG_KEYS, optionName, resolveConfig, type RunConfig } from '../config';
import { NstError } from '../errors';
import { composeRunId, identityFragment, IDENTITY_KEYS } from '../run/store';
import { CLIP_INITS, type ClipInit } from './clip';
import { FLOW_METHODS, type FlowMethod } from './flow';

export interface VideoConfig {
  /**
   * γ, the weight of the `temporal` term in the total (Ruder et al. 2016, eq. 4). The temporal loss is
   * a mean over pixels and channels of squared 0..255 differences, so γ is relative to α and β in the
   * config's normalisation (see docs/video.md for how the default was chosen).
   */
  temporalWeight: number;
  /** The previous frames j the temporal loss looks back at: [1] short-term (§3.2), e.g. [1, 2, 4] long-term (§3.3), [] none. */
  temporalOffsets: number[];
  /** How frames after the first start (§3.1): `warped`, `previous` or `session` (see CLIP_INITS). */
  frameInit: ClipInit;
  flow: FlowMethod;
  /** Decode at this rate (ffmpeg's fps filter) and encode clip.mp4 at it; 0: the source's own rate (a folder of frames: 24). */
  fps: number;
  /** Only the first N frames; 0: all. */
  maxFrames: number;
  /** Passes over the clip (§3.4): 1 is the single forward pass; further passes alternate direction (video/multi-pass.ts). */
  passes: number;
  /** Iterations per frame in passes 2 and later; 0: the run's `iterations`. */
  passIterations: number;
  /** δ of the multi-pass blend: the weight of a frame's own previous-pass output against its warped neighbour. */
  passBlend: number;
}

/**
 * γ = 5000 is the balance measured for the defaults (docs/video.md); the authors' code uses γ = 1000
 * with α = 5, β = 100 in neural-style's normalisation (artistic_video.lua, `-temporal_weight`).
 */
export const VIDEO_DEFAULTS: Readonly<VideoConfig> = Object.freeze({
  temporalWeight: 5e3,
  temporalOffsets: [1],
  frameInit: 'warped',
  flow: 'horn-schunck',
  fps: 0,
  maxFrames: 0,
  passes: 1,
  passIterations: 0,
  passBlend: 0.5,
} as VideoConfig);

/** Keys added after clips were first made: left out of clip ids at their defaults, so those ids stay. */
const IDS_OMIT_AT_DEFAULT: readonly (keyof VideoConfig)[] = ['passes', 'passIterations', 'passBlend'];

export const VIDEO_KEYS = Object.keys(VIDEO_DEFAULTS) as (keyof VideoConfig)[];

export interface ClipConfig {
  /** The run config of every frame; `content` is the clip's source (a video file or a folder of frames). */
  run: RunConfig;
  video: VideoConfig;
}

function fail(key: keyof VideoConfig, message: string, hint?: string): never {
  throw new NstError(`${optionName(key)} (${key}): ${message}`, hint);
}

function number(key: keyof VideoConfig, value: unknown, integer: boolean): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) fail(key, `expected a number ≥ 0, got ${JSON.stringify(value)}`);
  if (integer && !Number.isInteger(n)) fail(key, `expected a whole number, got ${n}`);
  return n;
}

/** `none`, `1`, `1,2,4` or a list: increasing whole numbers starting at 1 (offset 1 carries the long-term weights, §3.3). */
function offsets(value: unknown): number[] {
  const hint = 'e.g. 1 for the short-term loss, 1,2,4 for the long-term loss, none for per-frame runs';
  if (value === 'none' || (Array.isArray(value) && value.length === 0)) return [];
  const list = Array.isArray(value) ? value : typeof value === 'number' ? [value] : typeof value === 'string' ? value.split(',').map((s) => s.trim()) : null;
  if (!list) fail('temporalOffsets', `expected offsets, got ${JSON.stringify(value)}`, hint);
  const js = list.map((v) => (typeof v === 'string' && v !== '' ? Number(v) : v));
  js.forEach((j, k) => {
    if (typeof j !== 'number' || !Number.isInteger(j) || (k === 0 && j !== 1) || (k > 0 && j <= (js[k - 1] as number))) {
      fail('temporalOffsets', `expected increasing whole numbers starting at 1, got ${list.join(',')}`, hint);
    }
  });
  return js as number[];
}

function choice<T extends string>(key: keyof VideoConfig, value: unknown, allowed: readonly T[]): T {
  if (!(allowed as readonly unknown[]).includes(value)) fail(key, `'${String(value)}' is not allowed`, `allowed values: ${allowed.join(', ')}`);
  return value as T;
}

/**
 * Splits a flat partial config (run keys and video keys side by side, as the CLI, a config file or a
 * sweep gives them) and checks both halves before any compute. Unknown keys name both key sets.
 */
export function resolveClipConfig(partial: Readonly<Record<string, unknown>>): ClipConfig {
  const run: Record<string, unknown> = {};
  const given: Partial<Record<keyof VideoConfig, unknown>> = {};
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined) continue;
    if ((VIDEO_KEYS as string[]).includes(key)) given[key as keyof VideoConfig] = value;
    else if ((CONFIG_KEYS as string[]).includes(key)) run[key] = value;
    else throw new NstError(`unknown config key '${key}'`, `video keys: ${VIDEO_KEYS.join(', ')}; run keys: ${CONFIG_KEYS.join(', ')}`);
  }
  if (!run.content) throw new NstError('--content: no clip given', 'give a video file (decoded with ffmpeg) or a folder of PNG/JPEG frames');
  const video: VideoConfig = {
    temporalWeight: given.temporalWeight === undefined ? VIDEO_DEFAULTS.temporalWeight : number('temporalWeight', given.temporalWeight, false),
    temporalOffsets: given.temporalOffsets === undefined ? [...VIDEO_DEFAULTS.temporalOffsets] : offsets(given.temporalOffsets),
    frameInit: given.frameInit === undefined ? VIDEO_DEFAULTS.frameInit : choice('frameInit', given.frameInit, CLIP_INITS),
    flow: given.flow === undefined ? VIDEO_DEFAULTS.flow : choice('flow', given.flow, FLOW_METHODS),
    fps: given.fps === undefined ? VIDEO_DEFAULTS.fps : number('fps', given.fps, false),
    maxFrames: given.maxFrames === undefined ? VIDEO_DEFAULTS.maxFrames : number('maxFrames', given.maxFrames, true),
    passes: given.passes === undefined ? VIDEO_DEFAULTS.passes : number('passes', given.passes, true),
    passIterations: given.passIterations === undefined ? VIDEO_DEFAULTS.passIterations : number('passIterations', given.passIterations, true),
    passBlend: given.passBlend === undefined ? VIDEO_DEFAULTS.passBlend : number('passBlend', given.passBlend, false),
  };
  if (video.passes < 1) fail('passes', 'must be at least 1', '1 is the single forward pass; 2 or more add passes of alternating direction');
  if (video.passBlend > 1) fail('passBlend', `expected a weight in [0, 1], got ${video.passBlend}`, '0.5 weighs a frame\'s own previous output and its warped neighbour alike');
  if (video.temporalOffsets.length > 0 && video.temporalWeight === 0) {
    fail('temporalWeight', 'is 0 while temporal offsets are set', 'give --temporal-offsets none for per-frame runs, or a positive weight');
  }
  return { run: resolveConfig(run), video };
}

/**
 * `<content>-<style>-<hash>` like a run id, the hash covering the video keys as well: runIdFor hashes
 * every key of the object it is given except the reporting ones, so the video keys ride along.
 */
export function clipIdFor(clip: ClipConfig): string {
  const run = clip.run;
  // A run's identity covers only run keys: the video options are one more fragment of it.
  const values = clip.video as unknown as Record<string, unknown>;
  const keys = (Object.keys(clip.video) as (keyof VideoConfig)[]).filter((k) => !(IDS_OMIT_AT_DEFAULT.includes(k) && values[k] === VIDEO_DEFAULTS[k]));
  const video = keys.sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(values[k])}`);
  return composeRunId(run.content, run.style, [...IDENTITY_KEYS.map((k) => identityFragment(run, k)), `"video":{${video.join(',')}}`]);
}

/** `<out>/<experiment>/<clipId>` */
export function clipDirFor(clip: ClipConfig): string {
  return join(clip.run.out, clip.run.experiment, clipIdFor(clip));
}
