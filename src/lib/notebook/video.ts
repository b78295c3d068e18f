/**
 * Notebook 13's video figures: a synthetic clip of a camera panning and zooming over a photo (its
 * exact flows known), the stylised clips as strips of frames, their warping errors frame by frame
 * measured with the true flows, and the flow field as colour.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import type { LineFigure } from '../figures/figure';
import type { GridOptions } from '../figures/grid';
import { encodePng, loadImage, saveImage } from '../image/io';
import { clipFramePath } from '../video/clip';
import { flowToRgb } from '../video/flow-colour';
import { consecutiveWarpingErrors } from '../video/measures';
import { panAndZoomPath, renderClip, type SyntheticClip } from '../video/synthetic';

export interface ClipOnDisk {
  /** The folder of content frames (frame_00001.png, …), what `content` of a clip config names. */
  dir: string;
  frames: string[];
  /** The rendered frames and their exact flows (the caller disposes). */
  clip: SyntheticClip;
}

/**
 * `frames` frames of [h, w] panning and zooming over `image` (panAndZoomPath), written into `dir`.
 * The photo is first reduced to twice the frame's longer side, so that the camera samples it without
 * aliasing.
 */
export async function panAndZoomClip(image: string, size: readonly [number, number], frames: number, dir: string): Promise<ClipOnDisk> {
  const source = await loadImage(image, { maxSide: 2 * Math.max(...size) });
  try {
    const clip = renderClip(source, panAndZoomPath([source.shape[1], source.shape[2]], size, frames), size);
    const paths = clip.frames.map((_, k) => join(dir, `frame_${String(k + 1).padStart(5, '0')}.png`));
    for (const [k, f] of clip.frames.entries()) await saveImage(f, paths[k]!);
    return { dir, frames: paths, clip };
  } finally {
    source.dispose();
  }
}

/** A stylised clip to show: its label and its clip folder (VideoResult.dir). */
export interface LabelledClip {
  label: string;
  dir: string;
}

/** Up to `columns` frames, evenly spread, first and last included. */
function shownFrames(count: number, columns: number): number[] {
  const n = Math.min(count, columns);
  return Array.from({ length: n }, (_, k) => (n === 1 ? 0 : Math.round((k * (count - 1)) / (n - 1))));
}

/** The content frames on top and each stylised clip below them, the same frames in every row. */
export function clipStrip(content: ClipOnDisk, clips: readonly LabelledClip[], title: string, columns = 6): GridOptions {
  const shown = shownFrames(content.frames.length, columns);
  return {
    rows: [shown.map((k) => content.frames[k]!), ...clips.map((c) => shown.map((k) => clipFramePath(c.dir, k)))],
    rowLabels: ['content', ...clips.map((c) => c.label)],
    colLabels: shown.map((k) => `frame ${k + 1}`),
    title,
    cellHeight: 128,
  };
}

/**
 * Each clip's warping error between consecutive stylised frames (measures.ts `warpingError`) on the
 * pixels the *true* flow marks reliable: the measure of temporal consistency, free of flow errors.
 */
export async function warpingErrorChart(content: ClipOnDisk, clips: readonly LabelledClip[]): Promise<LineFigure> {
  const series = [];
  for (const c of clips) {
    const outputs = await Promise.all(content.frames.map((_, k) => loadImage(clipFramePath(c.dir, k))));
    try {
      const errors = consecutiveWarpingErrors(outputs, content.clip);
      series.push({ name: c.label, x: errors.map((_, k) => k + 2), y: errors });
    } finally {
      tf.dispose(outputs);
    }
  }
  return {
    kind: 'line',
    title: 'Warping error between consecutive stylised frames (true flow, reliable pixels)',
    x: { title: 'frame', integer: true },
    y: { title: 'mean squared colour error (0..255)²', log: true },
    series,
    legend: 'clip',
  };
}

/** The content frames above their true flow to the next frame as colour, one colour scale for all. */
export async function flowStrip(content: ClipOnDisk, title: string, columns = 6): Promise<GridOptions> {
  const { forward } = content.clip;
  const shown = shownFrames(forward.length, columns);
  const max = Math.max(...forward.map((f) => tf.tidy(() => tf.max(tf.norm(f, 'euclidean', 3)).dataSync()[0]!)));
  const colours: Uint8Array[] = [];
  for (const k of shown) {
    const rgb = flowToRgb(forward[k]!, max);
    colours.push(await encodePng(rgb));
    rgb.dispose();
  }
  return {
    rows: [shown.map((k) => content.frames[k]!), colours],
    rowLabels: ['frame', 'flow to next'],
    colLabels: shown.map((k) => `frame ${k + 1}`),
    title: `${title} (hue: direction, saturation: length up to ${max.toFixed(1)} px)`,
    cellHeight: 128,
  };
}
