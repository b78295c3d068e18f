/**
 * Feature statistics of a result against its style image, for the notebooks that look inside a run:
 * Gram matrices, their eigenvalue spectra, per-channel means and standard deviations (notebook 05), and
 * the pairwise distances between an experiment's results (notebook 06).
 */
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { Pooling } from '../config';
import { gramDistance, pairwise, rmsDistance } from '../analysis/distance';
import { symmetricEigenvalues } from '../analysis/eigen';
import { imageStats, type LayerStats } from '../analysis/features';
import { openFeatureNet } from '../analysis/net';
import { channelStatsChart, gramHeatmaps, matrixHeatmap, spectraChart } from '../figures/charts';
import type { HeatmapFigure, LineFigure } from '../figures/figure';
import { loadImage } from '../image/io';
import { styleTaps } from '../sweep/report';
import { figureLabel } from '../sweep/figures';
import type { Experiment } from './experiment';

/** Statistics of the style image (resized to the result's size, as the run used it) and of the result, per layer. */
export interface StyleComparison {
  layers: readonly string[];
  style: Record<string, LayerStats>;
  result: Record<string, LayerStats>;
}

/** Opens the network once, reads both images' statistics at `layers`, and closes it. */
export async function compareStatistics(weights: string, pooling: Pooling, style: string, result: string, layers: readonly string[]): Promise<StyleComparison> {
  const { width, height } = await sharp(result).metadata();
  const net = await openFeatureNet(weights, pooling);
  try {
    return { layers, style: await imageStats(net, style, { size: [height!, width!] }, layers), result: await imageStats(net, result, {}, layers) };
  } finally {
    net.dispose();
  }
}

/** The first `block` channels of both Gram matrices at `layer`, side by side on one colour scale. */
export function gramFigure(c: StyleComparison, layer: string, block: number): HeatmapFigure {
  const panels = (['style', 'result'] as const).map((side) => ({ name: side === 'style' ? 'style image' : 'result', gram: c[side][layer]!.gram, channels: c[side][layer]!.channels }));
  return gramHeatmaps(layer, panels, block);
}

/** Eigenvalue spectra of both Gram matrices at every layer: colour by layer, dash by image. */
export function spectraFigure(c: StyleComparison): LineFigure {
  const spectra = c.layers.flatMap((layer) =>
    (['style', 'result'] as const).map((side) => ({
      name: `${layer} ${side}`,
      // Gram matrices are positive semi-definite; rounding can leave tiny negative eigenvalues, which spectraChart drops.
      values: symmetricEigenvalues(c[side][layer]!.gram, c[side][layer]!.channels),
      color: layer,
      dash: side,
    })),
  );
  return spectraChart(spectra, 'Eigenvalue spectra of G/M: style image vs result');
}

/** Per-channel means or standard deviations of the result against the style image's. */
export function channelFigure(c: StyleComparison, stat: 'mean' | 'std'): LineFigure {
  const name = stat === 'std' ? 'standard deviation' : 'mean';
  const layers = c.layers.map((layer) => ({ layer, style: c.style[layer]![stat], result: c.result[layer]![stat] }));
  return channelStatsChart(layers, { statistic: name, title: `Channel ${name}s: result vs style image` });
}

/**
 * The pairwise distances between an experiment's final images: RMS pixel difference, and the relative
 * Frobenius distance of the Gram matrices at each run's style layers, averaged over layers.
 */
export async function distanceFigures(ex: Experiment, weights: string, pooling: Pooling): Promise<{ pixels: HeatmapFigure; style: HeatmapFigure }> {
  const labels = ex.records.map((r) => ex.sweep.spec.parameters.map((p) => figureLabel(r.run.params[p.name])).join(', '));
  const images = await Promise.all(ex.records.map((r) => loadImage(r.image!)));
  const pixel = pairwise(images, rmsDistance);
  tf.dispose(images);
  const net = await openFeatureNet(weights, pooling);
  const stats: Record<string, LayerStats>[] = [];
  try {
    for (const r of ex.records) stats.push(await imageStats(net, r.image!, {}, styleTaps(r)));
  } finally {
    net.dispose();
  }
  const axisTitle = ex.sweep.spec.parameters.map((p) => p.name).join(', ');
  return {
    pixels: matrixHeatmap({ title: ex.title('RMS pixel distance between results'), labels, matrix: pixel, color: { title: 'RMS distance (0–255 scale)' }, axisTitle }),
    style: matrixHeatmap({ title: ex.title('Style (Gram) distance between results'), labels, matrix: pairwise(stats, gramDistance), color: { title: 'relative Gram distance' }, axisTitle }),
  };
}
