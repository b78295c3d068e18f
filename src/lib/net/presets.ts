/**
 * Layer-set presets of the trained non-VGG networks. Each network offers `style`, `content` and
 * `texture` (so `auto` can switch networks under the default config), chosen by the same rule as
 * Gatys et al.'s VGG-19 sets: style from the first nonlinearity of each resolution up to a total stride
 * of 8–16 (VGG: conv1_1 … conv5_1), content one mid-depth map at stride 8 (VGG: conv4_2). All taps are
 * after a ReLU or a merge of ReLU branches, as Gatys taps VGG after its ReLUs. The comparison that
 * backs them is notebook 07-networks.
 */
export const NETWORK_PRESETS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  // InceptionV3 (Keras): activation_1/3 at stride 2 (32 and 64 filters), activation_5 at stride 4
  // (192), mixed0 and mixed2 at stride 8 (256 and 288); content mixed1, between the two (288).
  inception_v3: {
    style: ['activation_1', 'activation_3', 'activation_5', 'mixed0', 'mixed2'],
    content: ['mixed1'],
    texture: ['activation_1', 'activation_3', 'activation_5', 'mixed0', 'mixed2'],
  },
  // MobileNetV2 (Keras): the expansion ReLUs open each resolution: Conv1_relu and block_1 at stride 2,
  // block_3 at 4, block_6 at 8, block_13 at 16; content block_5_expand_relu, the last map at stride 8
  // before the next downsampling block.
  mobilenet_v2: {
    style: ['Conv1_relu', 'block_1_expand_relu', 'block_3_expand_relu', 'block_6_expand_relu'],
    content: ['block_5_expand_relu'],
    texture: ['Conv1_relu', 'block_1_expand_relu', 'block_3_expand_relu', 'block_6_expand_relu'],
  },
};

/**
 * β (`styleWeight`) that balances each network's style and content terms at α = 1 under the paper's
 * normalisation, as 1e3 does for VGG-19: these networks' BatchNorm-scaled activations are far smaller
 * than VGG's, and E_l grows with the fourth power of the activations, the content loss with the second.
 * Measured at 128 px, 30 L-BFGS iterations from noise (Tübingen, Starry Night; docs/networks.md): at
 * β = 1e3 the content term dominates and the deeper style terms fall 1–5×; InceptionV3's mixed2 falls
 * 9.9× at 1e5, 17× at 3e5 (content 2.4×), 28× at 1e6 (content 1.6×), and at 1e7 the content no longer
 * falls. MobileNetV2 at 1e5: style 7–44×, content 3.9×.
 */
export const RECOMMENDED_STYLE_WEIGHT: Readonly<Record<string, number>> = {
  inception_v3: 3e5,
  mobilenet_v2: 1e5,
};
