/**
 * The VGG layer tables (Simonyan & Zisserman 2014, configurations E = VGG-19 and D = VGG-16) as the
 * Gatys papers name them.
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

export const VGG_ARCHS = ['vgg19', 'vgg16'] as const;
export type VggArch = (typeof VGG_ARCHS)[number];

/** Convolutions per block; the output channels are 64, 128, 256, 512, 512 in both. */
const CONVS_PER_BLOCK: Readonly<Record<VggArch, readonly number[]>> = { vgg19: [2, 2, 4, 4, 4], vgg16: [2, 2, 3, 3, 3] };
const BLOCK_CHANNELS = [64, 128, 256, 512, 512] as const;

function buildTable(arch: VggArch): LayerSpec[] {
  const layers: LayerSpec[] = [];
  let channels = 3;
  for (const [b, convs] of CONVS_PER_BLOCK[arch].entries()) {
    const block = b + 1;
    const out = BLOCK_CHANNELS[b]!;
    for (let i = 1; i <= convs; i++) {
      layers.push({ kind: 'conv', name: `conv${block}_${i}`, keras: `block${block}_conv${i}`, inChannels: channels, outChannels: out });
      channels = out;
    }
    layers.push({ kind: 'pool', name: `pool${block}`, keras: `block${block}_pool` });
  }
  return layers;
}

/** All 21 layers in order: 16 convolutions and 5 pools. */
export const VGG19_LAYERS: readonly LayerSpec[] = Object.freeze(buildTable('vgg19'));
/** VGG-16's 18 layers: 13 convolutions and 5 pools; each shares its name and shape with VGG-19's. */
export const VGG16_LAYERS: readonly LayerSpec[] = Object.freeze(buildTable('vgg16'));
export const VGG_LAYERS: Readonly<Record<VggArch, readonly LayerSpec[]>> = { vgg19: VGG19_LAYERS, vgg16: VGG16_LAYERS };
export const VGG19_CONVS: readonly ConvSpec[] = VGG19_LAYERS.filter((l): l is ConvSpec => l.kind === 'conv');
export const VGG19_TAP_NAMES: readonly string[] = VGG19_LAYERS.map((l) => l.name);

function indexByName(table: readonly LayerSpec[]): Map<string, number> {
  const byName = new Map<string, number>();
  table.forEach((l, i) => {
    byName.set(l.name, i);
    byName.set(l.keras, i);
  });
  return byName;
}
const BY_NAME: Readonly<Record<VggArch, Map<string, number>>> = { vgg19: indexByName(VGG19_LAYERS), vgg16: indexByName(VGG16_LAYERS) };
const LABEL: Readonly<Record<VggArch, string>> = { vgg19: 'VGG-19', vgg16: 'VGG-16' };

/** Index of a layer given by paper or Keras name; an unknown name lists the valid ones. */
export function layerIndex(name: string, arch: VggArch = 'vgg19'): number {
  const i = BY_NAME[arch].get(name);
  if (i === undefined) {
    const table = VGG_LAYERS[arch];
    throw new NstError(
      `unknown ${LABEL[arch]} layer '${name}'`,
      `valid layers: ${table.map((l) => l.name).join(', ')} (or the Keras names block1_conv1…block5_pool)`,
    );
  }
  return i;
}

/** The paper name for a paper or Keras layer name. */
export function paperName(name: string, arch: VggArch = 'vgg19'): string {
  return VGG_LAYERS[arch][layerIndex(name, arch)]!.name;
}

/**
 * Named layer sets used by the papers (Gatys et al. 2015, 2016; both taps after the ReLU), the same on
 * VGG-19 and VGG-16. `style`, `content` and `texture` are the names every network offers.
 */
export const LAYER_PRESETS: Readonly<Record<string, readonly string[]>> = {
  gatys2016_style: ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'],
  gatys2016_content: ['conv4_2'],
  gatys2015_texture: ['conv1_1', 'pool1', 'pool2', 'pool3', 'pool4'],
  style: ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'],
  content: ['conv4_2'],
  texture: ['conv1_1', 'pool1', 'pool2', 'pool3', 'pool4'],
};

/**
 * The cumulative style layer sets of Gatys et al. 2016 fig. 3 / the texture paper's rows:
 * [conv1_1], [conv1_1, conv2_1], …, [conv1_1 … conv5_1].
 */
export function cumulativeLayerSets(layers: readonly string[] = LAYER_PRESETS.gatys2016_style!): string[][] {
  return layers.map((_, i) => layers.slice(0, i + 1));
}
