/** A feature network for analysis outside a run (statistics of style images and results). */
import { resolveConfig, type Pooling } from '../config';
import type { FeatureNetwork } from '../net/network';
import { instantiateNetwork, loadNetworkSource } from '../net/registry';

/** The network a notebook's runs use: the same network, weights spec (never downloading) and pooling. Dispose it. */
export async function openFeatureNet(weights: string, pooling: Pooling, network = 'vgg19'): Promise<FeatureNetwork> {
  const cfg = resolveConfig({ network, weights, pooling, style: ['-'] });
  return instantiateNetwork(await loadNetworkSource(cfg, { fetch: false }), { pooling });
}
