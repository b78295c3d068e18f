/**
 * The feature-network adapter (pystiche's MultiLayerEncoder, STYLE.md §13): every network the workbench
 * runs — VGG-19/16 on their fast path, any TensorFlow.js layers model — is seen through this one
 * interface. It names its taps, owns its preprocessing, and runs only as deep as the deepest tap asked
 * for. Sessions, objectives, notebooks and benchmarks hand it RGB images in 0..255 and never touch
 * pixel normalisation themselves.
 */
import type * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';

/** Where a tap sits relative to the layer's nonlinearity (papers differ: Gatys taps after the ReLU). */
export type TapPosition = 'after-activation' | 'before-activation' | 'pooling' | 'merge' | 'other';

export interface TapInfo {
  /** The name runs and configs use (`conv4_2`, `mixed2`, `block_3_expand_relu`). */
  readonly name: string;
  /** Output channels. */
  readonly channels: number;
  /** Total stride from the input: the tap's map is about (H/stride) × (W/stride). */
  readonly stride: number;
  /** Side of the receptive field in input pixels (guides' "inside" propagation erodes by it). */
  readonly receptiveField: number;
  readonly position: TapPosition;
  /** The layer kind that produces it (`Conv2D`, `Activation`, `Concatenate`, `pool`, …). */
  readonly kind: string;
}

/** How the network wants its pixels; recorded in every run's config.json. */
export type Preprocessing =
  /** RGB 0..255 → BGR minus the ImageNet mean (caffe; the VGG weights). */
  | 'caffe'
  /** RGB 0..255 → x/127.5 − 1 (Keras' `tf` mode: Inception, MobileNet). */
  | 'tf';

/** What a network's weights are and where they came from. */
export interface WeightsRecord {
  /** What the user asked for or what `auto` chose: a path, `random:SEED`, `nsfwjs@4.4.0:inception_v3`. */
  readonly source: string;
  readonly format: string;
  /** sha256 of the weights file(s); absent for random weights. */
  readonly sha256?: string;
  readonly random: boolean;
  /** Why `auto` chose what it chose (printed on a run's first lines). */
  readonly reason?: string;
  /** One line for people: what the weights are (training data, quantisation, licence). */
  readonly description?: string;
}

export interface FeatureNetwork {
  /** Registry name: `vgg19`, `vgg16`, `inception_v3`, `mobilenet_v2`, or `layers-model` for a file. */
  readonly name: string;
  /** Every tap in graph order. */
  readonly taps: readonly TapInfo[];
  /** Named layer sets (`style`, `content`, `texture`, and paper-named ones such as `gatys2016_style`). */
  readonly presets: Readonly<Record<string, readonly string[]>>;
  readonly preprocessing: Preprocessing;
  readonly weights: WeightsRecord;
  /** Smallest input side (pixels) for which every tap in `taps` still has a map of at least 1×1. */
  minInputSize(taps: readonly string[]): number;
  /**
   * Multiply-accumulates of the convolutions that features(·, taps) runs forward on a height × width
   * input (the benchmark's FLOP count: forward plus input gradient ≈ 4 × this).
   */
  macs(taps: readonly string[], height: number, width: number): number;
  /**
   * Float32 bytes of the weights: all the network holds, and those the layers up to the deepest of
   * `taps` use (the part the backward pass runs through; the memory estimate counts its copies).
   */
  weightBytes(taps: readonly string[]): { total: number; upToDeepest: number };
  /** The canonical tap name for a name or alias; an unknown name throws NstError listing the taps. */
  resolveTap(name: string, option?: string): string;
  /** RGB 0..255 [1,H,W,3] → the network's input space. */
  preprocess(rgb: tf.Tensor4D): tf.Tensor4D;
  /** Inverse of preprocess (not clipped). */
  deprocess(x: tf.Tensor4D): tf.Tensor4D;
  /**
   * Feature maps at `taps` for an RGB 0..255 image [1,H,W,3], differentiable with respect to the image.
   * Runs only as deep as the deepest tap. The caller owns the results (call inside tf.tidy).
   */
  features(rgb: tf.Tensor4D, taps: readonly string[]): Record<string, tf.Tensor4D>;
  dispose(): void;
}

/** Resolves a list of names against a network's taps, naming the option on failure; duplicates are refused. */
export function resolveTaps(net: Pick<FeatureNetwork, 'resolveTap'>, names: readonly string[], option: string): string[] {
  const resolved = names.map((n) => net.resolveTap(n, option));
  const dup = resolved.find((n, i) => resolved.indexOf(n) !== i);
  if (dup !== undefined) throw new NstError(`${option}: layer '${dup}' is listed twice`, 'list each layer once');
  return resolved;
}

/** The error for a tap name the network lacks, listing what it offers (shortened for big graphs). */
export function unknownTap(network: string, name: string, taps: readonly TapInfo[], option = 'layer'): NstError {
  const names = taps.map((t) => t.name);
  const shown = names.length > 60 ? `${names.slice(0, 60).join(', ')}, … (${names.length} in all; nst models inspect ${network})` : names.join(', ');
  return new NstError(`${option}: ${network} has no layer '${name}'`, `layers of ${network}: ${shown}`);
}
