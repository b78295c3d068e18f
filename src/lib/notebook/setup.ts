/**
 * The first cell of every notebook: the backend and device, the weights every run of the notebook will
 * use, the base run config, the figure folder, and a banner saying all of it (RANDOM WEIGHTS loudly).
 */
import { isAbsolute, join } from 'node:path';
import { describeBackend, initBackend, type BackendInfo } from '../backend';
import type { RunConfig } from '../config';
import { NstError } from '../errors';
import { describeNetwork, loadNetworkSource } from '../net/registry';
import { resolveConfig } from '../config';
import { projectRoot } from '../paths';
import { NotebookFigures } from './figures';
import { showBanner, showPlotlyLoader } from './display';
import { DEVICES, STANDARD_PARAMS, type StandardParams } from './params';

export type NotebookParams = Partial<StandardParams> & { smoke: boolean };

export interface Notebook {
  name: string;
  backend: BackendInfo;
  /** The scale its experiments run at (`paper`, `smoke`, …). */
  scale: string;
  /** The results root: runs, experiments (`<results>/<sweep name>/`) and figures. */
  results: string;
  /** The network the runs use (resolved once: `auto` never changes between runs). */
  network: string;
  /** What the runs get as `weights`: the resolved file, or `random:SEED`. */
  weights: string;
  weightsLabel: string;
  randomWeights: boolean;
  /** What titles end with: ' — RANDOM WEIGHTS' on random weights, else nothing. */
  note: string;
  /** What the parameters cell sets over every experiment file's base: network, weights, backend. */
  override: Partial<RunConfig>;
  /** Shared by every single run of the notebook: the override, results folder, no console chatter. */
  base: Partial<RunConfig>;
  figures: NotebookFigures;
}

/** Where notebooks put runs and figures: NST_RESULTS (the tests use a scratch folder), else the project's results/. */
export function notebookResultsDir(env: NodeJS.ProcessEnv = process.env, out = STANDARD_PARAMS.out): string {
  const dir = env.NST_RESULTS || out;
  return isAbsolute(dir) ? dir : join(projectRoot(), dir);
}

/** A device the parameters cell insists on must be the one the backend runs on. */
function checkDevice(device: string, backend: BackendInfo): void {
  if (!(DEVICES as readonly string[]).includes(device)) throw new NstError(`device '${device}' is not allowed`, `allowed: ${DEVICES.join(', ')} (the parameters cell)`);
  const onGpu = /^GPU/.test(backend.device);
  if (device === 'gpu' && !onGpu) {
    throw new NstError(`device gpu: backend ${backend.name} runs on ${backend.device}`, 'use backend tensorflow on a machine with CUDA 11.2 and cuDNN 8.1, or device auto');
  }
  if (device === 'cpu' && onGpu) throw new NstError(`device cpu: backend ${backend.name} runs on ${backend.device}`, 'use backend native or wasm, or device auto');
}

/** Initialises the backend and weights once for the notebook `name` (its file name without .ipynb). */
export async function setupNotebook(name: string, title: string, params: NotebookParams): Promise<Notebook> {
  const backend = await initBackend(params.backend);
  checkDevice(params.device ?? 'auto', backend);
  // Resolved once here, so that every run uses (and records) the same weights without asking again.
  const source = await loadNetworkSource(resolveConfig({ network: params.network ?? STANDARD_PARAMS.network, weights: params.weights ?? 'auto', style: ['-'] }), { fetch: false });
  const network = source.kind === 'vgg' ? source.arch : source.name;
  const w = source.weights;
  const label = describeNetwork({ name: network, weights: w }).replace(/^network: /, '');
  const weightsLabel = w.reason ? `${label} (${w.reason})` : label;
  const results = notebookResultsDir(process.env, params.out);
  const figures = new NotebookFigures(name, results, params.dpi);
  const scale = params.scale ?? STANDARD_PARAMS.scale;
  const shown = Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'smoke'));
  showBanner({
    title,
    backend: describeBackend(backend).replace(/^backend: /, ''),
    weights: weightsLabel,
    randomWeights: w.random,
    smoke: params.smoke,
    details: [`scale: ${scale}`, `parameters: ${JSON.stringify(shown)}`, `results: ${results}`, `figures: ${figures.dir}`],
  });
  showPlotlyLoader();
  // A VGG file's path, random:SEED, or auto for networks that bring their own weights.
  const override = { network, weights: source.kind === 'vgg' ? w.source : 'auto', backend: backend.name };
  return {
    name,
    backend,
    scale,
    results,
    network,
    weights: override.weights,
    weightsLabel,
    randomWeights: w.random,
    note: w.random ? ' — RANDOM WEIGHTS' : '',
    override,
    base: { ...override, out: results, experiment: `notebook-${name}`, printEvery: 0 },
    figures,
  };
}
