/**
 * Bilinear sampling and backward warping, the one resampling step that optical flow, the synthetic
 * clips and the temporal loss all share.
 *
 * Conventions (used throughout src/lib/video): a flow is a [1,H,W,2] float tensor of (u, v) = (dx, dy)
 * in pixels; pixel (i, j) sits at x = j, y = i. The flow from frame a to frame b says where each pixel
 * of a is found in b: a(p) ≈ b(p + w(p)). Backward warping by that flow brings b into a's grid,
 * ω(b)(p) = b(p + w(p)) (Ruder et al. 2016, §3: ω warps the previous stylised frame with the flow
 * computed from the current frame to the previous one).
 *
 * Borders are explicit: a sample position outside the image reads the nearest edge pixel (clamp), and
 * `insideMask` tells which positions had a real source pixel, so that callers decide what an outside
 * sample means (the consistency weights set it to 0, because nothing in the other frame corresponds).
 */
import * as tf from '@tensorflow/tfjs';

/** The pixel grid: x[i,j] = j and y[i,j] = i, each [H,W]. */
export function pixelGrid(h: number, w: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.tile(tf.reshape(tf.range(0, w, 1, 'float32'), [1, w]), [h, 1]) as tf.Tensor2D;
    const y = tf.tile(tf.reshape(tf.range(0, h, 1, 'float32'), [h, 1]), [1, w]) as tf.Tensor2D;
    return { x, y };
  });
}

/**
 * image([y, x]) at real-valued positions, bilinear, with positions clamped to the image (edge pixels
 * repeat outward). `x` and `y` have the output's [H', W'] shape; the result is [1,H',W',C].
 */
export function sampleBilinear(image: tf.Tensor4D, x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor4D {
  const [, h, w, c] = image.shape;
  const [oh, ow] = x.shape;
  return tf.tidy(() => {
    const xc = tf.clipByValue(x, 0, w - 1);
    const yc = tf.clipByValue(y, 0, h - 1);
    const x0 = tf.floor(xc);
    const y0 = tf.floor(yc);
    const ax = tf.reshape(tf.sub(xc, x0), [-1, 1]);
    const ay = tf.reshape(tf.sub(yc, y0), [-1, 1]);
    const x1 = tf.minimum(tf.add(x0, 1), w - 1);
    const y1 = tf.minimum(tf.add(y0, 1), h - 1);
    // One gather of the four neighbours: indices into the image flattened to [H·W, C].
    const index = (yy: tf.Tensor, xx: tf.Tensor) => tf.reshape(tf.add(tf.mul(yy, w), xx), [-1]);
    const corners = tf.concat([index(y0, x0), index(y0, x1), index(y1, x0), index(y1, x1)]).toInt();
    const values = tf.gather(tf.reshape(image, [h * w, c]), corners);
    const [v00, v01, v10, v11] = tf.split(values, 4);
    const top = tf.add(v00!, tf.mul(ax, tf.sub(v01!, v00!)));
    const bottom = tf.add(v10!, tf.mul(ax, tf.sub(v11!, v10!)));
    return tf.reshape(tf.add(top, tf.mul(ay, tf.sub(bottom, top))), [1, oh, ow, c]);
  });
}

/** The sample positions p + w(p), each [H,W]. */
function targets(flow: tf.Tensor4D): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const [, h, w] = flow.shape;
  return tf.tidy(() => {
    const grid = pixelGrid(h, w);
    const [u, v] = tf.split(tf.reshape(flow, [h, w, 2]), 2, 2);
    return { x: tf.add(grid.x, tf.reshape(u!, [h, w])), y: tf.add(grid.y, tf.reshape(v!, [h, w])) };
  });
}

/**
 * Backward warping ω(image)(p) = image(p + flow(p)), bilinear, edges clamped. `image` and `flow` share
 * [H,W]; the result has image's channels.
 */
export function warp(image: tf.Tensor4D, flow: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const { x, y } = targets(flow);
    return sampleBilinear(image, x, y);
  });
}

/**
 * 1 where p + flow(p) lies inside the image it samples ([0, W−1] × [0, H−1], so that all four bilinear
 * neighbours exist), 0 where the warp read clamped edge pixels; [1,H,W,1].
 */
export function insideMask(flow: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = flow.shape;
  return tf.tidy(() => {
    const { x, y } = targets(flow);
    const inside = tf.logicalAnd(
      tf.logicalAnd(tf.greaterEqual(x, 0), tf.lessEqual(x, w - 1)),
      tf.logicalAnd(tf.greaterEqual(y, 0), tf.lessEqual(y, h - 1)),
    );
    return tf.reshape(tf.cast(inside, 'float32'), [1, h, w, 1]);
  });
}
