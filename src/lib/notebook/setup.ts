/**
 * The first cell of every notebook: the backend, the weights every run of the notebook will use, the
 * base run config, the figure folder, and a banner saying all of it (RANDOM WEIGHTS loudly).
 */
import { join } from 'node:path';
import { describeBackend, initBackend, type BackendInfo } from '../backend';
import type { RunConfig } from '../config';
import { describeNetwork, loadNetworkSource } from '../net/registry';
import { resolveConfig } from '../config';
import { projectRoot } from '../paths';
import { NotebookFigures } from './figures';
import { showBanner } from './display';

export interface NotebookParams {
  smoke: boolean;
  /** The feature network (default vgg19: the notebooks name VGG-19 layers); any `network` config value. */
  network?: string;
  /** `auto` (the VGG-19 in models/, else random:0 — notebooks never download), a path, or `random:SEED`. */
  weights?: string;
  backend?: string;
  /** DPI of the exported PNG figures. */
  dpi?: number;
}

export interface Notebook {
  name: string;
  backend: BackendInfo;
  /** The network the runs use (resolved once: `auto` never changes between runs). */
  network: string;
  /** What the runs get as `weights`: the resolved file, or `random:SEED`. */
  weights: string;
  weightsLabel: string;
  randomWeights: boolean;
  /** Shared by every run of the notebook: weights, backend, results folder, no console chatter. */
  base: Partial<RunConfig>;
  figures: NotebookFigures;
}

/** Where notebooks put runs and figures: NST_RESULTS (the tests use a scratch folder), else the project's results/. */
export function notebookResultsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.NST_RESULTS || join(projectRoot(), 'results');
}

/** Initialises the backend and weights once for the notebook `name` (its file name without .ipynb). */
export async function setupNotebook(name: string, title: string, params: NotebookParams): Promise<Notebook> {
  const backend = await initBackend(params.backend);
  // Resolved once here, so that every run uses (and records) the same weights without asking again.
  const source = await loadNetworkSource(resolveConfig({ network: params.network ?? 'vgg19', weights: params.weights ?? 'auto', style: ['-'] }), { fetch: false });
  const network = source.kind === 'vgg' ? source.arch : source.name;
  const w = source.weights;
  const label = describeNetwork({ name: network, weights: w }).replace(/^network: /, '');
  const weightsLabel = w.reason ? `${label} (${w.reason})` : label;
  const results = notebookResultsDir();
  const figures = new NotebookFigures(name, results, params.dpi);
  const shown = Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'smoke'));
  showBanner({
    title,
    backend: describeBackend(backend).replace(/^backend: /, ''),
    weights: weightsLabel,
    randomWeights: w.random,
    smoke: params.smoke,
    details: [`parameters: ${JSON.stringify(shown)}`, `figures: ${figures.dir}`],
  });
  return {
    name,
    backend,
    network,
    // A VGG file's path, random:SEED, or auto for networks that bring their own weights.
    weights: source.kind === 'vgg' ? w.source : 'auto',
    weightsLabel,
    randomWeights: w.random,
    base: { network, weights: source.kind === 'vgg' ? w.source : 'auto', backend: backend.name, out: results, experiment: `notebook-${name}`, printEvery: 0 },
    figures,
  };
}
