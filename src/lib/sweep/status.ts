/**
 * `status.json` in each run folder: what a sweep knows about a run across machines and restarts
 * (state, attempt, host, pid, times, heartbeat, error). Written atomically, so a killed process
 * leaves the previous complete version, never half a file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_STALE_MS, liveLockHolder, pidAlive } from '../run/lock';
import { RUN_FILES, writeJson } from '../run/store';
import { FINISHED, type RunResult, type StepLogs } from '../run/types';

export { DEFAULT_STALE_MS };

export const STATUS_FILE = 'status.json';

/**
 * RUNNING / COMPLETED / FAILED, plus INTERRUPTED (stopped by SIGTERM or Ctrl-C, with a snapshot) and,
 * for runs that have no status yet, PENDING.
 */
export type RunState = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'INTERRUPTED';

export interface RunStatus {
  state: Exclude<RunState, 'PENDING'>;
  sweep: string;
  index: number;
  runId: string;
  /** 1 for the first try; each restart of an unfinished run adds one. */
  attempt: number;
  host: string;
  pid: number;
  startedAt: string;
  /** Updated as iterations end (at most every few seconds) and on every state change. */
  heartbeatAt: string;
  finishedAt?: string;
  iteration: number;
  iterations: number;
  stopReason?: string;
  wallMs?: number;
  error?: string;
  /** The scheduler's ids, when there is one (Slurm job/array ids, the Indexed Job's index). */
  scheduler?: Record<string, string>;
}

const SCHEDULER_ENV = ['SLURM_JOB_ID', 'SLURM_ARRAY_JOB_ID', 'SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX'];

export function readStatus(dir: string): RunStatus | undefined {
  const path = join(dir, STATUS_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunStatus;
  } catch {
    // Only an edit by hand can break an atomically written file; treat it as unknown, i.e. rerun.
    return undefined;
  }
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** A finished result: final.png and a summary.json that says so (both written by the engine, last). */
function finishedByEngine(dir: string): boolean {
  if (!existsSync(join(dir, RUN_FILES.final))) return false;
  const summary = readJson<{ stopReason?: string }>(join(dir, RUN_FILES.summary));
  return (FINISHED as readonly unknown[]).includes(summary?.stopReason);
}

/** The state the engine's own files tell, for a folder without a (current) status.json. */
function engineState(dir: string): RunState {
  if (finishedByEngine(dir)) return 'COMPLETED';
  if (readJson<{ stopReason?: string }>(join(dir, RUN_FILES.summary))?.stopReason === 'diverged') return 'FAILED';
  return existsSync(join(dir, RUN_FILES.config)) ? 'INTERRUPTED' : 'PENDING';
}

/** Whether the engine began an attempt (an `nst run` into the folder) after the status's attempt ended. */
function newerAttempt(dir: string, status: RunStatus): boolean {
  if (!status.finishedAt) return false;
  const started = readJson<{ startedAt?: string }>(join(dir, RUN_FILES.config))?.startedAt;
  return started !== undefined && Date.parse(started) > Date.parse(status.finishedAt);
}


/**
 * Whether a RUNNING status belongs to a process that is still at work: on this host, its pid is alive;
 * on another, its heartbeat is recent.
 */
export function isLive(status: RunStatus, staleMs = DEFAULT_STALE_MS, now = Date.now()): boolean {
  if (status.state !== 'RUNNING') return false;
  if (status.host === hostname()) return status.pid !== process.pid && pidAlive(status.pid);
  return now - Date.parse(status.heartbeatAt) < staleMs;
}

/** Whether a status was written by an earlier attempt of this same array task (requeued by Slurm). */
export function sameSchedulerTask(status: RunStatus, env: NodeJS.ProcessEnv = process.env): boolean {
  const job = env.SLURM_ARRAY_JOB_ID;
  return !!job && status.scheduler?.SLURM_ARRAY_JOB_ID === job && status.scheduler?.SLURM_ARRAY_TASK_ID === env.SLURM_ARRAY_TASK_ID;
}

/**
 * The state to show and act on. A live lock on the folder is RUNNING, whoever holds it; a RUNNING status
 * whose process is gone reads as INTERRUPTED; a status older than the engine's latest attempt (an
 * `nst run` into the folder since) gives way to what the engine's files say.
 */
export function runState(dir: string, staleMs = DEFAULT_STALE_MS): RunState {
  return liveLockHolder(dir, staleMs) ? 'RUNNING' : stateOnDisk(dir, staleMs);
}

/** runState without the lock: what the folder's files say (for the holder of the lock itself). */
export function stateOnDisk(dir: string, staleMs = DEFAULT_STALE_MS): RunState {
  const status = readStatus(dir);
  if (!status || newerAttempt(dir, status)) return engineState(dir);
  if (status.state === 'RUNNING' && !isLive(status, staleMs)) return 'INTERRUPTED';
  return status.state;
}

function schedulerIds(): Record<string, string> | undefined {
  const ids = Object.fromEntries(SCHEDULER_ENV.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!]));
  return Object.keys(ids).length > 0 ? ids : undefined;
}

