/** VGG-19 weights as plain host arrays, independent of the file format they came from. */

export interface ConvWeights {
  /** Row-major [kh, kw, in, out] (TensorFlow's HWIO layout, as in the Keras files). */
  kernel: Float32Array;
  kernelShape: [number, number, number, number];
  bias: Float32Array;
}

export type WeightsFormat = 'keras-h5' | 'tfjs-layers' | 'random';

export interface VggWeights {
  /** By Keras layer name (`block1_conv1`); only the convolutions the file holds. */
  layers: Map<string, ConvWeights>;
  format: WeightsFormat;
  /** What the user asked for: a path, or `random:SEED`. */
  source: string;
  /** sha256 of the file (for a directory: of model.json and shards in order); absent for random weights. */
  sha256?: string;
  /** True for `random:SEED` weights: every output says so. */
  random: boolean;
  /** Free-form facts shown by `nst models inspect` (Keras version, dataset naming). */
  info: Record<string, string>;
}
