/** A VGG-19 feature network for analysis outside a run (statistics of style images and results). */
import type { Pooling } from '../config';
import { createVgg19, type FeatureNet } from '../net/vgg';
import { loadWeights } from '../net/weights/load';

/** The network a notebook's runs use: the same weights spec (never downloading) and pooling. Dispose it. */
export async function openFeatureNet(weights: string, pooling: Pooling): Promise<FeatureNet> {
  return createVgg19(await loadWeights(weights, { fetch: false }), { pooling });
}
