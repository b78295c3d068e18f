/**
 * The VGG-19 layer table (Simonyan & Zisserman 2014) as the Gatys papers name it.
 *
 * Paper names (`conv4_2`) mean the ReLU outputs, as in Gatys et al. 2016 and the Keras layers
 * (`block4_conv2`, whose activation is built in). `pool1`…`pool5` are the pooling outputs.
 */
import { NstError } from '../errors';

export interface ConvSpec {
  kind: 'conv';
  /** Paper name, e.g. `conv4_2`. */
  name: string;
  /** Keras name, e.g. `block4_conv2`. */
  keras: string;
  inChannels: number;
  outChannels: number;
}

export interface PoolSpec {
  kind: 'pool';
  name: string;
  keras: string;
}

export type LayerSpec = ConvSpec | PoolSpec;

const BLOCKS: ReadonlyArray<readonly [number, number, number]> = [
  // [block, convolutions, output channels]
  [1, 2, 64],
  [2, 2, 128],
  [3, 4, 256],
  [4, 4, 512],
  [5, 4, 512],
];

function buildTable(): LayerSpec[] {
  const layers: LayerSpec[] = [];
  let channels = 3;
  for (const [block, convs, out] of BLOCKS) {
    for (let i = 1; i <= convs; i++) {
      layers.push({ kind: 'conv', name: `conv${block}_${i}`, keras: `block${block}_conv${i}`, inChannels: channels, outChannels: out });
      channels = out;
    }
    layers.push({ kind: 'pool', name: `pool${block}`, keras: `block${block}_pool` });
  }
  return layers;
}

/** All 21 layers in order: 16 convolutions and 5 pools. */
export const VGG19_LAYERS: readonly LayerSpec[] = Object.freeze(buildTable());
export const VGG19_CONVS: readonly ConvSpec[] = VGG19_LAYERS.filter((l): l is ConvSpec => l.kind === 'conv');
export const VGG19_TAP_NAMES: readonly string[] = VGG19_LAYERS.map((l) => l.name);

const BY_NAME = new Map<string, number>();
VGG19_LAYERS.forEach((l, i) => {
  BY_NAME.set(l.name, i);
  BY_NAME.set(l.keras, i);
});

/** Index of a layer given by paper or Keras name; an unknown name lists the valid ones. */
export function layerIndex(name: string): number {
  const i = BY_NAME.get(name);
  if (i === undefined) {
    throw new NstError(
      `unknown VGG-19 layer '${name}'`,
      `valid layers: ${VGG19_TAP_NAMES.join(', ')} (or the Keras names block1_conv1…block5_pool)`,
    );
  }
  return i;
}

/** The paper name for a paper or Keras layer name. */
export function paperName(name: string): string {
  return VGG19_LAYERS[layerIndex(name)]!.name;
}

/** Named layer sets used by the papers (Gatys et al. 2015, 2016). */
export const LAYER_PRESETS: Readonly<Record<string, readonly string[]>> = {
  gatys2016_style: ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'],
  gatys2016_content: ['conv4_2'],
  gatys2015_texture: ['conv1_1', 'pool1', 'pool2', 'pool3', 'pool4'],
};

/**
 * The cumulative style layer sets of Gatys et al. 2016 fig. 3 / the texture paper's rows:
 * [conv1_1], [conv1_1, conv2_1], …, [conv1_1 … conv5_1].
 */
export function cumulativeLayerSets(layers: readonly string[] = LAYER_PRESETS.gatys2016_style!): string[][] {
  return layers.map((_, i) => layers.slice(0, i + 1));
}
