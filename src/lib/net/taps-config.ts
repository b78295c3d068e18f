/**
 * Layer lists in a run config are names of the chosen network's taps or presets (`style`, `content`,
 * `texture`, `gatys2016_style`, …). They are checked as early as the network allows: in resolveConfig
 * for VGG (whose tables are static), else when the session opens the network, before any compute.
 */
import type { RunConfig } from '../config';
import { NstError } from '../errors';
import { canonicalStyleLoss } from '../objectives/style-loss-spec';
import { resolveTaps, type FeatureNetwork } from './network';
import { LAYER_PRESETS, paperName, VGG_ARCHS, type VggArch } from './vgg19';

/** Presets that every network defines, so that `auto` may choose any network for them. */
export const NEUTRAL_PRESETS: readonly string[] = ['style', 'content', 'texture'];

type LayerKey = 'contentLayers' | 'styleLayers';
const OPTION: Record<LayerKey, string> = { contentLayers: '--content-layers', styleLayers: '--style-layers' };

type NetworkKeys = Pick<RunConfig, 'network' | 'weights' | LayerKey>;

/** The VGG architecture a config runs on when that is known without loading anything. */
export function staticVggArch(cfg: NetworkKeys): VggArch | null {
  if ((VGG_ARCHS as readonly string[]).includes(cfg.network)) return cfg.network as VggArch;
  // `weights` are the VGG adapter's option: explicit ones mean VGG-19; so do VGG-19 tap names, on
  // which `auto` never switches networks (registry.ts).
  if (cfg.network === 'auto' && (cfg.weights !== 'auto' || !usesNeutralLayers(cfg))) return 'vgg19';
  return null;
}

/** True when layer names can only be checked once the network is open. */
export function deferredLayers(cfg: NetworkKeys): boolean {
  return staticVggArch(cfg) === null;
}

/** True when every layer list names only presets that every network has. */
export function usesNeutralLayers(cfg: Pick<RunConfig, LayerKey>): boolean {
  return [...cfg.contentLayers, ...cfg.styleLayers].every((l) => NEUTRAL_PRESETS.includes(l));
}

function expand(list: readonly string[], presets: Readonly<Record<string, readonly string[]>>): string[] {
  return list.flatMap((l) => (presets[l] ? [...presets[l]!] : [l]));
}

/** resolveConfig's check: presets expanded and names made canonical for VGG; others left for the session. */
export function expandLayers(cfg: NetworkKeys, list: readonly string[], key: LayerKey): string[] {
  const arch = staticVggArch(cfg);
  if (!arch) return [...list];
  const names = expand(list, LAYER_PRESETS).map((name) => {
    try {
      return paperName(name, arch);
    } catch (e) {
      if (e instanceof NstError) throw new NstError(`${OPTION[key]} (${key}): ${e.message}`, e.hint);
      throw e;
    }
  });
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new NstError(`${OPTION[key]} (${key}): layer '${dup}' is listed twice`, 'list each layer once');
  return names;
}

/** The config's layer lists on an open network: presets expanded, names canonical, weights counted, per-layer style losses checked. */
export function bindLayers<C extends Pick<RunConfig, LayerKey | 'styleLayerWeights' | 'styleLoss'>>(cfg: C, net: FeatureNetwork): C {
  const contentLayers = resolveTaps(net, expand(cfg.contentLayers, net.presets), OPTION.contentLayers);
  const styleLayers = resolveTaps(net, expand(cfg.styleLayers, net.presets), OPTION.styleLayers);
  if (cfg.styleLayerWeights.length > 0 && cfg.styleLayerWeights.length !== styleLayers.length) {
    throw new NstError(
      `--style-layer-weights (styleLayerWeights): ${cfg.styleLayerWeights.length} weights for ${styleLayers.length} style layers`,
      `one weight per layer of ${styleLayers.join(',')}`,
    );
  }
  return { ...cfg, contentLayers, styleLayers, styleLoss: canonicalStyleLoss(cfg.styleLoss, styleLayers) };
}

