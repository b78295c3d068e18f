/**
 * A notebook's parameters cell: what every notebook chooses — the scale (`paper`, or `smoke`: tiny
 * images, few iterations and grid points, the same code path, how the test suite runs every notebook),
 * the feature network and its weights, the backend and device, the results folder, the figures' DPI —
 * and the experiment's own values at full scale, with the smoke-scale ones that replace them.
 * Environment variables override the cell for CI: NST_SMOKE=1 (scale smoke), NST_SCALE, NST_BACKEND, NST_RESULTS.
 */

import { CONFIG_KEYS, type RunConfig } from '../config';
import { PAPER_SCALE } from '../sweep/spec';

/** The scale the test suite runs every notebook at (each experiment file's `scales: smoke`). */
export const SMOKE = 'smoke';

/** `auto` takes what the backend gives; `cpu` and `gpu` refuse to run elsewhere (checked in setupNotebook). */
export const DEVICES = ['auto', 'cpu', 'gpu'] as const;
export type Device = (typeof DEVICES)[number];

export interface StandardParams {
  /** `paper` (the experiment files' own values), `smoke`, or another scale the experiment files define. */
  scale: string;
  /** The feature network: any `network` config value (VGG-19 by default: the notebooks name its layers). */
  network: string;
  /** `auto` (the network's weights in models/, else random:0 — notebooks never download), a path, or `random:SEED`. */
  weights: string;
  /** `auto`, `tensorflow`, `native`, `wasm` or `cpu`, as for `nst run --backend`. */
  backend: string;
  device: Device;
  /** Results root: runs, experiments and figures (relative paths: from the project root). */
  out: string;
  /** DPI of the exported PNG figures. */
  dpi: number;
}

export const STANDARD_PARAMS: Readonly<StandardParams> = Object.freeze({ scale: PAPER_SCALE, network: 'vgg19', weights: 'auto', backend: 'auto', device: 'auto', out: 'results', dpi: 200 });

/** NST_SMOKE=1 (any value but empty or 0) asks for smoke scale. */
export function isSmoke(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.NST_SMOKE;
  return v !== undefined && v !== '' && v !== '0';
}

/**
 * The standard parameters under `full`'s, with `smoke`'s values over them at smoke scale (the cell's
 * `scale: 'smoke'` or NST_SMOKE) and the environment's overrides; frozen, `smoke` saying the scale.
 */
export function notebookParams<T extends object>(full: T & Partial<StandardParams>, smoke: Partial<T & StandardParams>, env: NodeJS.ProcessEnv = process.env): Readonly<StandardParams & T & { smoke: boolean }> {
  const given = { ...STANDARD_PARAMS, ...full };
  const scale = isSmoke(env) ? SMOKE : env.NST_SCALE || given.scale;
  const scaled: Partial<StandardParams> = scale === SMOKE ? smoke : {};
  return Object.freeze({
    ...given,
    ...(scale === SMOKE ? smoke : {}),
    scale,
    smoke: scale === SMOKE,
    backend: env.NST_BACKEND || (scaled.backend ?? given.backend),
    out: env.NST_RESULTS || (scaled.out ?? given.out),
  }) as Readonly<StandardParams & T & { smoke: boolean }>;
}

/** Keys the notebook resolves once for all its runs (setupNotebook's `base`), not taken from the cell as given. */
const RESOLVED_BY_SETUP = ['network', 'weights', 'backend', 'out'];

/** The run-config keys among a parameters cell's (content, style, imageSize, …): a single run's config. */
export function configOf(params: object): Partial<RunConfig> {
  return Object.fromEntries(Object.entries(params).filter(([k]) => (CONFIG_KEYS as readonly string[]).includes(k) && !RESOLVED_BY_SETUP.includes(k))) as Partial<RunConfig>;
}
