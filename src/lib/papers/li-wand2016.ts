/**
 * Li & Wand 2016, MRF style transfer. The paper's values as pystiche_papers reads them (its
 * hyper_parameters(impl_params=False)), the code's from chuanli11/CNNMRF.
 */
import { sourced as v, type Paper } from './paper';

const CNNMRF = 'chuanli11/CNNMRF cnnmrf.lua (3f42a4b)';
const PYSTICHE = 'pystiche_papers li_wand_2016/_utils.py hyper_parameters(impl_params=False)';

export const LI_WAND_2016: Paper = {
  id: 'li_wand2016',
  title: 'Combining Markov Random Fields and Convolutional Neural Networks for Image Synthesis',
  citation: 'Li & Wand, CVPR 2016',
  code: 'chuanli11/CNNMRF (Lua/Torch: cnnmrf.lua, mylib/mrf.lua, mylib/content.lua)',
  paper: {
    styleLoss: v('mrf', 'eq. 2–3: E_s, nearest patches by normalised cross-correlation'),
    styleLayers: v(['conv3_1', 'conv4_1'], `${PYSTICHE}: relu3_1, relu4_1`),
    styleLayerWeighting: v('sum', `${PYSTICHE}: layer_weights "sum"`),
    styleWeight: v(1, 'eq. 1: E_s has no weight of its own'),
    mrfPatchSize: v(3, `${PYSTICHE}: patch_size 3`),
    mrfStride: v(1, `${PYSTICHE}: stride 1`),
    contentLayers: v(['conv4_2'], `${PYSTICHE}: relu4_2`),
    normalization: v('gatys2016', 'eq. 4: E_c = ‖Φ(x) − Φ(x_c)‖², a sum of squares; gatys2016 is the ½-sum, hence α₁ × 2'),
    contentWeight: v(2, `eq. 1: α₁ = 1 (${PYSTICHE}: score_weight 1e0), × 2 for the ½ of half-sum`),
    tvWeight: v(2e-3, `eq. 1, 5: α₂ = 1e-3 (${PYSTICHE}: regularization score_weight 1e-3), × 2 since tv here is ½ Σ of squared differences`),
    imageSize: v(384, `${PYSTICHE}: image_pyramid max_edge_size 384`),
    iterations: v(200, `${PYSTICHE}: image_pyramid num_steps 200`),
    init: v('noise', `${PYSTICHE}: starting_point "random"`),
    optimizer: v('lbfgs', 'pystiche_papers li_wand_2016/_utils.py optimizer: LBFGS'),
    pooling: v('max', `assumed: the caffe VGG-19 with its max pooling (${CNNMRF} L47, proto_file VGG_ILSVRC_19_layers_deploy.prototxt)`),
  },
  codeDiffers: {
    styleLayers: v(['conv3_1', 'conv4_1'], `${CNNMRF} L25: mrf_layers {12, 21}, relu3_1 and relu4_1`),
    mrfPatchSize: v(3, `${CNNMRF} L27: mrf_patch_size {3, 3}`),
    styleWeight: v(1e-4, `${CNNMRF} L26: mrf_weight {1e-4, 1e-4}`),
    mrfStride: v(2, `${CNNMRF} L30, L32: target_sample_stride and source_sample_stride {2, 2}`),
    contentLayers: v(['conv4_1'], `${CNNMRF} L34: content_layers {21}, relu4_1 (pystiche_papers: layer relu4_1 when impl_params)`),
    normalization: v('johnson', 'chuanli11/CNNMRF mylib/content.lua L11: nn.MSECriterion, the mean squared error (johnson\'s content reduction)'),
    contentWeight: v(2e1, `${CNNMRF} L35: content_weight 2e1`),
    tvWeight: v(1e-3, `${CNNMRF} L36: tv_weight 1e-3 (assumed to be jcjohnson's TVLoss form, which tv here is)`),
    iterations: v(100, `${CNNMRF} L24: num_iter {100, 100, 100}, per resolution`),
    imageSize: v(384, `${CNNMRF} L19: max_size 384`),
    init: v('content', `${CNNMRF} L17: ini_method 'image', the content image`),
    historySize: v(25, `${CNNMRF} L50: nCorrection 25`),
  },
  notes: [
    'taps: after the ReLU (relu3_1, relu4_1, relu4_2)',
    'not yet: the coarse-to-fine pyramid (the code: num_res 3, cnnmrf.lua L23) and the rotated and scaled copies of the style image (the paper; the code defaults to none)',
    'the code\'s MRF gradient is the residual divided by the number of patches covering each position (mylib/mrf.lua, MRFMM:updateGradInput), scaled by mrf_weight; here it is E_s\'s exact gradient, so style weights compare only roughly',
  ],
};
