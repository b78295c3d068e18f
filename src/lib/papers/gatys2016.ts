/** Gatys, Ecker & Bethge 2016, style transfer; the code is the authors' PyTorch notebook. */
import { sourced as v, type Paper } from './paper';

const NOTEBOOK = 'NeuralStyleTransfer.ipynb';

export const GATYS_2016: Paper = {
  id: 'gatys2016',
  title: 'Image Style Transfer Using Convolutional Neural Networks',
  citation: 'Gatys, Ecker & Bethge, CVPR 2016',
  code: `leongatys/PytorchNeuralStyleTransfer ${NOTEBOOK} (cells by execution count)`,
  paper: {
    contentLayers: v(['conv4_2'], '§3: the content representation is matched on conv4_2'),
    styleLayers: v(['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'], '§3: the style representation on conv1_1, conv2_1, conv3_1, conv4_1, conv5_1'),
    normalization: v('gatys2016', 'eq. 1: ½Σ(F − P)²; eq. 4: E_l = Σ(G − A)²/(4 N_l² M_l²)'),
    styleLayerWeighting: v('mean', '§3: w_l = 1/5 on those layers, 0 elsewhere'),
    contentWeight: v(1, '§3: α/β of about 10⁻³ for the Neckarfront examples (the exact ratio varies with the style); α = 1'),
    styleWeight: v(1e3, '§3: α/β = 10⁻³ with α = 1'),
    pooling: v('avg', '§2: average pooling instead of max pooling gives slightly more appealing results'),
    init: v('noise', '§2.3: the synthesis starts from a white-noise image'),
    optimizer: v('lbfgs', 'the paper: L-BFGS, found to work best for image synthesis'),
    imageSize: v(512, '§4: synthesis times are given for 512 × 512 images'),
    iterations: v(500, 'assumed: not stated in the paper; the authors\' code runs 500'),
  },
  codeDiffers: {
    normalization: v('gatys-code', `${NOTEBOOK} cell 3: GramMatrix divides by h·w, GramMSELoss is nn.MSELoss; cell 8: nn.MSELoss for content`),
    styleLayerWeighting: v('normalization', `${NOTEBOOK} cell 8: style_weights = [1e3/n**2 for n in [64,128,256,512,512]] (gatys-code's w_l = 1e3/N_l²)`),
    styleWeight: v(1, `${NOTEBOOK} cell 8: no β besides the layer weights`),
    contentWeight: v(1, `${NOTEBOOK} cell 8: content_weights = [1e0]`),
    init: v('content', `${NOTEBOOK} cell 6: opt_img = content_image.data.clone() (the random init is commented out)`),
    pooling: v('max', `${NOTEBOOK} cells 2 and 5: VGG(pool='max') by default, vgg = VGG()`),
    lineSearch: v('none', `${NOTEBOOK} cell 9: optim.LBFGS([opt_img]) with PyTorch's defaults, no line search (line_search_fn=None)`),
    historySize: v(100, `${NOTEBOOK} cell 9: PyTorch's LBFGS default history_size=100`),
    iterations: v(500, `${NOTEBOOK} cell 9: max_iter = 500, counted there in closure evaluations, here in optimizer iterations`),
    imageSize: v(512, `${NOTEBOOK} cell 4: img_size = 512 (transforms.Scale sets the shorter side; imageSize is the longer one)`),
  },
  notes: [
    'taps: after the ReLU in both (the paper\'s conv4_2 is relu4_2; the code\'s r42 is F.relu(conv4_2))',
    'both use VGG-19 rescaled to unit mean activations (§2; the code\'s vgg_conv.pth): use normalised weights (nst models normalize)',
    'the code\'s second, high-resolution pass (img_size_hr = 800, started from the upsampled result, as in Gatys et al. 2017) is not part of the preset',
  ],
};
