/**
 * Notebook 07's comparison of feature networks: one content/style pair through every network that can
 * run here (VGG-19 when its weights are present, InceptionV3 and MobileNetV2 from the nsfwjs package,
 * and random VGG-19 weights as the untrained control), each at its own presets and recommended β.
 */
import sharp from 'sharp';
import type { RunConfig } from '../config';
import { imageStats, type LayerStats } from '../analysis/features';
import { channelStatsChart } from '../figures/charts';
import type { LineFigure } from '../figures/figure';
import type { GridOptions } from '../figures/grid';
import { listNetworks } from '../net/catalog';
import { RECOMMENDED_STYLE_WEIGHT } from '../net/presets';
import { instantiateNetwork, loadNetworkSource } from '../net/registry';
import type { RunCallbacks } from '../run/types';
import { runGrid, type GridPoint, type GridRun } from './grid-runs';

/** The networks to compare, as grid points: trained ones that are present, then random VGG-19. */
export function networkPoints(): GridPoint[] {
  const present = new Set(listNetworks().filter((n) => n.present || n.source.startsWith('npm')).map((n) => n.name));
  const trained = ['vgg19', 'vgg16', 'inception_v3', 'mobilenet_v2'].filter((n) => present.has(n));
  const point = (label: string, network: string, weights: string): GridPoint => ({
    label,
    config: { network, weights, contentLayers: ['content'], styleLayers: ['style'], styleWeight: RECOMMENDED_STYLE_WEIGHT[network] ?? 1e3 },
    coords: { network: label },
  });
  return [...trained.map((n) => point(n, n, 'auto')), point('vgg19 random:0', 'vgg19', 'random:0')];
}

/** Runs every network on `base` (content, style, size, iterations). */
export function compareNetworks(base: Partial<RunConfig>, callbacks?: (p: GridPoint) => RunCallbacks): Promise<GridRun[]> {
  return runGrid(networkPoints(), { base, callbacks: callbacks && ((p) => callbacks(p)) });
}

/** Content and style on the left, one result per network. */
export function networkGrid(runs: readonly GridRun[], content: string, style: string, title: string): GridOptions {
  return {
    rows: [[content, style, ...runs.map((r) => r.result.finalImage)]],
    colLabels: ['content', 'style', ...runs.map((r) => r.label)],
    title,
  };
}

/**
 * Each network's style terms relative to their first value, so networks whose losses differ by
 * decades share one axis: colour by network, dash by the layer's depth rank in its style set.
 */
export function relativeStyleCurves(runs: readonly GridRun[]): LineFigure {
  const series = runs.flatMap((r) =>
    r.result.config.styleLayers.map((layer, rank) => {
      const key = `style/${layer}`;
      const first = r.result.history[0]?.terms[key] ?? 1;
      return { name: `${r.label} ${layer}`, x: r.result.history.map((l) => l.iteration), y: r.result.history.map((l) => (l.terms[key] ?? NaN) / first), color: r.label, dash: `style layer ${rank + 1}` };
    }),
  );
  return { kind: 'line', title: 'Style terms E_l relative to their first value, per network', x: { title: 'iteration', integer: true }, y: { title: 'E_l / E_l at iteration 1', log: true }, series, legend: 'network' };
}

/** Channel standard deviations of each network's result against the style image, at its style layers. */
export async function networkChannelCharts(runs: readonly GridRun[], style: string): Promise<LineFigure[]> {
  const charts: LineFigure[] = [];
  for (const r of runs) {
    const cfg = r.result.config;
    const net = instantiateNetwork(await loadNetworkSource(cfg, { fetch: false }), { pooling: cfg.pooling });
    let s: Record<string, LayerStats>;
    let x: Record<string, LayerStats>;
    try {
      // The style image as the run used it: resized to the result's size.
      const { width, height } = await sharp(r.result.finalImage).metadata();
      s = await imageStats(net, style, { size: [height!, width!] }, cfg.styleLayers);
      x = await imageStats(net, r.result.finalImage, {}, cfg.styleLayers);
    } finally {
      net.dispose();
    }
    const layers = cfg.styleLayers.map((layer) => ({ layer, style: s[layer]!.std, result: x[layer]!.std }));
    charts.push(channelStatsChart(layers, { statistic: 'standard deviation', title: `${r.label}: channel standard deviations, result vs style image` }));
  }
  return charts;
}
