/**
 * A clip's metrics.csv: a run's columns (iteration, elapsed_ms, evaluations, total, content, style,
 * tv, every term) behind a leading `frame` column, one row per iteration of every frame, appended as
 * the frames go so that a killed clip keeps its curves (runClip drops the rows of the unfinished frame).
 * The terms are fixed for the whole clip: a frame without a term (frame 0 has no `temporal`) leaves
 * its cell empty.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { NstError } from '../errors';
import { writeFileAtomic } from '../image/io';
import type { StepLogs } from '../run/types';

const COLUMNS = ['frame', 'iteration', 'elapsed_ms', 'evaluations', 'total', 'content', 'style', 'tv'] as const;

/** One metrics row: the frame index and the step's logs. */
export interface ClipStep {
  frame: number;
  logs: StepLogs;
}

export class ClipMetricsCsv {
  private constructor(
    readonly path: string,
    private readonly terms: readonly string[],
  ) {}

  /**
   * Opens `path` for appending, writing the header when the file is new. A file with another header
   * (a clip of other terms) is refused: mixing them would misalign the columns.
   */
  static async open(path: string, terms: readonly string[]): Promise<ClipMetricsCsv> {
    const header = [...COLUMNS, ...terms].join(',');
    if (existsSync(path)) {
      const first = readFileSync(path, 'utf8').split('\n')[0];
      if (first !== header) throw new NstError(`${path} has the columns ${first}, this clip logs ${header}`, 'use another output folder, or delete this one to start again');
    } else {
      await writeFileAtomic(path, header + '\n');
    }
    return new ClipMetricsCsv(path, terms);
  }

  append(frame: number, logs: StepLogs): void {
    const row = [frame, logs.iteration, Math.round(logs.elapsedMs), logs.evaluations, logs.total, logs.content, logs.style, logs.tv, ...this.terms.map((t) => logs.terms[t] ?? '')];
    appendFileSync(this.path, row.join(',') + '\n');
  }
}

/** Parses a clip's metrics.csv; empty cells (terms a frame lacks) are left out of its `terms`. */
export function parseClipMetrics(text: string): ClipStep[] {
  const [header, ...rows] = text.trim().split('\n');
  const cols = header!.split(',');
  const missing = COLUMNS.filter((c) => !cols.includes(c));
  if (missing.length > 0) throw new NstError(`not a clip's metrics.csv: no column ${missing.join(', ')}`);
  return rows
    .filter((r) => r.length > 0)
    .map((r) => {
      const cells = r.split(',');
      const get = (name: string) => Number(cells[cols.indexOf(name)]);
      const terms: Record<string, number> = {};
      cols.slice(COLUMNS.length).forEach((c, i) => {
        const cell = cells[COLUMNS.length + i];
        if (cell !== undefined && cell !== '') terms[c] = Number(cell);
      });
      return {
        frame: get('frame'),
        logs: { iteration: get('iteration'), elapsedMs: get('elapsed_ms'), evaluations: get('evaluations'), total: get('total'), content: get('content'), style: get('style'), tv: get('tv'), terms },
      };
    });
}
