/**
 * Gatys, Ecker, Bethge, Hertzmann & Shechtman 2017: for now the values of its plain style transfer
 * (no spatial, colour or scale controls), as pystiche_papers reads the authors' NeuralImageSynthesis code.
 */
import { sourced as v, type Paper } from './paper';

const PYSTICHE = 'pystiche_papers gatys_et_al_2017 hyper_parameters (from the authors\' leongatys/NeuralImageSynthesis)';

export const GATYS_2017: Paper = {
  id: 'gatys2017',
  title: 'Controlling Perceptual Factors in Neural Style Transfer',
  citation: 'Gatys, Ecker, Bethge, Hertzmann & Shechtman, CVPR 2017',
  code: 'leongatys/NeuralImageSynthesis (Lua/Torch), read through pystiche/papers pystiche_papers/gatys_et_al_2017',
  paper: {
    contentLayers: v(['conv4_2'], `${PYSTICHE}: content_loss layer relu4_2, score_weight 1`),
    contentWeight: v(1, `${PYSTICHE}: content score_weight 1e0`),
    styleLayers: v(['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'], `${PYSTICHE}: relu1_1 … relu5_1`),
    styleLayerWeighting: v('inverse-square', `${PYSTICHE}: layer weights 1/N_l²`),
    styleWeight: v(1e3, `${PYSTICHE}: style score_weight 1e3`),
    normalization: v('gatys2016', 'pystiche_papers gatys_et_al_2017/_loss.py StyleLoss: the paper\'s style loss has the factor 1/4 of E_l; the content loss is assumed to be eq. 1 of Gatys et al. 2016 (½Σ)'),
    imageSize: v(500, `${PYSTICHE}: image_pyramid edge_sizes (500, 800): the first level only`),
    iterations: v(500, `${PYSTICHE}: image_pyramid num_steps (500, 200): the first level only`),
    optimizer: v('lbfgs', 'pystiche_papers gatys_et_al_2017/_utils.py optimizer: LBFGS'),
    pooling: v('max', 'assumed: pystiche_papers\' encoder is VGG-19 with its max pooling (vgg19_multi_layer_encoder, weights="caffe")'),
  },
  codeDiffers: {
    normalization: v('gatys-code', 'pystiche_papers gatys_et_al_2017/_loss.py StyleLoss, citing NeuralImageSynthesis LossLayers.lua L63 and L75: MSE of G/M without the 1/4; content nn.MSELoss'),
  },
  notes: [
    'taps: after the ReLU (relu4_2 …)',
    'not yet: the coarse-to-fine pass (500 then 800 px, 500 then 200 steps), and the spatial, colour and scale controls',
  ],
};
