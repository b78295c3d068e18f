/**
 * What `nst models list` and `nst models inspect NAME` show: every network the registry knows, where
 * its weights are and whether they are present, and a network's taps with their output shapes at an
 * input size.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir } from '../paths';
import type { FeatureNetwork } from './network';
import { packagedEntry } from './packaged-model';
import { NETWORK_NAMES } from './registry';
import { readManifest } from './weights/fetch';

export interface NetworkListing {
  name: string;
  /** Where the weights come from: a download URL or an npm package. */
  source: string;
  /** Where they are (or will be) on this machine. */
  path: string;
  present: boolean;
  description: string;
}

export function listNetworks(dir = modelsDir()): NetworkListing[] {
  const manifest = readManifest() as Record<string, { file?: string; url?: string; description?: string }>;
  return NETWORK_NAMES.map((name) => {
    const packaged = packagedEntry(name);
    const entry = manifest[name]!;
    const path = join(dir, packaged ? join(packaged.dir, 'model.json') : entry.file!);
    return {
      name,
      source: packaged ? `npm ${packaged.package} (installed with npm ci; written to models/ on first use)` : entry.url!,
      path,
      present: existsSync(path),
      description: entry.description ?? '',
    };
  });
}

export interface TapRow {
  name: string;
  kind: string;
  position: string;
  channels: number;
  stride: number;
  receptiveField: number;
  /** [1, h, w, c] at the inspected input size; null for a tap the input is too small for. */
  shape: number[] | null;
}

/** Every tap with its output shape for a size × size input (one forward pass over the taps that fit). */
export function inspectTaps(net: FeatureNetwork, size: number): TapRow[] {
  const names = net.taps.map((t) => t.name).filter((n) => net.minInputSize([n]) <= size);
  const shapes: Record<string, number[]> = tf.tidy(() => {
    const f = net.features(tf.zeros([1, size, size, 3]), names);
    return Object.fromEntries(names.map((n) => [n, f[n]!.shape]));
  });
  return net.taps.map((t) => ({ name: t.name, kind: t.kind, position: t.position, channels: t.channels, stride: t.stride, receptiveField: t.receptiveField, shape: shapes[t.name] ?? null }));
}

/** A plain-text table of taps. */
export function formatTaps(rows: readonly TapRow[]): string[] {
  const table = [['tap', 'kind', 'position', 'shape', 'stride', 'receptive field'], ...rows.map((r) => [r.name, r.kind, r.position, r.shape ? `[${r.shape.join(',')}]` : 'input too small', String(r.stride), String(r.receptiveField)])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}
