/**
 * A sweep's results as one table: a row per run with its swept values, status, iterations, wall time
 * and final losses, as a danfojs DataFrame and `<out>/<name>/summary.csv`. Notebooks read the same
 * rows through `loadSweepReport`.
 */
import { DataFrame } from 'danfojs-node';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../image/io';
import { parseMetricsCsv, RUN_FILES } from '../run/store';
import { logGroups, type StepLogs } from '../run/types';
import { formatValue, loadSweep, type ExpandOptions, type Sweep, type SweepRun } from './expand';
import { LOSS_COLUMNS } from './spec';
import { CLIP_FILES, clipFramePath, type ClipRecord } from '../video/clip';
import { readStatus, runState, type RunState, type RunStatus } from './status';

export const SUMMARY_FILE = 'summary.csv';

/** Loss columns are prefixed so that a swept `style` (images) and the `style` loss do not collide. */
export const LOSS_PREFIX = 'loss_';

/** What summary.json holds (written by the engine at the end of a run, interrupted or not). */
interface EngineSummary {
  stopReason?: string;
  iterations?: number;
  wallMs?: number;
  final?: StepLogs;
}

export interface RunRecord {
  run: SweepRun;
  state: RunState;
  status?: RunStatus;
  /** The objective at the final image, or at the last logged iteration of an unfinished run. */
  final?: StepLogs;
  iterations?: number;
  wallMs?: number;
  stopReason?: string;
  /** The per-iteration curve from metrics.csv (empty before the first iteration). */
  history: StepLogs[];
  /** final.png, when the run finished (a clip: its last frame). */
  image?: string;
  /** A clip's measures (clip.json): temporal consistency and speed. */
  clip?: { meanWarpingError: number | null; framesPerMinute: number | null; frames: number };
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function readHistory(dir: string): StepLogs[] {
  const path = join(dir, RUN_FILES.metrics);
  if (!existsSync(path)) return [];
  return parseMetricsCsv(readFileSync(path, 'utf8'));
}

/** Everything on disk about each run of the sweep, in index order. */
/** A clip's record from its clip.json (no summary.json; metrics.csv has a frame column). */
function clipRecord(run: SweepRun): RunRecord {
  const record = readJson<ClipRecord & { resultFrames?: string }>(join(run.dir, CLIP_FILES.record));
  const status = readStatus(run.dir);
  const frames = record?.frames.length ?? 0;
  const last = frames > 0 ? clipFramePath(record?.resultFrames ? dirname(record.resultFrames) : run.dir, frames - 1) : undefined;
  return {
    run,
    state: runState(run.dir),
    status,
    iterations: frames,
    wallMs: status?.wallMs,
    stopReason: status?.stopReason,
    history: [],
    image: last && existsSync(last) ? last : undefined,
    clip: record ? { meanWarpingError: record.meanWarpingError, framesPerMinute: record.framesPerMinute, frames } : undefined,
  };
}

export function collectRecords(sweep: Sweep): RunRecord[] {
  return sweep.runs.map((run) => {
    if (run.clip) return clipRecord(run);
    const summary = readJson<EngineSummary>(join(run.dir, RUN_FILES.summary));
    const status = readStatus(run.dir);
    const history = readHistory(run.dir);
    const last = history[history.length - 1];
    const image = join(run.dir, RUN_FILES.final);
    return {
      run,
      state: runState(run.dir),
      status,
      final: summary?.final ?? last,
      iterations: summary?.iterations ?? last?.iteration,
      wallMs: summary?.wallMs ?? status?.wallMs,
      stopReason: summary?.stopReason,
      history,
      image: existsSync(image) ? image : undefined,
    };
  });
}

export type Cell = string | number | null;
export type SummaryRow = Record<string, Cell>;

/** The loss column of a metric name (`total`, `style`, `style/conv1_1`). */
export function lossColumn(metric: string): string {
  return LOSS_PREFIX + metric;
}

/** A swept value as a table cell: numbers stay numbers (for sorting and plots), the rest is text. */
function cell(value: unknown): Cell {
  return typeof value === 'number' ? value : formatValue(value);
}

/**
 * One row per run: index, id, status, the swept values, iterations, wall_s, stop_reason, the final
 * weighted groups (`loss_total`, `loss_content`, `loss_style`, `loss_tv`) and unweighted leaf terms
 * (`loss_style/conv1_1`, …), attempt, host, dir. Columns are the same for every row.
 */
export function summaryRows(sweep: Sweep, records: readonly RunRecord[] = collectRecords(sweep)): SummaryRow[] {
  // The standard groups, then any the objectives nest (a region's `style/sky`).
  const groups = [...new Set([...LOSS_COLUMNS, ...records.flatMap((r) => (r.final ? Object.keys(logGroups(r.final)) : []))])];
  // A leaf named like a group (the unweighted `tv`) would overwrite the group's column.
  const terms = [...new Set(records.flatMap((r) => Object.keys(r.final?.terms ?? {})))].filter((t) => !groups.includes(t));
  const round = (v: number | undefined, digits: number) => (v === undefined ? null : Number(v.toFixed(digits)));
  return records.map((r) => {
    const row: SummaryRow = { index: r.run.index, id: r.run.id, status: r.state };
    for (const p of sweep.spec.parameters) row[p.name] = cell(r.run.params[p.name]);
    row.iterations = r.iterations ?? null;
    row.wall_s = round(r.wallMs === undefined ? undefined : r.wallMs / 1000, 2);
    row.stop_reason = r.stopReason ?? null;
    if (sweep.spec.kind === 'video') {
      row.mean_warping_error = r.clip?.meanWarpingError ?? null;
      row.frames_per_minute = round(r.clip?.framesPerMinute ?? undefined, 3);
    }
    for (const g of groups) row[lossColumn(g)] = r.final ? (g === 'total' ? r.final.total : (logGroups(r.final)[g] ?? null)) : null;
    for (const t of terms) row[lossColumn(t)] = r.final?.terms[t] ?? null;
    row.attempt = r.status?.attempt ?? null;
    row.host = r.status?.host ?? null;
    row.dir = r.run.dir;
    return row;
  });
}

/** The rows as a danfojs DataFrame, columns in row order. */
export function summaryFrame(rows: readonly SummaryRow[]): DataFrame {
  const columns = rows.length > 0 ? Object.keys(rows[0]!) : [];
  return new DataFrame(rows.map((r) => columns.map((c) => r[c] ?? null)), { columns });
}

function csvField(v: unknown): string {
  if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * RFC 4180 CSV of a DataFrame. danfojs' own toCSV neither quotes fields (layer sets hold commas)
 * nor writes atomically.
 */
export function frameToCsv(frame: DataFrame): string {
  const lines = [frame.columns.map(csvField).join(','), ...(frame.values as unknown[][]).map((r) => r.map(csvField).join(','))];
  return lines.join('\n') + '\n';
}

/** Writes `<out>/<name>/summary.csv` and returns its path with the frame. */
export async function writeSummary(sweep: Sweep, records: readonly RunRecord[] = collectRecords(sweep)): Promise<{ path: string; frame: DataFrame }> {
  const frame = summaryFrame(summaryRows(sweep, records));
  const path = join(sweep.dir, SUMMARY_FILE);
  await writeFileAtomic(path, frameToCsv(frame));
  return { path, frame };
}

export interface SweepReport {
  sweep: Sweep;
  records: RunRecord[];
  rows: SummaryRow[];
  frame: DataFrame;
}

/** For notebooks: a sweep file's results as rows and a DataFrame, read from disk (nothing is run). */
export function loadSweepReport(path: string, options: ExpandOptions = {}): SweepReport {
  const sweep = loadSweep(path, options);
  const records = collectRecords(sweep);
  const rows = summaryRows(sweep, records);
  return { sweep, records, rows, frame: summaryFrame(rows) };
}

/** Columns of summary.csv that locate a run rather than describe its result (left out of results tables). */
const LOCATORS = ['id', 'dir', 'host', 'attempt', 'stop_reason'];

/** A results table: per run its swept values, status, iterations, wall time and final losses. */
export function resultsFrame(sweep: Sweep, records: readonly RunRecord[]): DataFrame {
  const rows = summaryRows(sweep, records).map((row) => Object.fromEntries(Object.entries(row).filter(([k]) => !LOCATORS.includes(k))));
  return summaryFrame(rows);
}

/** The style taps a run logged terms for, in order (its presets expanded): from its metrics. */
export function styleTaps(record: RunRecord): string[] {
  return Object.keys(record.history[0]?.terms ?? {})
    .filter((t) => t.startsWith('style/'))
    .map((t) => t.slice('style/'.length));
}
