/**
 * Keras HDF5 weight files (`model.save_weights`, and the official VGG-19 `notop` file) read and
 * written with h5wasm.
 *
 * Layout: the root attribute `layer_names` lists the layers in order; each layer is a group whose
 * attribute `weight_names` lists its datasets (empty for pools and inputs). Keras 1 names them
 * `block1_conv1_W_1:0` / `block1_conv1_b_1:0`; Keras 2 `block1_conv1/kernel:0` / `block1_conv1/bias:0`,
 * which h5py stores as nested groups. Both are looked up as paths inside the layer group, so the file's
 * own attributes decide, not a naming guess. Kernels are [kh,kw,in,out] float32 (TensorFlow order).
 */
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type * as H5 from 'h5wasm';
import { NstError } from '../../errors';
import { importEsm } from '../../esm';
import { VGG19_LAYERS } from '../vgg19';
import type { ConvWeights, VggWeights } from './types';
import { checkConv, checkHoldsAny, vggConv } from './validate';

type H5Module = typeof H5;

let h5: Promise<H5Module> | undefined;

/** h5wasm is ESM-only and initialises its WebAssembly once per process. */
function h5wasm(): Promise<H5Module> {
  h5 ??= importEsm<H5Module>('h5wasm/node').then(async (m) => {
    await m.ready;
    return m;
  });
  return h5;
}

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface Hdf5Header {
  /** File size the superblock declares (base address + end-of-file address), when it says. */
  declaredSize?: number;
}

/**
 * The HDF5 superblock at offset 0, or null when the file does not start with the HDF5 signature.
 * Reading the end-of-file address lets a truncated download be named as such: HDF5 itself only
 * reports it on stderr and hands back an unusable file id.
 */
export async function readHdf5Header(path: string): Promise<Hdf5Header | null> {
  const fd = await open(path, 'r');
  const head = Buffer.alloc(64);
  try {
    await fd.read(head, 0, head.length, 0);
  } finally {
    await fd.close();
  }
  if (!head.subarray(0, 8).equals(SIGNATURE)) return null;
  const version = head[8]!;
  // Superblock v0/v1: offset size at byte 13, base address at 24 (v1: 28); v2/v3: size at 9, base at 12.
  const offsetSize = version <= 1 ? head[13]! : head[9]!;
  const base = version === 0 ? 24 : version === 1 ? 28 : 12;
  if (version > 3 || (offsetSize !== 4 && offsetSize !== 8)) return {};
  const address = (at: number): number | undefined => {
    const v = offsetSize === 8 ? head.readBigUInt64LE(at) : BigInt(head.readUInt32LE(at));
    return v === (offsetSize === 8 ? 0xffffffffffffffffn : 0xffffffffn) ? undefined : Number(v);
  };
  const baseAddress = address(base) ?? 0;
  const eof = address(base + 2 * offsetSize);
  return eof === undefined ? {} : { declaredSize: baseAddress + eof };
}

type Group = H5.Group;

