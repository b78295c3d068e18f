/**
 * The one entry point for VGG-19 weights: `auto`, a Keras .h5 file, a tfjs layers-model directory (or
 * its model.json), or `random:SEED`. Whatever the format, the result is validated against the VGG-19
 * table and carries the file's sha256, so every run records exactly which weights it used.
 */
import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { NstError } from '../../errors';
import { modelsDir } from '../../paths';
import { digestFiles } from './digest';
import { downloadProgress, fetchModel, modelEntry, type ModelEntry } from './fetch';
import { readHdf5Header, readKerasH5 } from './keras-h5';
import { parseRandomSpec, randomWeights } from './random';
import { readTfjsLayers } from './tfjs-layers';
import type { VggWeights } from './types';
import type { VggArch } from '../vgg19';

export interface LoadWeightsOptions {
  /** `auto` may download the official file when models/ lacks it (default true). */
  fetch?: boolean;
  /** Progress and status lines (default: stderr). */
  log?: (line: string) => void;
  /** Where `auto` looks for and downloads the official file (default: the project's models/). */
  modelsDir?: string;
  /** Replaces fields of the manifest's vgg19 entry (url, md5), e.g. to serve a file in tests. */
  vgg19?: Partial<ModelEntry>;
}

export type LoadedWeights = VggWeights & {
  /** Why `auto` fell back to random weights; the run loop prints it in its first line. */
  reason?: string;
};

const ACCEPTED =
  'accepted: auto, a Keras .h5 weights file (e.g. vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5; nst models fetch vgg19), ' +
  'a TensorFlow.js layers-model directory (model.json + .bin shards), or random:SEED';

/** Download failures by URL: `auto` asks the network once per process, not once per session. */
const failedDownloads = new Map<string, string>();

async function loadFile(path: string): Promise<LoadedWeights> {
  if (!existsSync(path)) throw new NstError(`weights file not found: ${path}`, ACCEPTED);
  const isDir = statSync(path).isDirectory();
  const modelJson = isDir ? join(path, 'model.json') : basename(path) === 'model.json' ? path : undefined;
  if (isDir && !existsSync(modelJson!)) throw new NstError(`weights directory ${path} has no model.json`, ACCEPTED);
  if (modelJson) {
    const { layers, info, files } = await readTfjsLayers(modelJson);
    const { sha256 } = await digestFiles(files);
    return { layers, info, format: 'tfjs-layers', source: path, sha256, random: false };
  }
  if (await readHdf5Header(path)) {
    const { layers, info } = await readKerasH5(path);
    const { sha256, md5 } = await digestFiles([path]);
    return { layers, info: { ...info, md5 }, format: 'keras-h5', source: path, sha256, random: false };
  }
  const head = Buffer.alloc(16);
  const fd = await open(path, 'r');
  const { bytesRead } = await fd.read(head, 0, 16, 0).finally(() => fd.close());
  const shown = bytesRead === 0 ? 'it is empty' : `it starts with ${JSON.stringify(head.subarray(0, bytesRead).toString('latin1'))}`;
  throw new NstError(`weights file ${path} is neither HDF5 nor a tfjs model.json (${shown})`, ACCEPTED);
}

/**
 * The official weights of `arch` (models/manifest.json) from models/, checked against the pinned md5,
 * else downloaded there when allowed; when neither works, no weights and the reason.
 */
export async function officialWeights(arch: VggArch, opts: LoadWeightsOptions = {}): Promise<{ weights?: LoadedWeights; reason?: string }> {
  const entry = modelEntry(arch, arch === 'vgg19' ? opts.vgg19 : undefined);
  const label = arch === 'vgg19' ? 'VGG-19' : 'VGG-16';
  const dir = opts.modelsDir ?? modelsDir();
  const local = join(dir, entry.file);
  if (existsSync(local)) {
    const weights = await loadFile(local);
    if (weights.info.md5 !== entry.md5) {
      throw new NstError(`${local} has md5 ${weights.info.md5}, not the official file's ${entry.md5}`, `delete it and run nst models fetch ${arch}, or pass your own file with --weights PATH`);
    }
    return { weights };
  }
  if (opts.fetch === false) return { reason: `no pretrained ${label} in ${dir} (downloads disabled)` };
  let failure = failedDownloads.get(entry.url);
  if (failure === undefined) {
    // No line before the attempt: offline it fails at once, and the first line a run prints is then
    // the one that says which network it falls back to. The progress bar shows a real download.
    opts.log?.(`weights: no ${label} in ${dir}; downloading ${entry.url}`);
    const bar = opts.log ? undefined : downloadProgress();
    try {
      const fetched = await fetchModel(arch, { dir, entry: arch === 'vgg19' ? opts.vgg19 : undefined, progress: bar?.update });
      bar?.end();
      return { weights: await loadFile(fetched.path) };
    } catch (e) {
      bar?.end();
      if (!(e instanceof NstError)) throw e;
      failure = e.message;
      failedDownloads.set(entry.url, failure);
    }
  }
  return { reason: `no pretrained ${label} in ${dir} and the download failed: ${failure}` };
}

/** `auto`: the official VGG-19, else `random:0` with the reason, so that offline smoke runs still work but say so. */
async function loadAuto(opts: LoadWeightsOptions): Promise<LoadedWeights> {
  const { weights, reason } = await officialWeights('vgg19', opts);
  return weights ?? { ...randomWeights(0), reason };
}

/** Loads VGG-19 weights from a spec (see ACCEPTED); user mistakes throw NstError naming the file. */
export async function loadWeights(spec: string, opts: LoadWeightsOptions = {}): Promise<LoadedWeights> {
  if (spec === 'auto') return loadAuto(opts);
  const seed = parseRandomSpec(spec);
  if (seed !== null) return randomWeights(seed);
  if (spec.trim() === '') throw new NstError('--weights is empty', ACCEPTED);
  return loadFile(spec);
}
