/**
 * Notebooks 09–11's runs and figures over the controls of Gatys et al. 2017: spatial control (§4,
 * Fig. 2; experiments/spatial-control.yaml), scale control (§6, Fig. 4: the new style image, then its
 * transfers through the sweep engine) and coarse-to-fine (§6, high resolution;
 * experiments/coarse-to-fine.yaml). These helpers run them, lay out their images and re-score results.
 */
import { basename, extname } from 'node:path';
import type { RunConfig } from '../config';
import { overlaidCurves } from '../figures/charts';
import type { BarFigure, LineFigure } from '../figures/figure';
import type { GridOptions } from '../figures/grid';
import { loadImage } from '../image/io';
import { scaleControlledStyle } from '../run/scale-control';
import { createSession } from '../run/session';
import type { RunResult, StepLogs } from '../run/types';
import type { RunRecord } from '../sweep/report';
import { PAPER_SCALE, parseSweepSpec } from '../sweep/spec';
import { liveLossCurve } from './display';
import { runExperiment, type Experiment } from './experiment';
import type { Notebook } from './setup';

/** The runs of experiments/spatial-control.yaml: each style everywhere, then one style per region (the run with `regions`). */
export function spatialRuns(ex: Experiment): { label: string; record: RunRecord }[] {
  return ex.records.map((record) => {
    const c = record.run.config;
    return { label: c.regions.length > 0 ? 'one style per region' : `${basename(c.style[0]!, extname(c.style[0]!))} everywhere`, record };
  });
}

/** The run with one style per region. */
export function guidedRun(ex: Experiment): RunRecord {
  return ex.records.find((r) => r.run.config.regions.length > 0)!;
}

/** Fig. 2's layout: the content and each region's mask and style, then the result of each run. */
export function spatialGrid(ex: Experiment): GridOptions {
  const guided = guidedRun(ex).run.config;
  const runs = spatialRuns(ex);
  return {
    rows: [
      [guided.content, ...guided.regions.flatMap((r) => [r.contentMask, r.style[0]!])],
      [null, ...runs.map((r) => ex.image(r.record.run.params))],
    ],
    colLabels: ['content', ...guided.regions.flatMap((r) => [`${r.name}: mask`, `${r.name}: style`])],
    rowLabels: ['inputs', runs.map((r) => r.label).join('\n')],
    title: ex.title(`Spatial control, guides: ${guided.guidePropagation}`),
  };
}

export interface ScaleControlParams {
  content: string;
  /** The style whose fine scale (brush strokes) is kept. */
  fine: string;
  /** The style whose coarse scale (large forms) is kept. */
  coarse: string;
  imageSize: number;
  iterations: number;
  /** The naive control: per style layer, 0 (its target from `fine`) or 1 (from `coarse`). */
  styleLayerImages: number[];
}

/**
 * Fig. 4's runs: the new style image (a texture synthesis of the fine style's low layers from the
 * coarse style image, with a live curve), then through the sweep engine the transfers with the fine
 * style, the coarse style, the paper's naive layer split (`styleLayerImages`: the low layers' targets
 * from the fine style, the rest from the coarse) and the new style image.
 */
export async function runScaleControl(nb: Notebook, p: ScaleControlParams): Promise<{ made: RunResult; ex: Experiment }> {
  const size = { imageSize: p.imageSize, iterations: p.iterations };
  const made = await scaleControlledStyle({ fineStyle: p.fine, coarseStyle: p.coarse }, { ...nb.base, ...size }, { callbacks: liveLossCurve({ title: 'Synthesis of the new style image' }), log: null, progress: false });
  const spec = parseSweepSpec({
    name: `scale-control${nb.scale === PAPER_SCALE ? '' : `-${nb.scale}`}`,
    base: { content: p.content, ...size },
    parameters: {
      styling: {
        values: [{ style: [p.fine] }, { style: [p.coarse] }, { style: [p.fine, p.coarse], styleLayerImages: p.styleLayerImages }, { style: [made.finalImage] }],
      },
    },
  });
  return { made, ex: await runExperiment(nb, spec) };
}

/** What each scale-control transfer's style is. */
function scaleLabel(record: RunRecord, p: ScaleControlParams): string {
  const c = record.run.config;
  if (c.styleLayerImages.length > 0) return `naive layer split ${c.styleLayerImages.join(',')}`;
  return c.style[0] === p.fine ? 'fine style' : c.style[0] === p.coarse ? 'coarse style' : 'new style image';
}

/** Fig. 4's layout: the two styles, the new style image made from them, and each transfer. */
export function scaleGrid(p: ScaleControlParams, made: RunResult, ex: Experiment): GridOptions {
  return {
    rows: [[p.fine, p.coarse, made.finalImage, ...ex.records.map((r) => ex.image(r.run.params))]],
    colLabels: ['fine-scale style', 'coarse-scale style', 'new style image', ...ex.records.map((r) => scaleLabel(r, p))],
    title: ex.title('Scale control'),
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

/** experiments/coarse-to-fine.yaml's two runs: at the preview size, and coarse-to-fine (the one with a schedule). */
export function coarseToFineRuns(ex: Experiment): { preview: RunRecord; final: RunRecord } {
  const staged = (r: RunRecord) => r.run.config.schedule.length > 0;
  return { preview: ex.records.find((r) => !staged(r))!, final: ex.records.find(staged)! };
}

/** The preview beside the coarse-to-fine result: the same look at two sizes. */
export function coarseToFineGrid(ex: Experiment): GridOptions {
  const { preview, final } = coarseToFineRuns(ex);
  return {
    rows: [[ex.image(preview.run.params), ex.image(final.run.params)]],
    colLabels: [`preview, ${preview.run.config.imageSize} px`, `coarse-to-fine, ${final.run.config.schedule.join(' → ')} px`],
    title: ex.title('Same look at two sizes'),
  };
}

/** Per style layer, the preview run's terms beside those of the coarse-to-fine result re-scored at the preview size. */
export async function rescoredStyleTerms(ex: Experiment): Promise<BarFigure> {
  const { preview, final } = coarseToFineRuns(ex);
  const size = preview.run.config.imageSize;
  const rescored = await rescoreAt(final.run.config, ex.image(final.run.params), size);
  const bars = [
    { label: 'preview run', logs: preview.final! },
    { label: 'final, re-scored at preview size', logs: rescored },
  ];
  return styleTermBars(bars, ex.styleLayers(), ex.title('Style terms (unweighted) at the preview size'));
}

/** The coarse-to-fine run's total loss, one curve per stage (metrics.csv's `stage` column). */
export function stageCurves(ex: Experiment): LineFigure {
  const { final } = coarseToFineRuns(ex);
  const stages = final.run.config.schedule.map((size, s) => ({ label: `stage ${s + 1} (${size} px)`, history: final.history.filter((l) => l.stage === s) }));
  return overlaidCurves(stages, { value: 'total', title: ex.title('Total loss per stage'), legend: 'stage' });
}