function stringsAttr(obj: Group, name: string): string[] | undefined {
  if (!Object.prototype.hasOwnProperty.call(obj.attrs, name)) return undefined;
  const value = obj.get_attribute(name, true);
  if (value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

function readFloat32(ds: H5.Dataset, where: string): Float32Array {
  const value = ds.value;
  if (value instanceof Float32Array) return value;
  if (value instanceof Float64Array) return Float32Array.from(value);
  throw new NstError(`${where}: dataset ${ds.path} has dtype ${JSON.stringify(ds.dtype)}, expected float32`, 'weights must be float32 (or float64) arrays');
}

function asGroup(entity: H5.Entity | null, m: H5Module): Group | null {
  return entity instanceof m.Group ? entity : null;
}

/** Reads a layer's kernel (the rank-4 dataset) and bias (rank 1) by its `weight_names`. */
function readConv(group: Group, names: string[], where: string, m: H5Module): ConvWeights {
  const arrays = names.map((n) => {
    const ds = group.get(n);
    if (!(ds instanceof m.Dataset)) {
      throw new NstError(`${where}: layer ${group.path.slice(1)} lists weight '${n}' in weight_names, but the file has no such dataset`, 'the file is damaged or was not written by Keras; fetch it again');
    }
    return { name: n, shape: ds.shape ?? [], data: readFloat32(ds, where) };
  });
  const kernel = arrays.find((a) => a.shape.length === 4);
  const bias = arrays.find((a) => a.shape.length === 1);
  if (arrays.length !== 2 || !kernel || !bias) {
    throw new NstError(
      `${where}: layer ${group.path.slice(1)} holds ${arrays.map((a) => `${a.name} [${a.shape.join(',')}]`).join(', ')}; expected a kernel [kh,kw,in,out] and a bias [out]`,
      'this is not a VGG-19 convolution layer',
    );
  }
  return { kernel: kernel.data, kernelShape: kernel.shape as ConvWeights['kernelShape'], bias: bias.data };
}

function namingOf(weightNames: string[]): string {
  if (weightNames.some((n) => n.includes('/'))) return 'keras2 (layer/kernel:0)';
  if (weightNames.some((n) => /_W(_\d+)?:\d+$/.test(n))) return 'keras1 (layer_W_1:0)';
  return 'other';
}

export interface KerasH5Contents {
  layers: Map<string, ConvWeights>;
  info: Record<string, string>;
}

/** Reads every VGG-19 convolution a Keras weight file holds, validated against the VGG-19 table. */
export async function readKerasH5(path: string): Promise<KerasH5Contents> {
  const where = `weights file ${path}`;
  const header = await readHdf5Header(path);
  if (!header) throw new NstError(`${where} is not an HDF5 file`, 'give a Keras .h5 weights file');
  const { size } = await stat(path);
  if (header.declaredSize !== undefined && size < header.declaredSize) {
    throw new NstError(
      `${where} is truncated: it has ${size} bytes of the ${header.declaredSize} its HDF5 header declares`,
      'an interrupted download or copy; fetch it again (nst models fetch vgg19)',
    );
  }
  const m = await h5wasm();
  const file = new m.File(resolve(path), 'r');
  if (file.file_id < 0n) throw new NstError(`${where}: HDF5 could not open it`, 'the file is damaged; fetch it again (nst models fetch vgg19)');
  try {
    // Whole-model files (`model.save`) keep the weights under model_weights.
    const root = stringsAttr(file, 'layer_names') ? file : asGroup(file.get('model_weights'), m);
    const layerNames = root ? stringsAttr(root, 'layer_names') : undefined;
    if (!root || !layerNames) {
      throw new NstError(`${where} has no 'layer_names' attribute: it is HDF5 but not a Keras weights file`, 'give a file written by Keras save_weights, e.g. vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5');
    }
    const layers = new Map<string, ConvWeights>();
    const ignored: string[] = [];
    const allWeightNames: string[] = [];
    for (const name of layerNames) {
      const group = asGroup(root.get(name), m);
      if (!group) throw new NstError(`${where}: layer_names lists '${name}' but the file has no group of that name`, 'the file is damaged; fetch it again');
      const weightNames = stringsAttr(group, 'weight_names') ?? [];
      if (weightNames.length === 0) continue;
      const spec = vggConv(name);
      if (!spec) {
        ignored.push(name);
        continue;
      }
      allWeightNames.push(...weightNames);
      const conv = readConv(group, weightNames, where, m);
      checkConv(where, spec, conv);
      layers.set(name, conv);
    }
    checkHoldsAny(where, layers, layerNames);
    const info: Record<string, string> = { naming: namingOf(allWeightNames) };
    for (const key of ['keras_version', 'backend']) {
      const v = stringsAttr(file, key);
      if (v) info[key] = v.join(',');
    }
    // Provenance written by nst itself (e.g. Gatys normalisation) is shown by `nst models inspect`.
    for (const key of Object.keys(file.attrs).filter((k) => k.startsWith('nst_'))) info[key.slice(4)] = (stringsAttr(file, key) ?? []).join(',');
    if (ignored.length > 0) info.ignored = ignored.join(',');
    return { layers, info };
  } catch (e) {
    if (e instanceof NstError) throw e;
    throw new NstError(`${where}: HDF5 read failed (${e instanceof Error ? e.message : String(e)})`, 'the file is damaged or truncated; fetch it again (nst models fetch vgg19)');
  } finally {
    file.close();
  }
}

/** Fixed-length ASCII, as h5py writes numpy 'S' values: old Keras versions call .decode() on each. */
function writeStrings(obj: Group, name: string, values: readonly string[]): void {
  obj.create_attribute(name, [...values], [values.length], `A${Math.max(1, ...values.map((v) => v.length + 1))}`);
}

function writeString(obj: Group, name: string, value: string): void {
  obj.create_attribute(name, value, null, `S${Math.max(1, Buffer.byteLength(value))}`);
}

/**
 * Writes weights as a Keras 2 weight file in the layout of the official VGG-19 `notop` file
 * (pools as groups with empty weight_names, kernel/bias in nested `layer/kernel:0` datasets), so Keras
 * `load_weights` and h5py read it. `attrs` become root attributes `nst_<key>` (provenance).
 * Written to a temporary name and renamed: `path` is never a half-written file.
 */
export async function writeKerasH5(weights: Pick<VggWeights, 'layers'>, path: string, attrs: Record<string, string> = {}): Promise<void> {
  const lastHeld = VGG19_LAYERS.reduce((last, l, i) => (weights.layers.has(l.keras) ? i : last), -1);
  if (lastHeld < 0) throw new NstError(`cannot write ${path}: the weights hold no VGG-19 convolution`);
  const next = VGG19_LAYERS[lastHeld + 1];
  const layers = VGG19_LAYERS.slice(0, lastHeld + 1)
    .concat(next?.kind === 'pool' ? [next] : [])
    .filter((l) => l.kind === 'pool' || weights.layers.has(l.keras));
  const m = await h5wasm();
  await mkdir(dirname(resolve(path)), { recursive: true });
  const tmp = resolve(`${path}.tmp-${process.pid}`);
  try {
    const file = new m.File(tmp, 'w');
    try {
      writeStrings(file, 'layer_names', layers.map((l) => l.keras));
      writeString(file, 'backend', 'tensorflow');
      writeString(file, 'keras_version', '2.2.4');
      for (const [key, value] of Object.entries(attrs)) writeString(file, `nst_${key}`, value);
      for (const layer of layers) {
        const group = file.create_group(layer.keras);
        const w = weights.layers.get(layer.keras);
        if (!w) {
          writeStrings(group, 'weight_names', []);
          continue;
        }
        writeStrings(group, 'weight_names', [`${layer.keras}/kernel:0`, `${layer.keras}/bias:0`]);
        const inner = group.create_group(layer.keras);
        inner.create_dataset({ name: 'kernel:0', data: w.kernel, shape: [...w.kernelShape], dtype: '<f' });
        inner.create_dataset({ name: 'bias:0', data: w.bias, shape: [w.bias.length], dtype: '<f' });
      }
    } finally {
      file.close();
    }
    await rename(tmp, resolve(path));
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
