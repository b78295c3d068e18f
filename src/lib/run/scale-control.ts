/**
 * Scale control (Gatys et al. 2017 §6): the fine scale of one style (its brush strokes) with the
 * coarse scale of another (its large forms). The paper makes a new style image first — texture
 * synthesis that matches the fine style's statistics at the low layers only, started from the coarse
 * style image, so that its large structure stays while its small-scale texture becomes the fine
 * style's — and then runs the standard transfer with that image. Here the first step is an ordinary
 * texture-synthesis run (so it is cached, resumable and logged like any run); the second is `run()`
 * with `style: [result.finalImage]`.
 */
import type { RunConfig } from '../config';
import { NstError } from '../errors';
import { run } from './run';
import type { RunOptions, RunResult } from './types';

/** The low layers of VGG whose statistics carry the fine scale (the paper's conv1_1 and conv2_1). */
export const FINE_SCALE_LAYERS = ['conv1_1', 'conv2_1'] as const;

export interface ScaleControl {
  /** The style whose fine scale (low-layer statistics) the new style image takes. */
  fineStyle: string;
  /** The style whose coarse scale the new style image keeps: the synthesis starts from it. */
  coarseStyle: string;
}

/**
 * The new style image of scale control: a texture-synthesis run matching `fineStyle` at the low
 * layers (`styleLayers`, default FINE_SCALE_LAYERS), initialised with `coarseStyle`; its final.png is
 * the style image for the standard transfer. `config` gives the rest (size, iterations, network, out).
 */
export function scaleControlledStyle(control: ScaleControl, config: Partial<RunConfig> = {}, options: RunOptions = {}): Promise<RunResult> {
  if (config.content) throw new NstError('scale control: the new style image is a texture synthesis', 'leave content out of its config; give it to the transfer that uses the new style image');
  return run(
    {
      styleLayers: [...FINE_SCALE_LAYERS],
      ...config,
      content: '',
      contentLayers: [],
      style: [control.fineStyle],
      init: control.coarseStyle,
    },
    options,
  );
}
