/**
 * The results store: where a run's files live and how they are written. A run lands in
 * `<out>/<experiment>/<runId>/`, and runId is derived from the resolved config, so the same config
 * always lands in the same place (a sweep's run and the same `nst run` share results).
 */
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { RunConfig } from '../config';
import { writeFileAtomic } from '../image/io';
import type { StepLogs } from './types';

/** Keys that change where or how a run is reported, not what it computes. */
const NOT_IN_ID: readonly (keyof RunConfig)[] = ['out', 'experiment', 'printEvery', 'saveEvery', 'backend'];

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

/** `<content>-<style>-<hash>`: readable, and unique to what the run computes. */
export function runIdFor(cfg: RunConfig): string {
  const identity = Object.fromEntries(Object.entries(cfg).filter(([k]) => !NOT_IN_ID.includes(k as keyof RunConfig)));
  const hash = createHash('sha256').update(canonical(identity)).digest('hex').slice(0, 10);
  const style = cfg.style.map(stem).join('+');
  return `${cfg.content ? stem(cfg.content) : 'texture'}-${style}-${hash}`;
}

export function runDir(cfg: RunConfig): string {
  return join(cfg.out, cfg.experiment, runIdFor(cfg));
}

export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.csv',
  final: 'final.png',
  summary: 'summary.json',
  snapshots: 'snapshots',
} as const;

export function snapshotPath(dir: string, iteration: number): string {
  return join(dir, RUN_FILES.snapshots, `iter_${String(iteration).padStart(5, '0')}.png`);
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

const FIXED_COLUMNS = ['iteration', 'elapsed_ms', 'evaluations', 'total', 'content', 'style', 'tv'] as const;

/** metrics.csv: one row per iteration, appended as the run goes so a killed run keeps its curve. */
export class MetricsCsv {
  private constructor(
    readonly path: string,
    private readonly terms: readonly string[],
  ) {}

  static async create(dir: string, terms: readonly string[]): Promise<MetricsCsv> {
    const csv = new MetricsCsv(join(dir, RUN_FILES.metrics), terms);
    await writeFileAtomic(csv.path, [...FIXED_COLUMNS, ...terms].join(',') + '\n');
    return csv;
  }

  append(logs: StepLogs): void {
    const row = [logs.iteration, Math.round(logs.elapsedMs), logs.evaluations, logs.total, logs.content, logs.style, logs.tv, ...this.terms.map((t) => logs.terms[t] ?? '')];
    appendFileSync(this.path, row.join(',') + '\n');
  }
}

/** Parses a metrics.csv back into StepLogs (for notebooks and reports). */
export function parseMetricsCsv(text: string): StepLogs[] {
  const [header, ...rows] = text.trim().split('\n');
  const cols = header!.split(',');
  return rows.filter((r) => r.length > 0).map((r) => {
    const v = r.split(',').map(Number);
    const get = (name: string) => v[cols.indexOf(name)]!;
    const terms: Record<string, number> = {};
    cols.slice(FIXED_COLUMNS.length).forEach((c, i) => (terms[c] = v[FIXED_COLUMNS.length + i]!));
    return {
      iteration: get('iteration'),
      elapsedMs: get('elapsed_ms'),
      evaluations: get('evaluations'),
      total: get('total'),
      content: get('content'),
      style: get('style'),
      tv: get('tv'),
      terms,
    };
  });
}
