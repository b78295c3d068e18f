/** `nst sweep FILE --list`: the runs with their ids, swept values and status, as a text table. */
import { formatValue, type Sweep } from './expand';
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

export function listRuns(sweep: Sweep): ListedRun[] {
  return sweep.runs.map((r) => {
    const status = readStatus(r.dir);
    return {
      index: r.index,
      id: r.id,
      values: Object.fromEntries(Object.entries(r.params).map(([k, v]) => [k, formatValue(v)])),
      status: runState(r.dir),
      progress: status ? `${status.iteration}/${status.iterations}` : '',
      attempt: status?.attempt ?? 0,
      host: status?.host ?? '',
    };
  });
}

export function sweepTable(sweep: Sweep): string {
  const names = sweep.spec.parameters.map((p) => p.name);
  const runs = listRuns(sweep);
  const rows = runs.map((r) => [String(r.index), r.id, ...names.map((n) => r.values[n]!), r.status, r.progress, r.attempt ? String(r.attempt) : '', r.host]);
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const tally = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  return [
    `sweep ${sweep.spec.name} (${sweep.spec.method}): ${runs.length} runs → ${sweep.dir}   [${tally}]`,
    formatTable(['index', 'id', ...names, 'status', 'iter', 'attempt', 'host'], rows),
  ].join('\n');
}
