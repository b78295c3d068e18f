/**
 * The results store: where a run's files live and how they are written. A run lands in
 * `<out>/<experiment>/<runId>/`, and runId is derived from the resolved config, so the same config
 * always lands in the same place (a sweep's run and the same `nst run` share results).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { DEFAULT_CONFIG, LATER_KEYS, type RunConfig } from '../config';
import { NstError } from '../errors';
import { writeFileAtomic } from '../image/io';
import { describeFsError } from './fs-errors';
import { logGroups, type StepLogs } from './types';

/**
 * Keys that change where or how a run is reported, not what it computes. The backend is part of the
 * identity when one is named (a cpu and a wasm run of a config differ in the last bits); `auto` means
 * "whichever runs here", so it is left out.
 */
const NOT_IN_ID: readonly (keyof RunConfig)[] = ['out', 'experiment', 'printEvery', 'saveEvery'];

/** Hex digits of the config hash in a run id: 64 bits, so that 10⁶ runs collide with odds of ~3·10⁻⁸. */
const ID_HEX_DIGITS = 16;

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function stem(path: string): string {
  return basename(path, extname(path)).replace(/[^\w-]+/g, '_').slice(0, 24) || 'none';
}

/**
 * The keys binding a config to its network may change (presets → tap names, the style loss spelled
 * per layer, `auto`'s fallback β): config.json keeps them as requested too, for storedConfigDifference.
 */
export const BOUND_KEYS = ['network', 'contentLayers', 'styleLayers', 'styleLoss', 'styleWeight'] as const satisfies readonly (keyof RunConfig)[];

/** True for a key left out of the identity at this value: backend `auto`, and LATER_KEYS at their default. */
function leftOut(key: string, value: unknown): boolean {
  if (key === 'backend') return value === 'auto';
  return (LATER_KEYS as readonly string[]).includes(key) && canonical(value) === canonical(DEFAULT_CONFIG[key as keyof RunConfig]);
}

/** The part of a resolved config that decides what a run computes (what its id hashes). */
function runIdentity(cfg: RunConfig): Record<string, unknown> {
  return Object.fromEntries(Object.entries(cfg).filter(([k, v]) => !NOT_IN_ID.includes(k as keyof RunConfig) && !leftOut(k, v)));
}

/** The config keys a run id can depend on, in the order the identity is hashed. */
export const IDENTITY_KEYS: readonly string[] = Object.freeze(Object.keys(DEFAULT_CONFIG).filter((k) => !NOT_IN_ID.includes(k as keyof RunConfig)).sort());

/** One key's part of the hashed identity, `"key":value`, or '' when the key is left out (leftOut). */
export function identityFragment(cfg: RunConfig, key: string): string {
  const value = (cfg as unknown as Record<string, unknown>)[key];
  if (leftOut(key, value)) return '';
  return `${JSON.stringify(key)}:${canonical(value)}`;
}

/**
 * `<content>-<style>-<hash>` from the identity's fragments in IDENTITY_KEYS order (a sweep assembles
 * them for a 10⁶-run grid without resolving every run): readable, and unique to what the run computes.
 */
export function composeRunId(content: string, style: readonly string[], fragments: readonly string[]): string {
  const hash = createHash('sha256').update(`{${fragments.filter((f) => f !== '').join(',')}}`).digest('hex').slice(0, ID_HEX_DIGITS);
  return `${content ? stem(content) : 'texture'}-${style.map(stem).join('+')}-${hash}`;
}

/** `<content>-<style>-<hash>`: readable, and unique to what the run computes. */
export function runIdFor(cfg: RunConfig): string {
  return composeRunId(cfg.content, cfg.style, IDENTITY_KEYS.map((k) => identityFragment(cfg, k)));
}

export function runDir(cfg: RunConfig): string {
  return join(cfg.out, cfg.experiment, runIdFor(cfg));
}

export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.csv',
  final: 'final.png',
  /** The result as it ran, beside a final.png that colour controls changed. */
  finalRaw: 'final-raw.png',
  summary: 'summary.json',
  snapshots: 'snapshots',
  checkpoint: 'checkpoint.bin',
  lock: 'lock.json',
} as const;

/**
 * Where the config.json stored in a run folder differs from `cfg` in what the run computes, as
 * `key: stored → now`; undefined when it matches or there is none. A folder is reused (resumed, or
 * skipped as done) only when it matches: an id is a hash, and a folder can be edited by hand.
 */
export function storedConfigDifference(dir: string, cfg: RunConfig): string | undefined {
  const path = join(dir, RUN_FILES.config);
  if (!existsSync(path)) return undefined;
  let stored: Record<string, unknown>;
  try {
    stored = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return 'config.json is not valid JSON';
  }
  // config.json records the backend as {name, device, requested}; the config asked for `requested`.
  // Its top-level keys are what ran, bound to the network; `requested` holds those keys as asked.
  const backend = stored.backend as { requested?: unknown } | undefined;
  const asked = typeof stored.requested === 'object' && stored.requested !== null ? (stored.requested as Record<string, unknown>) : {};
  const asConfig = { ...stored, ...asked, backend: typeof backend === 'object' && backend !== null ? backend.requested : backend } as unknown as RunConfig;
  const [was, now] = [runIdentity(asConfig), runIdentity(cfg)];
  // config.json also holds what the run recorded (runId, versions, host, …): only config keys count.
  for (const key of Object.keys(now)) {
    if (canonical(was[key]) !== canonical(now[key])) return `${key}: ${canonical(was[key]) ?? '(none)'} → ${canonical(now[key]) ?? '(none)'}`;
  }
  return undefined;
}

