/** Gatys, Ecker & Bethge 2015, texture synthesis: the Gram-matrix texture model alone, no content. */
import { sourced as v, type Paper } from './paper';

export const GATYS_2015: Paper = {
  id: 'gatys2015',
  title: 'Texture Synthesis Using Convolutional Neural Networks',
  citation: 'Gatys, Ecker & Bethge, NeurIPS 2015 (arXiv:1505.07376)',
  code: 'leongatys/DeepTextures (Example.ipynb, DeepImageSynthesis/ImageSyn.py)',
  paper: {
    contentLayers: v([], 'texture synthesis: only the texture model is matched, there is no content term'),
    contentWeight: v(0, 'texture synthesis: no content term'),
    styleLayers: v(['conv1_1', 'pool1', 'pool2', 'pool3', 'pool4'], 'fig. 2: the full model matches conv1_1 and pool1 … pool4'),
    normalization: v('gatys2016', 'eq. 4: E_l = Σ(G − Ĝ)²/(4 N_l² M_l²)'),
    styleLayerWeighting: v('mean', 'assumed: eq. 5 leaves w_l open; equal weights, 1/|L|'),
    styleWeight: v(1, 'eq. 5: L = Σ_l w_l E_l has no β'),
    pooling: v('avg', '§2: max pooling replaced by average pooling; code: Models/VGG_ave_pool_deploy.prototxt'),
    init: v('noise', 'synthesis starts from white noise; code: DeepImageSynthesis/ImageSyn.py L20–21, np.random.randn'),
    optimizer: v('lbfgs', 'L-BFGS; code: DeepImageSynthesis/ImageSyn.py, scipy minimize(method=\'L-BFGS-B\')'),
    imageSize: v(256, 'assumed: the textures the paper shows are 256 × 256'),
    iterations: v(500, 'assumed: not stated'),
  },
  notes: [
    'taps: conv1_1 after its ReLU; pool1 … pool4 are the (average-)pooling outputs',
    'the paper rescales VGG-19 so that each filter\'s mean activation is 1 (§2; code: Models/vgg_normalised.caffemodel): use normalised weights (nst models normalize)',
    'the code bounds the pixels (L-BFGS-B); L-BFGS here is unbounded',
  ],
};