/** Heartbeats more often than this only cost disk writes. */
const HEARTBEAT_MS = 5000;

/** Keeps one run's status.json current from start to end. */
export class StatusWriter {
  private status: RunStatus;
  private lastBeat = 0;

  private constructor(
    readonly dir: string,
    status: RunStatus,
  ) {
    this.status = status;
  }

  /** Marks the run RUNNING (a new attempt if an earlier one did not finish). */
  static async start(dir: string, run: { sweep: string; index: number; runId: string; iterations: number }): Promise<StatusWriter> {
    const previous = readStatus(dir);
    const now = new Date().toISOString();
    const writer = new StatusWriter(dir, {
      state: 'RUNNING',
      ...run,
      attempt: (previous?.attempt ?? 0) + 1,
      host: hostname(),
      pid: process.pid,
      startedAt: now,
      heartbeatAt: now,
      iteration: 0,
      scheduler: schedulerIds(),
    });
    await writer.write();
    return writer;
  }

  get current(): Readonly<RunStatus> {
    return this.status;
  }

  async heartbeat(logs: StepLogs): Promise<void> {
    this.status.iteration = logs.iteration;
    if (Date.now() - this.lastBeat < HEARTBEAT_MS) return;
    await this.write();
  }

  async finish(result: RunResult): Promise<void> {
    const wallMs = Date.now() - Date.parse(this.status.startedAt);
    const state = (FINISHED as readonly string[]).includes(result.stopReason) ? 'COMPLETED' : 'INTERRUPTED';
    Object.assign(this.status, { state, stopReason: result.stopReason, iteration: result.history.length > 0 ? result.history[result.history.length - 1]!.iteration : 0, wallMs });
    await this.end();
  }

  /** A clip's end: `frames` is how many of its frames are done. */
  async finishClip(stopReason: 'completed' | 'interrupted', frames: number): Promise<void> {
    const wallMs = Date.now() - Date.parse(this.status.startedAt);
    Object.assign(this.status, { state: stopReason === 'completed' ? 'COMPLETED' : 'INTERRUPTED', stopReason, iteration: frames, wallMs });
    await this.end();
  }

  async fail(error: string): Promise<void> {
    Object.assign(this.status, { state: 'FAILED', error, wallMs: Date.now() - Date.parse(this.status.startedAt) });
    await this.end();
  }

  private async end(): Promise<void> {
    this.status.finishedAt = new Date().toISOString();
    await this.write();
  }

  private async write(): Promise<void> {
    this.lastBeat = Date.now();
    this.status.heartbeatAt = new Date(this.lastBeat).toISOString();
    await writeJson(join(this.dir, STATUS_FILE), this.status);
  }
}
