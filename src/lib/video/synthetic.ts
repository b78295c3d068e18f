/**
 * Synthetic clips with known motion: a virtual camera moves over a still image (pans, rotates, zooms),
 * and because every frame is an exact similarity transform of the same source, the true optical flow
 * between any two frames is known in closed form. They are the ground truth the flow estimators and
 * the temporal-consistency measures are checked against, and the clip a notebook stylises.
 */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';
import { pixelGrid, sampleBilinear } from './warp';

/**
 * Where the camera looks: the frame's centre sits at source pixel (cx, cy); one frame pixel spans
 * `scale` source pixels (a smaller scale zooms in); the frame is turned by `angle` radians
 * (counter-clockwise on screen as y points down, i.e. from +x towards +y).
 */
export interface Pose {
  cx: number;
  cy: number;
  scale: number;
  angle: number;
}

export interface SyntheticClip {
  /** RGB 0..255, [1,h,w,3] each. */
  readonly frames: tf.Tensor4D[];
  /** forward[k]: the true flow from frame k to frame k+1 (frames.length − 1 of them). */
  readonly forward: tf.Tensor4D[];
  /** backward[k]: the true flow from frame k+1 to frame k. */
  readonly backward: tf.Tensor4D[];
  readonly poses: readonly Pose[];
  /** Frees every tensor of the clip. */
  dispose(): void;
}

/** The source positions q(p) = c + scale·R(angle)·(p − p₀) of every frame pixel, p₀ the frame's centre. */
function sourcePositions(pose: Pose, h: number, w: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const grid = pixelGrid(h, w);
    const dx = tf.sub(grid.x, (w - 1) / 2);
    const dy = tf.sub(grid.y, (h - 1) / 2);
    const cos = pose.scale * Math.cos(pose.angle);
    const sin = pose.scale * Math.sin(pose.angle);
    return {
      x: tf.add(tf.sub(tf.mul(dx, cos), tf.mul(dy, sin)), pose.cx),
      y: tf.add(tf.add(tf.mul(dx, sin), tf.mul(dy, cos)), pose.cy),
    };
  });
}

/**
 * The true flow from the frame seen at pose `a` to the frame seen at pose `b`, [1,h,w,2]: each pixel p
 * of frame a shows source point q(p); frame b shows q at p_b = p₀ + R(−angle_b)·(q − c_b)/scale_b, and
 * the flow is p_b − p. Exact everywhere, including where p_b falls outside frame b.
 */
export function poseFlow(a: Pose, b: Pose, [h, w]: readonly [number, number]): tf.Tensor4D {
  return tf.tidy(() => {
    const grid = pixelGrid(h, w);
    const q = sourcePositions(a, h, w);
    const rx = tf.sub(q.x, b.cx);
    const ry = tf.sub(q.y, b.cy);
    const cos = Math.cos(b.angle) / b.scale;
    const sin = Math.sin(b.angle) / b.scale;
    const px = tf.add(tf.add(tf.mul(rx, cos), tf.mul(ry, sin)), (w - 1) / 2);
    const py = tf.add(tf.sub(tf.mul(ry, cos), tf.mul(rx, sin)), (h - 1) / 2);
    return tf.reshape(tf.stack([tf.sub(px, grid.x), tf.sub(py, grid.y)], 2), [1, h, w, 2]);
  });
}

/** The source positions of a frame's four corner pixels, for the bounds check. */
function cornerPositions(pose: Pose, h: number, w: number): [number, number][] {
  const cos = pose.scale * Math.cos(pose.angle);
  const sin = pose.scale * Math.sin(pose.angle);
  return [
    [-(w - 1) / 2, -(h - 1) / 2],
    [(w - 1) / 2, -(h - 1) / 2],
    [-(w - 1) / 2, (h - 1) / 2],
    [(w - 1) / 2, (h - 1) / 2],
  ].map(([dx, dy]) => [pose.cx + dx! * cos - dy! * sin, pose.cy + dx! * sin + dy! * cos]);
}

/**
 * Renders the frames a camera following `poses` sees of `source` (RGB 0..255, [1,H,W,3]), bilinear,
 * with the true flows between consecutive frames. Every frame must lie inside the source: a frame that
 * reached past its edge would show smeared edge pixels that no flow explains.
 */
export function renderClip(source: tf.Tensor4D, poses: readonly Pose[], size: readonly [number, number]): SyntheticClip {
  const [, sh, sw] = source.shape;
  const [h, w] = size;
  if (poses.length === 0) throw new NstError('a synthetic clip needs at least one pose', 'give one pose per frame');
  poses.forEach((pose, k) => {
    const outside = cornerPositions(pose, h, w).find(([x, y]) => x < 0 || x > sw - 1 || y < 0 || y > sh - 1);
    if (outside) {
      throw new NstError(
        `synthetic clip: frame ${k} (centre ${pose.cx.toFixed(1)},${pose.cy.toFixed(1)}, scale ${pose.scale}) reaches source pixel ` +
          `(${outside[0].toFixed(1)}, ${outside[1].toFixed(1)}), outside the ${sw}×${sh} source`,
        'move the camera path inside the image, zoom in (smaller scale), or use a larger source',
      );
    }
  });
  const frames = poses.map((pose) =>
    tf.tidy(() => {
      const q = sourcePositions(pose, h, w);
      return sampleBilinear(source, q.x, q.y);
    }),
  );
  const forward = poses.slice(1).map((next, k) => poseFlow(poses[k]!, next, size));
  const backward = poses.slice(1).map((next, k) => poseFlow(next, poses[k]!, size));
  return {
    frames,
    forward,
    backward,
    poses: poses.map((p) => ({ ...p })),
    dispose: () => tf.dispose([...frames, ...forward, ...backward]),
  };
}

