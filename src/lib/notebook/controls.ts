/**
 * Notebooks 09–11's figures over the controls of Gatys et al. 2017: spatial control (§4, Fig. 2),
 * scale control (§6, Fig. 4) and coarse-to-fine (§6, high resolution). The runs are ordinary runs
 * (run(), scaleControlledStyle); these helpers lay out their images and re-score results.
 */
import type { RegionSpec, RunConfig } from '../config';
import type { BarFigure } from '../figures/figure';
import type { GridOptions } from '../figures/grid';
import { loadImage } from '../image/io';
import { createSession } from '../run/session';
import type { RunResult, StepLogs } from '../run/types';

/** Fig. 2's layout: the content and each region's mask and style, then the result of each run. */
export function spatialGrid(content: string, regions: readonly RegionSpec[], runs: readonly { label: string; result: RunResult }[], title: string): GridOptions {
  return {
    rows: [
      [content, ...regions.flatMap((r) => [r.contentMask, r.style[0]!])],
      [null, ...runs.map((r) => r.result.finalImage)],
    ],
    colLabels: ['content', ...regions.flatMap((r) => [`${r.name}: mask`, `${r.name}: style`])],
    rowLabels: ['inputs', runs.map((r) => r.label).join('\n')],
    title,
  };
}

/** Fig. 4's layout: the two styles, the new style image made from them, and the transfer with it. */
export function scaleGrid(fine: string, coarse: string, made: RunResult, transfers: readonly { label: string; result: RunResult }[], title: string): GridOptions {
  return {
    rows: [[fine, coarse, made.finalImage, ...transfers.map((t) => t.result.finalImage)]],
    colLabels: ['fine-scale style', 'coarse-scale style', 'new style image', ...transfers.map((t) => t.label)],
    title,
  };
}

/**
 * The objective of `cfg` at `imageSize` (one stage, no schedule) for the image file `path`, resized
 * to that size: e.g. a coarse-to-fine result re-scored at the preview size.
 */
export async function rescoreAt(cfg: Partial<RunConfig>, path: string, imageSize: number): Promise<StepLogs> {
  const session = await createSession({ ...cfg, imageSize, schedule: [], stageIterations: [] });
  try {
    const img = session.image();
    const [, h, w] = img.shape;
    img.dispose();
    const rgb = await loadImage(path, { size: [h, w] });
    try {
      return session.score(rgb).logs;
    } finally {
      rgb.dispose();
    }
  } finally {
    session.dispose();
  }
}

/** Each run's unweighted style terms (`style/<layer>`), grouped by layer: the same look at two sizes has the same bars. */
export function styleTermBars(runs: readonly { label: string; logs: StepLogs }[], layers: readonly string[], title: string): BarFigure {
  return {
    kind: 'bar',
    title,
    x: { title: 'style layer', categories: layers },
    y: { title: 'E_l (unweighted, dimensionless)', log: true },
    series: runs.map((r) => ({ name: r.label, values: layers.map((l) => r.logs.terms[`style/${l}`] ?? NaN) })),
    legend: 'run',
  };
}

