/**
 * Notebook 07's comparison of feature networks: one content/style pair through every network that can
 * run here (VGG-19 when its weights are present, InceptionV3 and MobileNetV2 from the nsfwjs package,
 * and random VGG-19 weights as the untrained control), each at its own presets and recommended β. The
 * runs go through the sweep engine (a spec built here: which networks run depends on the machine).
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
import { styleTaps, type RunRecord } from '../sweep/report';
import { relativeStyleCurves } from '../sweep/figures';
import { parseSweepSpec, type SweepSpec } from '../sweep/spec';
import type { Experiment } from './experiment';

/** The networks to compare, as sub-configs: trained ones that are present, then random VGG-19. */
export function networkConfigs(): Partial<RunConfig>[] {
  const present = new Set(listNetworks().filter((n) => n.present || n.source.startsWith('npm')).map((n) => n.name));
  const trained = ['vgg19', 'vgg16', 'inception_v3', 'mobilenet_v2'].filter((n) => present.has(n));
  const config = (network: string, weights: string) => ({ network, weights, contentLayers: ['content'], styleLayers: ['style'], styleWeight: RECOMMENDED_STYLE_WEIGHT[network] ?? 1e3 });
  return [...trained.map((n) => config(n, 'auto')), config('vgg19', 'random:0')];
}

/** The sweep of notebook 07: `base` (content, style, size, iterations) through every network of networkConfigs. */
export function networksSweep(name: string, base: Partial<RunConfig>): SweepSpec {
  return parseSweepSpec({ name, base, parameters: { net: { values: networkConfigs() } } });
}

/** A run's network as a label: its name, and the weights when random. */
export function networkLabel(r: RunRecord): string {
  const cfg = r.run.config;
  return cfg.weights.startsWith('random:') ? `${cfg.network} ${cfg.weights}` : cfg.network;
}

/** Content and style on the left, one result per network. */
export function networkGrid(ex: Experiment, content: string, style: string): GridOptions {
  return {
    rows: [[content, style, ...ex.records.map((r) => r.image ?? null)]],
    colLabels: ['content', 'style', ...ex.records.map(networkLabel)],
    title: ex.title('Content × style through each network'),
  };
}

/**
 * Each network's style terms relative to their first value, so networks whose losses differ by
 * decades share one axis: colour by network, dash by the layer's depth rank in its style set.
 */
export function networkStyleCurves(ex: Experiment): LineFigure {
  return relativeStyleCurves(ex.records, networkLabel, { title: ex.title('Style terms E_l relative to their first value, per network'), legend: 'network', dash: 'rank' });
}

/** Channel standard deviations of each network's result against the style image, at its style layers. */
export async function networkChannelCharts(ex: Experiment, style: string): Promise<LineFigure[]> {
  const charts: LineFigure[] = [];
  for (const r of ex.records) {
    const cfg = r.run.config;
    const taps = styleTaps(r);
    const net = instantiateNetwork(await loadNetworkSource(cfg, { fetch: false }), { pooling: cfg.pooling });
    let s: Record<string, LayerStats>;
    let x: Record<string, LayerStats>;
    try {
      // The style image as the run used it: resized to the result's size.
      const { width, height } = await sharp(r.image!).metadata();
      s = await imageStats(net, style, { size: [height!, width!] }, taps);
      x = await imageStats(net, r.image!, {}, taps);
    } finally {
      net.dispose();
    }
    const layers = taps.map((layer) => ({ layer, style: s[layer]!.std, result: x[layer]!.std }));
    charts.push(channelStatsChart(layers, { statistic: 'standard deviation', title: `${networkLabel(r)}: channel standard deviations, result vs style image` }));
  }
  return charts;
}
