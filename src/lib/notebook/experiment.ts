/**
 * A notebook's experiment: a sweep file from experiments/ run through the sweep engine at the
 * notebook's scale, with what its parameters cell chose for every run (network, weights, backend). A
 * rerun skips COMPLETED runs (and `nst sweep FILE --scale S` shares them when the files agree), one
 * output shows the progress, and the results are addressed by swept values for figures and tables.
 */
import type { DataFrame } from 'danfojs-node';
import { NstError } from '../errors';
import type { BarFigure, HeatmapFigure, LineFigure } from '../figures/figure';
import type { GridOptions } from '../figures/grid';
import { expandSweep, formatValue, loadSweep, sweptAxes, type Sweep } from '../sweep/expand';
import { PAPER_SCALE, type SweepSpec } from '../sweep/spec';
import { figureLabel, sweepBars, sweepCurves, sweepGrid, sweepHeatmaps, type BarsSpec, type CurvesSpec, type GridSpec, type HeatmapSpec, type Where } from '../sweep/figures';
import { collectRecords, resultsFrame, styleTaps, type RunRecord } from '../sweep/report';
import { runSweep, runsToDo } from '../sweep/runner';
import { progressBoard } from './display';
import type { Notebook } from './setup';

export class Experiment {
  constructor(
    readonly sweep: Sweep,
    readonly records: readonly RunRecord[],
    /** Said after every default title: the scale, and RANDOM WEIGHTS when so. */
    private readonly note: string,
  ) {}

  /** The one run with these swept values (enough of them to single it out). */
  record(where: Where): RunRecord {
    const found = this.records.filter((r) => Object.entries(where).every(([k, v]) => formatValue(r.run.params[k]) === formatValue(v)));
    if (found.length !== 1) {
      const axes = sweptAxes(this.sweep).map((a) => `${a}: ${[...new Set(this.records.map((r) => figureLabel(r.run.params[a])))].join(' | ')}`);
      throw new NstError(`${this.sweep.spec.name}: ${found.length} runs have ${JSON.stringify(where)}`, `give values that single out one run; ${axes.join('; ')}`);
    }
    return found[0]!;
  }

  /** The final image of the run with these swept values. */
  image(where: Where): string {
    const r = this.record(where);
    if (!r.image) throw new NstError(`${this.sweep.spec.name}: run ${r.run.index} has no final image (${r.state})`, `see ${r.run.dir}/run.log`);
    return r.image;
  }

  /** The style taps of the first run, in order (presets expanded): what per-layer figures loop over. */
  styleLayers(): string[] {
    return this.records.length > 0 ? styleTaps(this.records[0]!) : [];
  }

  /** A title for this experiment's figures: what, at which size and iterations, on which weights. */
  title(what: string): string {
    return `${what}${this.note}`;
  }

  /** Final images by two swept parameters (see sweepGrid). */
  grid(spec: GridSpec): GridOptions {
    return sweepGrid(this.sweep, this.records, { ...spec, title: this.title(spec.title ?? this.sweep.spec.name) });
  }

  /** Final losses over two swept parameters, a panel per metric (see sweepHeatmaps). */
  heatmaps(spec: HeatmapSpec): HeatmapFigure {
    return sweepHeatmaps(this.sweep, this.records, { ...spec, title: this.title(spec.title ?? `${this.sweep.spec.name}: final losses`) });
  }

  /** Every run's loss curve, coloured and dashed by swept values (see sweepCurves). */
  curves(spec: CurvesSpec = {}): LineFigure {
    return sweepCurves(this.sweep, this.records, { ...spec, title: this.title(spec.title ?? `${this.sweep.spec.name}: ${spec.metric ?? 'total'} loss per iteration`) });
  }

  /** Final losses as grouped bars (see sweepBars). */
  bars(spec: BarsSpec): BarFigure {
    return sweepBars(this.sweep, this.records, { ...spec, title: this.title(spec.title ?? `${this.sweep.spec.name}: final losses`) });
  }

  /** Per run: swept values, status, iterations, wall time and final losses (what summary.csv holds). */
  table(): DataFrame {
    return resultsFrame(this.sweep, this.records);
  }
}

/** What every default title of an experiment's figures ends with. */
function titleNote(nb: Notebook, sweep: Sweep): string {
  const cfg = sweep.run(0).config;
  const scale = nb.scale === PAPER_SCALE ? '' : `, ${nb.scale} scale`;
  return ` — ${cfg.imageSize} px, ${cfg.iterations} iterations${scale}${nb.randomWeights ? ' — RANDOM WEIGHTS' : ''}`;
}

/**
 * Runs what is not yet COMPLETED of the sweep (a file in experiments/, or a spec built in code) at the notebook's scale, with one output updated in
 * place (runs done, ETA, a small curve per run), and returns its results. A FAILED run is an error
 * naming the run and why, not a blank cell in a figure.
 */
export async function runExperiment(nb: Notebook, source: string | SweepSpec): Promise<Experiment> {
  // A spec built in code is at the scale its caller chose; a file is run at the notebook's.
  const options = { out: nb.results, override: nb.override };
  const sweep = typeof source === 'string' ? loadSweep(source, { ...options, scale: nb.scale }) : expandSweep(source, options);
  const board = progressBoard(`${sweep.spec.name} → ${sweep.dir}`, sweep.size, runsToDo(sweep).todo.length);
  const label = (params: Record<string, unknown>) => sweptAxes(sweep).map((a) => `${a}=${figureLabel(params[a])}`).join(', ');
  await runSweep(sweep, { log: null, progress: false, callbacks: (r) => board.run(`${r.index}: ${label(r.params)}`) });
  board.end();
  const records = collectRecords(sweep);
  const failed = records.filter((r) => r.state === 'FAILED' || r.state === 'INTERRUPTED');
  if (failed.length > 0) {
    const why = failed.map((r) => `run ${r.run.index} ${r.state}${r.status?.error ? `: ${r.status.error.split('\n')[0]}` : ''}`);
    throw new NstError(`${sweep.spec.name}: ${why.join('; ')}`, `see status.json and run.log in ${sweep.dir}/<run-id>/; rerun the cell to retry`);
  }
  return new Experiment(sweep, records, titleNote(nb, sweep));
}
