/** Notebook 12's comparison of style losses: time per iteration per loss, and the papers' presets as a table. */
import type { DataFrame } from 'danfojs-node';
import type { BarFigure } from '../figures/figure';
import { presetRows } from '../papers/describe';
import type { AxisLabels } from '../sweep/figures';
import { summaryFrame } from '../sweep/report';
import type { Experiment } from './experiment';

/** A `loss` sub-config by its style loss and softmax smoothing (its β is in the table). */
export function styleLossLabel(value: unknown): string {
  const v = value as { styleLoss?: string; styleSoftmax?: number };
  return `${v.styleLoss ?? 'gram'}${v.styleSoftmax ? ` + softmax T=${v.styleSoftmax}` : ''}`;
}

/** experiments/style-losses.yaml's `loss` axis labelled by styleLossLabel. */
export const STYLE_LOSS_LABELS: AxisLabels = Object.freeze({ loss: styleLossLabel });

/** Wall time of the optimisation loop per iteration, per run of the `loss` axis. */
export function iterationTimes(ex: Experiment): BarFigure {
  const done = ex.records.filter((r) => r.wallMs !== undefined && r.iterations);
  return {
    kind: 'bar',
    title: ex.title('Wall time per iteration'),
    x: { title: 'style loss', categories: done.map((r) => styleLossLabel(r.run.params.loss)) },
    y: { title: 'time per iteration (ms)', log: true },
    series: [{ name: 'ms per iteration', values: done.map((r) => r.wallMs! / r.iterations!) }],
  };
}

/** Every paper preset's values with their sources (`nst presets NAME` for each), one row per value. */
export function presetsTable(): DataFrame {
  return summaryFrame(presetRows());
}
