/**
 * Dense optical flow between two RGB frames on TensorFlow.js, coarse to fine: both frames become
 * luminance Gaussian pyramids, the flow starts at zero on the coarsest level, and each level refines
 * the flow carried up from the one below — by dense Lucas–Kanade or by warped Horn–Schunck. The
 * comparison that chose the default is in docs/video.md.
 *
 * Ruder et al. (2016) use DeepFlow or EpicFlow, computed outside their code; these estimators are far
 * simpler (quadratic data and smoothness terms, no matching), which is enough for the smooth camera
 * motion of the synthetic clips and for small motion in real clips, and not for large displacements of
 * small objects. No gradients flow through them.
 */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';
import { HORN_SCHUNCK_DEFAULTS, hornSchunckLevel, type HornSchunckOptions } from './flow-horn-schunck';
import { LUCAS_KANADE_DEFAULTS, lucasKanadeLevel, type LucasKanadeOptions } from './flow-lucas-kanade';
import { blur, gaussianPyramid, luminance, upsampleFlow } from './pyramid';

export const FLOW_METHODS = ['horn-schunck', 'lucas-kanade'] as const;
export type FlowMethod = (typeof FLOW_METHODS)[number];

export interface FlowOptions {
  method: FlowMethod;
  /** Pyramid levels at most, the full-size frame included. */
  levels: number;
  /** The coarsest level's shorter side is at least this many pixels. */
  minSide: number;
  hornSchunck: HornSchunckOptions;
  lucasKanade: LucasKanadeOptions;
}

export const FLOW_DEFAULTS: FlowOptions = {
  method: 'horn-schunck',
  levels: 5,
  minSide: 12,
  hornSchunck: HORN_SCHUNCK_DEFAULTS,
  lucasKanade: LUCAS_KANADE_DEFAULTS,
};

export interface FlowSettings {
  method?: FlowMethod;
  levels?: number;
  minSide?: number;
  hornSchunck?: Partial<HornSchunckOptions>;
  lucasKanade?: Partial<LucasKanadeOptions>;
}

/** The defaults with `settings` over them, checked. */
export function resolveFlowOptions(settings: FlowSettings = {}): FlowOptions {
  const opts: FlowOptions = {
    method: settings.method ?? FLOW_DEFAULTS.method,
    levels: settings.levels ?? FLOW_DEFAULTS.levels,
    minSide: settings.minSide ?? FLOW_DEFAULTS.minSide,
    hornSchunck: { ...FLOW_DEFAULTS.hornSchunck, ...settings.hornSchunck },
    lucasKanade: { ...FLOW_DEFAULTS.lucasKanade, ...settings.lucasKanade },
  };
  if (!(FLOW_METHODS as readonly string[]).includes(opts.method)) {
    throw new NstError(`unknown optical-flow method '${opts.method}'`, `allowed: ${FLOW_METHODS.join(', ')}`);
  }
  if (!Number.isInteger(opts.levels) || opts.levels < 1) throw new NstError(`flow levels must be a whole number ≥ 1 (got ${opts.levels})`);
  if (!Number.isInteger(opts.minSide) || opts.minSide < 4) throw new NstError(`flow minSide must be a whole number ≥ 4 (got ${opts.minSide})`);
  return opts;
}

/**
 * The flow from frame `a` to frame `b` (RGB 0..255, [1,H,W,3], same size): a(p) ≈ b(p + w(p));
 * [1,H,W,2] in pixels. Backward-warping b by it brings b into a's grid (see warp.ts).
 */
export function estimateFlow(a: tf.Tensor4D, b: tf.Tensor4D, settings: FlowSettings = {}): tf.Tensor4D {
  const opts = resolveFlowOptions(settings);
  if (!tf.util.arraysEqual(a.shape, b.shape) || a.shape[3] !== 3) {
    throw new NstError(`optical flow needs two RGB frames of one size (got [${a.shape.join(',')}] and [${b.shape.join(',')}])`, 'resize the frames to one size first');
  }
  // Pre-smoothing the finest level too damps noise and JPEG blocks that the linearisation would chase.
  const pa = tf.tidy(() => gaussianPyramid(blur(luminance(a)), opts.levels, opts.minSide));
  const pb = tf.tidy(() => gaussianPyramid(blur(luminance(b)), opts.levels, opts.minSide));
  const [, ch, cw] = pa[pa.length - 1]!.shape;
  let flow: tf.Tensor4D = tf.zeros([1, ch, cw, 2]);
  for (let level = pa.length - 1; level >= 0; level--) {
    const [, h, w] = pa[level]!.shape;
    if (flow.shape[1] !== h || flow.shape[2] !== w) {
      const up = upsampleFlow(flow, [h, w]);
      flow.dispose();
      flow = up;
    }
    const refined =
      opts.method === 'lucas-kanade'
        ? lucasKanadeLevel(pa[level]!, pb[level]!, flow, opts.lucasKanade)
        : hornSchunckLevel(pa[level]!, pb[level]!, flow, opts.hornSchunck);
    flow.dispose();
    flow = refined;
  }
  tf.dispose([...pa, ...pb]);
  return flow;
}

/** Both directions between two frames: forward a → b and backward b → a. */
export function bidirectionalFlow(a: tf.Tensor4D, b: tf.Tensor4D, settings: FlowSettings = {}): { forward: tf.Tensor4D; backward: tf.Tensor4D } {
  return { forward: estimateFlow(a, b, settings), backward: estimateFlow(b, a, settings) };
}

/** Flows between consecutive frames k and k+1 of a clip: forward k → k+1, backward k+1 → k. */
export interface ClipFlows {
  readonly forward: readonly tf.Tensor4D[];
  readonly backward: readonly tf.Tensor4D[];
}

/** Both flows between every pair of consecutive frames; owned, dispose() frees them. */
export function clipFlows(frames: readonly tf.Tensor4D[], settings: FlowSettings = {}): ClipFlows & { dispose(): void } {
  const pairs = frames.slice(1).map((next, k) => bidirectionalFlow(frames[k]!, next, settings));
  const forward = pairs.map((p) => p.forward);
  const backward = pairs.map((p) => p.backward);
  return { forward, backward, dispose: () => tf.dispose([...forward, ...backward]) };
}
