/**
 * Runs a list of labelled configs one after another (a figure's grid, a weight sweep, seeds) and
 * returns their results; the notebooks' common loop. (`nst sweep` is the command-line counterpart.)
 */
import type { RunConfig } from '../config';
import { run } from '../run/run';
import type { RunCallbacks, RunResult } from '../run/types';

export interface GridPoint {
  label: string;
  /** Merged over the grid's base config. */
  config: Partial<RunConfig>;
  /** The swept values of this point (e.g. `{ styleWeight: 1e3, tvWeight: 0 }`), for tables and heatmaps. */
  coords?: Record<string, number | string>;
}

export interface GridRun extends GridPoint {
  result: RunResult;
}

export interface RunGridOptions {
  base?: Partial<RunConfig>;
  /** Callbacks for each run (e.g. a progress display). */
  callbacks?: (point: GridPoint, index: number, count: number) => RunCallbacks | RunCallbacks[];
  /** One line per run (default console.log; null: silent). */
  log?: ((line: string) => void) | null;
}

export async function runGrid(points: readonly GridPoint[], opts: RunGridOptions = {}): Promise<GridRun[]> {
  const log = opts.log === undefined ? (s: string) => console.log(s) : opts.log;
  const runs: GridRun[] = [];
  for (const [i, point] of points.entries()) {
    const started = performance.now();
    const result = await run({ ...opts.base, ...point.config }, { callbacks: opts.callbacks?.(point, i, points.length), log: null, progress: false });
    runs.push({ ...point, result });
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    log?.(`[${i + 1}/${points.length}] ${point.label}: loss ${result.final.total.toExponential(3)} after ${result.history.length} iterations (${secs} s) → ${result.dir}`);
  }
  return runs;
}

/**
 * The final losses of each run after its coordinates: the rows of a results table. (Labels are left
 * out: the coordinates identify a run, and free text with commas would need CSV quoting.)
 */
export function finalLossRows(runs: readonly GridRun[]): Record<string, number | string>[] {
  return runs.map((r) => ({
    ...r.coords,
    total: r.result.final.total,
    content: r.result.final.content,
    style: r.result.final.style,
    tv: r.result.final.tv,
    ...r.result.final.terms,
    iterations: r.result.history.length,
  }));
}
