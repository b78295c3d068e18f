/**
 * Test fixtures for weight loading: small Keras weight files written directly with h5wasm in the
 * official layout (independently of src/lib/net/weights/keras-h5.ts), deterministic arrays, and h5py
 * as an independent reader.
 */
import { execFileSync } from 'node:child_process';
import type * as H5 from 'h5wasm';
import { importEsm } from '../../src/lib/esm';
import { VGG19_CONVS } from '../../src/lib/net/vgg19';
import { PYTHON } from './reference';

export interface FixtureLayer {
  keras: string;
  kernel: Float32Array;
  kernelShape: number[];
  bias: Float32Array;
}

/** A tiny deterministic generator in (-1, 1), independent of the code under test. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** The first `convs` VGG-19 convolutions with deterministic values. */
export function fixtureLayers(convs: number, seed = 1): FixtureLayer[] {
  const rand = lcg(seed);
  return VGG19_CONVS.slice(0, convs).map((c) => ({
    keras: c.keras,
    kernel: Float32Array.from({ length: 9 * c.inChannels * c.outChannels }, () => rand() * 0.1),
    kernelShape: [3, 3, c.inChannels, c.outChannels],
    bias: Float32Array.from({ length: c.outChannels }, () => rand() * 0.01),
  }));
}

export interface FixtureOptions {
  naming: 'keras1' | 'keras2';
  /** Layers listed in layer_names without weights (pools, inputs), by name. */
  empty?: string[];
  /** Non-VGG layers with weights (e.g. fc1), written like the others. */
  extra?: FixtureLayer[];
  /** Write under the `model_weights` group, as Keras `model.save` does. */
  wholeModel?: boolean;
  /** Names listed in a layer's weight_names that are not written (a damaged file). */
  dropDataset?: string;
}

type H5Module = typeof H5;

let h5: Promise<H5Module> | undefined;
async function h5wasm(): Promise<H5Module> {
  h5 ??= importEsm<H5Module>('h5wasm/node').then(async (m) => (await m.ready, m));
  return h5;
}

function strings(obj: H5.Group, name: string, values: string[]): void {
  obj.create_attribute(name, values, [values.length], `A${Math.max(1, ...values.map((v) => v.length + 1))}`);
}

/** Writes a Keras weights file in the official layout with h5wasm. */
export async function writeFixtureH5(path: string, layers: FixtureLayer[], opts: FixtureOptions): Promise<void> {
  const m = await h5wasm();
  const file = new m.File(path, 'w');
  try {
    const root = opts.wholeModel ? file.create_group('model_weights') : file;
    const all = [...layers, ...(opts.extra ?? [])];
    const empty = opts.empty ?? ['block1_pool', 'block2_pool'];
    strings(root, 'layer_names', [...all.map((l) => l.keras), ...empty]);
    strings(file, 'keras_version', [opts.naming === 'keras1' ? '1.2.2' : '2.1.5']);
    strings(file, 'backend', ['tensorflow']);
    for (const l of all) {
      const g = root.create_group(l.keras);
      const names = opts.naming === 'keras1' ? [`${l.keras}_W_1:0`, `${l.keras}_b_1:0`] : [`${l.keras}/kernel:0`, `${l.keras}/bias:0`];
      strings(g, 'weight_names', names);
      const holder = opts.naming === 'keras1' ? g : g.create_group(l.keras);
      const leaf = (n: string) => n.split('/').pop()!;
      if (names[0] !== opts.dropDataset) holder.create_dataset({ name: leaf(names[0]!), data: l.kernel, shape: l.kernelShape, dtype: '<f' });
      if (names[1] !== opts.dropDataset) holder.create_dataset({ name: leaf(names[1]!), data: l.bias, shape: [l.bias.length], dtype: '<f' });
    }
    for (const name of empty) strings(root.create_group(name), 'weight_names', []);
  } finally {
    file.close();
  }
}

/** An HDF5 file with one dataset and no Keras attributes. */
export async function writePlainH5(path: string): Promise<void> {
  const m = await h5wasm();
  const file = new m.File(path, 'w');
  file.create_dataset({ name: 'data', data: new Float32Array([1, 2, 3]), shape: [3], dtype: '<f' });
  file.close();
}

/** Runs a Python snippet with h5py/numpy and parses the JSON it prints. */
export function python(code: string, ...args: string[]): any {
  return JSON.parse(execFileSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 }));
}
