/**
 * Accuracy and speed of the flow estimators on synthetic clips with known motion, the measurement
 * behind the default method (docs/video.md). Each clip is two frames of the shipped Tübingen photo
 * seen by a moving camera; `patch` adds a square of another image sliding over it, for occlusions and
 * motion boundaries that the camera motions alone lack.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { loadImage } from '../image/io';
import { defaultImagesDir } from '../paths';
import { estimateFlow, FLOW_METHODS, type FlowMethod, type FlowSettings } from './flow';
import { endpointError } from './measures';
import { cameraPath, renderClip, withMovingPatch, type Pose, type SyntheticClip } from './synthetic';

export interface FlowBenchmarkRow {
  clip: string;
  method: FlowMethod;
  /** Frame width × height. */
  size: string;
  /** Mean endpoint error (px) at least 1/16 of the width from the borders. */
  epe: number;
  /** The largest true displacement in the clip, px. */
  maxMotion: number;
  medianMs: number;
  minMs: number;
  /** Kernel launches per flow: the per-op overhead dominates small frames on wasm. */
  kernels: number;
}

export interface FlowBenchmarkOptions {
  /** Frame width; height is ¾ of it. Motions scale with it. */
  width?: number;
  /** Timed runs per clip and method, after one untimed run. */
  repeats?: number;
  methods?: readonly FlowMethod[];
  /** Settings for every method (the method itself is set per row). */
  settings?: FlowSettings;
}

/** The benchmark's clips at a frame width `w`: motion in pixels grows with the frame. */
function clips(source: tf.Tensor4D, patch: tf.Tensor4D, w: number): Record<string, () => SyntheticClip> {
  const [, sh, sw] = source.shape;
  const size: [number, number] = [Math.round((w * 3) / 4), w];
  const c: Pose = { cx: (sw - 1) / 2, cy: (sh - 1) / 2, scale: 1, angle: 0 };
  const k = w / 128;
  const two = (to: Partial<Pose>) => renderClip(source, cameraPath(c, { ...c, ...to }, 2), size);
  return {
    translation: () => two({ cx: c.cx + 1.37 * k, cy: c.cy - 0.62 * k }),
    'rotation 2°': () => two({ angle: (2 * Math.PI) / 180 }),
    'zoom 4%': () => two({ scale: 1 / 1.04 }),
    pan: () => two({ cx: c.cx + 6.3 * k, cy: c.cy + 2.2 * k }),
    'moving patch': () => withMovingPatch(two({ cx: c.cx + 0.8 * k }), patch, [40 * k, 30 * k], [3.4 * k, 1.3 * k]),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Every clip × method: endpoint error, time per flow (median and minimum of `repeats`), kernel count. */
export async function benchmarkFlow(opts: FlowBenchmarkOptions = {}): Promise<FlowBenchmarkRow[]> {
  const w = opts.width ?? 128;
  const repeats = opts.repeats ?? 5;
  const source = await loadImage(join(defaultImagesDir(), 'tubingen.jpg'), { maxSide: Math.round(w * 1.6) });
  const patch = await loadImage(join(defaultImagesDir(), 'starry_night.jpg'), { size: [Math.round(w / 4), Math.round(w / 4)] });
  const rows: FlowBenchmarkRow[] = [];
  try {
    for (const [name, make] of Object.entries(clips(source, patch, w))) {
      const clip = make();
      const [, h] = clip.frames[0]!.shape;
      const maxMotion = tf.tidy(() => tf.max(tf.sqrt(tf.sum(tf.square(clip.forward[0]!), 3))).dataSync()[0]!);
      for (const method of opts.methods ?? FLOW_METHODS) {
        const run = () => estimateFlow(clip.frames[0]!, clip.frames[1]!, { ...opts.settings, method });
        const profile = await tf.profile(() => run());
        const kernels = profile.kernels.length;
        tf.dispose(profile.result as tf.Tensor);
        const times: number[] = [];
        let epe = NaN;
        for (let r = 0; r < repeats; r++) {
          const t0 = performance.now();
          const flow = run();
          flow.dataSync();
          times.push(performance.now() - t0);
          epe = endpointError(flow, clip.forward[0]!, Math.round(w / 16));
          flow.dispose();
        }
        rows.push({ clip: name, method, size: `${w}×${h}`, epe, maxMotion, medianMs: median(times), minMs: Math.min(...times), kernels });
      }
      clip.dispose();
    }
  } finally {
    tf.dispose([source, patch]);
  }
  return rows;
}

/** The rows as a Markdown table. */
export function flowBenchmarkTable(rows: readonly FlowBenchmarkRow[]): string {
  const lines = ['| clip | size | max motion (px) | method | EPE (px) | median ms | min ms | kernels |', '|---|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(`| ${r.clip} | ${r.size} | ${r.maxMotion.toFixed(1)} | ${r.method} | ${r.epe.toFixed(3)} | ${r.medianMs.toFixed(0)} | ${r.minMs.toFixed(0)} | ${r.kernels} |`);
  }
  return lines.join('\n');
}
