/** `nst sweep FILE --list`: the runs with their ids, swept values and status, as a text table. */
import { readdirSync } from 'node:fs';
import { formatValue, type Sweep, type SweepRun } from './expand';
import { readStatus, runState } from './status';

/** Left-aligned columns separated by two spaces; numbers right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] ?? '').length)));
  const numeric = header.map((_, j) => rows.length > 0 && rows.every((r) => r[j] === '' || !Number.isNaN(Number(r[j]))));
  const line = (cells: readonly string[]) =>
    cells.map((c, j) => (numeric[j] ? c.padStart(widths[j]!) : c.padEnd(widths[j]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export interface ListedRun {
  index: number;
  id: string;
  values: Record<string, string>;
  status: string;
  /** `iteration/iterations` of the latest attempt, '' before the first. */
  progress: string;
  attempt: number;
  host: string;
}

/** One run's row; `existing` (the sweep's run folders) spares a look at folders that do not exist. */
function listRun(r: SweepRun, existing?: Set<string>): ListedRun {
  const here = !existing || existing.has(r.id);
  const status = here ? readStatus(r.dir) : undefined;
  return {
    index: r.index,
    id: r.id,
    values: Object.fromEntries(Object.entries(r.params).map(([k, v]) => [k, formatValue(v)])),
    status: here ? runState(r.dir) : 'PENDING',
    progress: status ? `${status.iteration}/${status.iterations}` : '',
    attempt: status?.attempt ?? 0,
    host: status?.host ?? '',
  };
}

export function listRuns(sweep: Sweep): ListedRun[] {
  return sweep.runs.map((r) => listRun(r));
}

/** Rows looked at to size the columns of a long listing (longer cells later just push their row). */
const WIDTH_SAMPLE = 1000;

/**
 * The `--list` table line by line, building each run from its index: a 10⁶-run grid lists in seconds,
 * in constant memory. A header line first, a tally of the states last.
 */
export function* sweepTableLines(sweep: Sweep): Generator<string> {
  let existing: Set<string>;
  try {
    existing = new Set(readdirSync(sweep.dir));
  } catch {
    existing = new Set();
  }
  const names = sweep.spec.parameters.map((p) => p.name);
  const header = ['index', 'id', ...names, 'status', 'iter', 'attempt', 'host'];
  const cells = (r: ListedRun) => [String(r.index), r.id, ...names.map((n) => r.values[n]!), r.status, r.progress, r.attempt ? String(r.attempt) : '', r.host];
  const sample = Array.from({ length: Math.min(sweep.size, WIDTH_SAMPLE) }, (_, i) => cells(listRun(sweep.run(i), existing)));
  const widths = header.map((h, j) => Math.max(h.length, ...sample.map((c) => c[j]!.length), j === 0 ? String(sweep.size - 1).length : 0));
  const numeric = header.map((_, j) => sample.length > 0 && sample.every((c) => c[j] === '' || !Number.isNaN(Number(c[j]))));
  const line = (c: readonly string[]) => c.map((v, j) => (numeric[j] ? v.padStart(widths[j]!) : v.padEnd(widths[j]!))).join('  ').trimEnd();
  yield `sweep ${sweep.spec.name} (${sweep.spec.method}): ${sweep.size} runs → ${sweep.dir}`;
  yield line(header);
  yield line(widths.map((w) => '-'.repeat(w)));
  const counts = new Map<string, number>();
  for (let i = 0; i < sweep.size; i++) {
    const r = listRun(sweep.run(i), existing);
    counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    yield line(cells(r));
  }
  yield [...counts].map(([state, n]) => `${n} ${state}`).join(', ');
}

/** Writes the table to a stream in chunks, waiting when the reader is slower (a pipe into less). */
export async function writeSweepTable(sweep: Sweep, out: NodeJS.WritableStream): Promise<void> {
  let chunk = '';
  const flush = async () => {
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
    chunk = '';
  };
  for (const line of sweepTableLines(sweep)) {
    chunk += line + '\n';
    if (chunk.length > 1 << 16) await flush();
  }
  await flush();
}

export function sweepTable(sweep: Sweep): string {
  return [...sweepTableLines(sweep)].join('\n');
}