export function snapshotPath(dir: string, iteration: number): string {
  return join(dir, RUN_FILES.snapshots, `iter_${String(iteration).padStart(5, '0')}.png`);
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

const FIXED_COLUMNS = ['iteration', 'elapsed_ms', 'evaluations', 'total'] as const;

/** The groups every objective has, always columns (readers name them); other groups follow the objective tree. */
const STANDARD_GROUPS = ['content', 'style', 'tv'] as const;

/** The columns of a run's rows: its objective's weighted groups and leaf terms, and a stage column for a coarse-to-fine run. */
export interface MetricsColumns {
  groups: readonly string[];
  terms: readonly string[];
  staged?: boolean;
}

/** Where a resumed run continues: rows after it are dropped. */
export interface MetricsPosition {
  iteration: number;
  /** The stage of a coarse-to-fine run (rows of earlier stages are kept whole). */
  stage?: number;
}

/**
 * metrics.csv: one row per iterate (0: the starting image, the last: the final image; a coarse-to-fine
 * run: per stage), appended as the run goes so a killed run keeps its curve. The columns are
 * `[stage,] iteration, elapsed_ms, evaluations, total`, the groups and the leaf terms (a run of the
 * plain objective: `content, style, tv`, then `content/conv4_2, style/conv1_1, …`). A row is written
 * whole or not at all: when a write fails part way (a full disk), the file is cut back to where the
 * row began.
 */
export class MetricsCsv {
  private constructor(
    readonly path: string,
    private readonly columns: MetricsColumns,
  ) {}

  static header(c: MetricsColumns): string {
    return [...(c.staged ? ['stage'] : []), ...FIXED_COLUMNS, ...c.groups, ...c.terms].join(',') + '\n';
  }

  static async create(dir: string, columns: MetricsColumns): Promise<MetricsCsv> {
    const csv = new MetricsCsv(join(dir, RUN_FILES.metrics), columns);
    await writeFileAtomic(csv.path, MetricsCsv.header(columns));
    return csv;
  }

  /**
   * Continues the metrics.csv of an interrupted run from its checkpoint at `at`: the rows of that
   * iterate and after it (logged after the checkpoint, or as the interrupted run's final row, and about to
   * be computed again) are dropped, as is a partial last line. A coarse-to-fine run keeps earlier stages' rows.
   */
  static async resume(dir: string, columns: MetricsColumns, at: MetricsPosition): Promise<MetricsCsv> {
    const csv = new MetricsCsv(join(dir, RUN_FILES.metrics), columns);
    const header = MetricsCsv.header(columns);
    const text = existsSync(csv.path) ? readFileSync(csv.path, 'utf8') : header;
    if (!text.startsWith(header)) {
      throw new NstError(`${csv.path} has other columns than this run logs`, 'the folder holds another run: rerun with --restart');
    }
    const lines = text.slice(header.length).split('\n');
    lines.pop(); // the text after the last newline: '' or a row cut short
    const kept = lines.filter((l) => {
      const [first, second] = l.split(',', 2).map(Number);
      if (!columns.staged) return first! < at.iteration;
      return first! < (at.stage ?? 0) || (first === (at.stage ?? 0) && second! < at.iteration);
    });
    await writeFileAtomic(csv.path, header + kept.map((l) => l + '\n').join(''));
    return csv;
  }

  append(logs: StepLogs): void {
    const { groups, terms, staged } = this.columns;
    const g = logGroups(logs);
    const row = [...(staged ? [logs.stage ?? 0] : []), logs.iteration, Math.round(logs.elapsedMs), logs.evaluations, logs.total, ...groups.map((n) => g[n] ?? ''), ...terms.map((t) => logs.terms[t] ?? '')];
    const bytes = Buffer.from(row.join(',') + '\n');
    let fd: number | undefined;
    let size = 0;
    try {
      fd = openSync(this.path, 'a');
      size = fstatSync(fd).size;
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    } catch (e) {
      if (fd !== undefined) {
        try {
          ftruncateSync(fd, size);
        } catch {
          // The row stays cut short; parseMetricsCsv and resume() drop a partial last line.
        }
      }
      throw describeFsError(e, `cannot write the row of iteration ${logs.iteration} to metrics.csv (the file ends at the previous row)`, this.path);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

/**
 * A column after `total` is a group when it is one of the standard three or names a sum whose leaves
 * are columns too (`style/sky` beside `style/sky/conv1_1`): a sum's leaves are named below it.
 */
function isGroupColumn(name: string, columns: readonly string[]): boolean {
  return (STANDARD_GROUPS as readonly string[]).includes(name) || columns.some((c) => c.startsWith(`${name}/`));
}

/** Parses a metrics.csv back into StepLogs (for notebooks and reports). */
export function parseMetricsCsv(text: string): StepLogs[] {
  // A last line without its newline is a row cut short (by a crash of an older version): not a row.
  const whole = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  const [header, ...rows] = whole.trim().split('\n');
  const cols = header!.split(',');
  const after = cols.slice(cols.indexOf('total') + 1);
  const groupCols = after.filter((c) => isGroupColumn(c, after));
  const termCols = after.filter((c) => !groupCols.includes(c));
  const staged = cols.includes('stage');
  return rows.filter((r) => r.length > 0).map((r) => {
    const v = r.split(',').map(Number);
    const get = (name: string) => v[cols.indexOf(name)]!;
    const groups = Object.fromEntries(groupCols.map((c) => [c, get(c)]));
    const terms = Object.fromEntries(termCols.map((c) => [c, get(c)]));
    return {
      iteration: get('iteration'),
      elapsedMs: get('elapsed_ms'),
      evaluations: get('evaluations'),
      total: get('total'),
      content: groups.content ?? 0,
      style: groups.style ?? 0,
      tv: groups.tv ?? 0,
      groups,
      terms,
      ...(staged ? { stage: get('stage') } : {}),
    };
  });
}
