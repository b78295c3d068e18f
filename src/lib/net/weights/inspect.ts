/** What a weights file holds, as `nst models inspect` and notebooks show it. */
import { VGG19_CONVS } from '../vgg19';
import type { VggWeights } from './types';
import { describeHeld } from './validate';

export interface LayerReport {
  keras: string;
  paper: string;
  kernelShape: [number, number, number, number];
  biasLength: number;
}

export interface WeightsReport {
  source: string;
  format: VggWeights['format'];
  random: boolean;
  sha256: string | null;
  /** `block1_conv1…block5_conv4` for the full network. */
  holds: string;
  layers: LayerReport[];
  info: Record<string, string>;
  reason?: string;
}

export function inspectWeights(weights: VggWeights & { reason?: string }): WeightsReport {
  const layers = VGG19_CONVS.filter((c) => weights.layers.has(c.keras)).map((c) => {
    const w = weights.layers.get(c.keras)!;
    return { keras: c.keras, paper: c.name, kernelShape: w.kernelShape, biasLength: w.bias.length };
  });
  return {
    source: weights.source,
    format: weights.format,
    random: weights.random,
    sha256: weights.sha256 ?? null,
    holds: describeHeld(weights),
    layers,
    info: weights.info,
    ...(weights.reason ? { reason: weights.reason } : {}),
  };
}

/** A plain-text table of the report. */
export function formatWeightsReport(r: WeightsReport): string {
  const fields: [string, string][] = [
    ['source', r.source],
    ['format', `${r.format}${r.random ? '  (RANDOM WEIGHTS, not a trained VGG-19)' : ''}`],
    ...(r.reason ? [['reason', r.reason] as [string, string]] : []),
    ['sha256', r.sha256 ?? '-'],
    ['holds', `${r.holds} (${r.layers.length} of ${VGG19_CONVS.length} convolutions)`],
    ...Object.entries(r.info),
  ];
  const keyWidth = Math.max(...fields.map(([k]) => k.length)) + 2;
  const rows = [['keras', 'paper', 'kernel [kh,kw,in,out]', 'bias'], ...r.layers.map((l) => [l.keras, l.paper, `[${l.kernelShape.join(',')}]`, String(l.biasLength)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return [
    ...fields.map(([k, v]) => `${(k + ':').padEnd(keyWidth)}${v}`),
    '',
    ...rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()),
  ].join('\n');
}
