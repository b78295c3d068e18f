/**
 * Notebook 00's checks: versions, the ESM-only HDF5 reader loaded from CommonJS, the working
 * directory, one forward pass (the style layers' sizes), and the tensors left alive after it.
 */
import * as tf from '@tensorflow/tfjs';
import type { Pooling } from '../config';
import { imageStats, type LayerStats } from '../analysis/features';
import { openFeatureNet } from '../analysis/net';
import { importEsm } from '../esm';
import type { BarFigure } from '../figures/figure';
import { LAYER_PRESETS } from '../net/vgg19';
import { LIBRARY_VERSION } from '../version';

/** One line each: library and runtime versions, h5wasm through importEsm (how Keras .h5 weights are read), cwd. */
export async function environmentLines(tslab: { versions: { tslab: string; typescript: string } }): Promise<string> {
  const h5wasm = (await importEsm('h5wasm/node')) as { ready: Promise<unknown>; File: unknown };
  await h5wasm.ready;
  return [
    `nst ${LIBRARY_VERSION}, tfjs ${tf.version.tfjs}, tslab ${tslab.versions.tslab} (TypeScript ${tslab.versions.typescript}), node ${process.version}`,
    `h5wasm loaded through importEsm: File is a ${typeof h5wasm.File}`,
    `working directory: ${process.cwd()}`,
  ].join('\n');
}

/** A line saying how many tensors are alive: after a forward pass that disposed everything, the count before it. */
export function tensorsAlive(): string {
  return `tensors alive: ${tf.memory().numTensors}`;
}

/** N_l feature maps and M_l positions of each VGG-19 style layer for one image (Gatys et al. 2016, eq. 4's normalisers). */
export async function layerSizesFigure(weights: string, pooling: Pooling, image: string, imageSize: number, layers: readonly string[] = LAYER_PRESETS.gatys2016_style!): Promise<BarFigure> {
  const net = await openFeatureNet(weights, pooling);
  let stats: Record<string, LayerStats>;
  try {
    stats = await imageStats(net, image, { maxSide: imageSize }, layers);
  } finally {
    net.dispose();
  }
  return {
    kind: 'bar',
    title: `Style layers of VGG-19 at ${imageSize} px`,
    x: { title: 'layer', categories: layers },
    y: { title: 'count (log scale)', log: true },
    series: [
      { name: 'N_l feature maps', values: layers.map((l) => stats[l]!.channels) },
      { name: 'M_l positions (h·w)', values: layers.map((l) => stats[l]!.positions) },
    ],
  };
}