/**
 * The clip with a square patch (RGB 0..255, [1,s,s,3]) sliding over it in front of everything: its
 * top-left corner at `start` (x, y) in frame 0, moving by `step` pixels per frame, drawn with bilinear
 * (anti-aliased) edges. It brings true occlusions: the background the patch uncovers behind it has
 * nothing to correspond to in the previous frame. The true flow is the patch's step where a frame shows
 * the patch (coverage ≥ ½) and the background's flow elsewhere, occluded or not. Takes ownership of
 * `clip` (disposes it) and borrows `patch`.
 */
export function withMovingPatch(clip: SyntheticClip, patch: tf.Tensor4D, start: readonly [number, number], step: readonly [number, number]): SyntheticClip {
  const [, h, w] = clip.frames[0]!.shape;
  const [, ph, pw] = patch.shape;
  const coverage: tf.Tensor[] = [];
  const frames = clip.frames.map((frame, k) =>
    tf.tidy(() => {
      const grid = pixelGrid(h, w);
      const px = tf.sub(grid.x, start[0] + k * step[0]);
      const py = tf.sub(grid.y, start[1] + k * step[1]);
      // Coverage of pixel [t − ½, t + ½] by the patch's [−½, n − ½] along each axis: sub-pixel positions
      // move the edges smoothly.
      const ramp = (t: tf.Tensor, n: number) => tf.clipByValue(tf.minimum(tf.add(t, 1), tf.sub(n, t)), 0, 1);
      const alpha = tf.reshape(tf.mul(ramp(px, pw), ramp(py, ph)), [1, h, w, 1]) as tf.Tensor4D;
      coverage.push(tf.keep(tf.tile(tf.greaterEqual(alpha, 0.5), [1, 1, 1, 2])));
      const colour = sampleBilinear(patch, px as tf.Tensor2D, py as tf.Tensor2D);
      return tf.add(tf.mul(alpha, colour), tf.mul(tf.sub(1, alpha), frame)) as tf.Tensor4D;
    }),
  );
  const move = (sign: number) => tf.tidy(() => tf.reshape(tf.tensor1d([sign * step[0], sign * step[1]]), [1, 1, 1, 2]));
  const ahead = move(1);
  const back = move(-1);
  const forward = clip.forward.map((f, k) => tf.tidy(() => tf.where(coverage[k]!, tf.broadcastTo(ahead, f.shape), f)) as tf.Tensor4D);
  const backward = clip.backward.map((f, k) => tf.tidy(() => tf.where(coverage[k + 1]!, tf.broadcastTo(back, f.shape), f)) as tf.Tensor4D);
  tf.dispose([...coverage, ahead, back]);
  clip.dispose();
  return {
    frames,
    forward,
    backward,
    poses: clip.poses,
    dispose: () => tf.dispose([...frames, ...forward, ...backward]),
  };
}

/**
 * `frames` poses from `from` to `to`: centre and angle move linearly, the scale geometrically (so a
 * zoom has a constant rate). With equal scales and angles this is a translation, with equal centres
 * and scales a rotation, with equal centres and angles a zoom.
 */
export function cameraPath(from: Pose, to: Pose, frames: number): Pose[] {
  if (!Number.isInteger(frames) || frames < 1) throw new NstError(`a camera path needs a whole number of frames ≥ 1 (got ${frames})`);
  return Array.from({ length: frames }, (_, k) => {
    const t = frames === 1 ? 0 : k / (frames - 1);
    return {
      cx: from.cx + t * (to.cx - from.cx),
      cy: from.cy + t * (to.cy - from.cy),
      scale: from.scale * (to.scale / from.scale) ** t,
      angle: from.angle + t * (to.angle - from.angle),
    };
  });
}

/**
 * A pan-and-zoom over a source of [H,W] seen through frames of [h,w]: the camera starts showing 90% of
 * the source's width from its left part and ends zoomed in 1.5× on its right part, all frames inside
 * the source. The notebook's clip; `renderClip(source, panAndZoomPath(...), size)` renders it.
 */
export function panAndZoomPath(sourceSize: readonly [number, number], size: readonly [number, number], frames: number): Pose[] {
  const [sh, sw] = sourceSize;
  const [h, w] = size;
  // Largest scale at which a frame fits; the start shows 90% of it, the end 60%.
  const fit = Math.min((sw - 1) / (w - 1), (sh - 1) / (h - 1));
  const start = 0.9 * fit;
  const end = 0.6 * fit;
  const centre = (scale: number, side: 'left' | 'right'): Pose => {
    // Half a pixel in from the edge, so that rounding never puts a corner outside.
    const half = ((w - 1) / 2) * scale + 0.5;
    return { cx: side === 'left' ? half : sw - 1 - half, cy: (sh - 1) / 2, scale, angle: 0 };
  };
  return cameraPath(centre(start, 'left'), centre(end, 'right'), frames);
}
