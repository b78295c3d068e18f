/**
 * Huang & Belongie 2017, the AdaIN paper's loss used as an image-optimisation objective: the paper
 * trains a decoder with it; here the image itself is optimised, so the optimizer, iterations, size and
 * initialisation are assumed, and the content target is the content image's relu4_1 rather than the
 * AdaIN output t.
 */
import { sourced as v, type Paper } from './paper';

const TRAIN = 'xunhuang1995/AdaIN-style train.lua (29c6b81)';
const ASSUMED = 'assumed: the paper trains a decoder (Adam); for optimising an image, the Gatys default';

export const HUANG_2017: Paper = {
  id: 'huang2017',
  title: 'Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization',
  citation: 'Huang & Belongie, ICCV 2017',
  code: 'xunhuang1995/AdaIN-style (Lua/Torch: train.lua, lib/StyleINLossModule.lua, lib/ContentLossModule.lua)',
  paper: {
    styleLoss: v('mean-std-l2', '§6.2, eq. 13: Σ_i ‖μ(φ_i(g(t))) − μ(φ_i(s))‖₂ + ‖σ(φ_i(g(t))) − σ(φ_i(s))‖₂'),
    styleLayers: v(['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1'], '§6.2: relu1_1, relu2_1, relu3_1, relu4_1 with equal weights'),
    styleLayerWeighting: v('sum', '§6.2, eq. 13: a plain sum over the layers'),
    contentLayers: v(['conv4_1'], '§6.2, eq. 12: the content loss at relu4_1, the encoder output (its target there is the AdaIN output t)'),
    normalization: v('johnson', 'assumed: eq. 12 is the unsquared Euclidean distance, which no content reduction here is; the mean squared error, as the code'),
    contentWeight: v(1, 'eq. 11: L = L_c + λ L_s'),
    styleWeight: v(1e-2, `eq. 11: λ; assumed equal to the code's (${TRAIN} L45: styleWeight 1e-2)`),
    pooling: v('max', 'the normalised VGG-19 of the code keeps max pooling (train.lua mirrors its MaxPooling layers in the decoder; models/vgg_normalised.t7)'),
    optimizer: v('lbfgs', ASSUMED),
    iterations: v(500, ASSUMED),
    init: v('noise', ASSUMED),
    imageSize: v(512, `assumed: the code resizes training images to 512 before 256-pixel crops (${TRAIN} L28–29)`),
  },
  codeDiffers: {
    styleLoss: v('mean-std', 'xunhuang1995/AdaIN-style lib/StyleINLossModule.lua L15–25: nn.MSECriterion with sizeAverage = false on means and on std = √(mean of squares + 1e-6): Σ(Δμ)² + Σ(Δσ)²'),
    styleLayerWeights: v([128, 256, 512, 1024], 'lib/StyleINLossModule.lua L22–25: its sums of squares are 2N_l × mean-std\'s mean over 2N_l entries (N_l = 64, 128, 256, 512)'),
    styleLayers: v(['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1'], `${TRAIN} L43: targetStyleLayers relu1_1,relu2_1,relu3_1,relu4_1`),
    contentLayers: v(['conv4_1'], `${TRAIN} L42: targetContentLayer relu4_1`),
    normalization: v('johnson', 'xunhuang1995/AdaIN-style lib/ContentLossModule.lua L12: nn.MSECriterion, the mean squared error'),
    contentWeight: v(1, `${TRAIN} L46: contentWeight 1`),
    styleWeight: v(1e-2, `${TRAIN} L45: styleWeight 1e-2`),
  },
  notes: [
    'taps: after the ReLU (relu1_1 … relu4_1)',
    'the code computes σ with ε = 1e-6 inside the root of the mean of squares; mean-std uses √(var + 1e-5)',
    'the paper\'s content target is t = AdaIN(f(c), f(s)), which needs the trained encoder–decoder; here it is the content image\'s relu4_1',
  ],
};
