/** A config bound to the network that runs it (kept apart from taps-config, which config.ts imports). */
import { DEFAULT_CONFIG, type RunConfig } from '../config';
import type { FeatureNetwork } from './network';
import { RECOMMENDED_STYLE_WEIGHT } from './presets';
import { bindLayers } from './taps-config';

/**
 * The config a network runs: its layers bound (bindLayers), and, when `network: auto` fell back from
 * VGG-19 to another network while β is still VGG-19's default, that network's recommended β — the
 * default was meant for VGG-19. Notes say what was changed or what to consider.
 */
export function bindNetwork(cfg: RunConfig, net: FeatureNetwork): { config: RunConfig; notes: string[] } {
  const config = bindLayers(cfg, net);
  const recommended = RECOMMENDED_STYLE_WEIGHT[net.name];
  if (recommended === undefined || cfg.styleWeight !== DEFAULT_CONFIG.styleWeight) return { config, notes: [] };
  if (cfg.network === 'auto') {
    return { config: { ...config, styleWeight: recommended }, notes: [`styleWeight ${recommended}: ${net.name}'s recommended β (the default ${DEFAULT_CONFIG.styleWeight} is VGG-19's); give --style-weight to choose another`] };
  }
  return { config, notes: [`β = ${DEFAULT_CONFIG.styleWeight} is VGG-19's balance; ${net.name}'s recommended β is ${recommended} (docs/networks.md)`] };
}
