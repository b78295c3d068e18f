/**
 * One writer per run folder: `lock.json`, created atomically (written aside, then hard-linked into place,
 * which fails if it exists — also on NFS), names its owner (host, pid, a random token, the scheduler's
 * task) and is touched every HEARTBEAT_MS by a worker thread, so the heartbeat goes on while the main
 * thread is inside a long synchronous step.
 *
 * A lock is stale, and taken over, when its owner is gone: on the same host, its pid is dead or its
 * heartbeat is older than `staleMs`; on another host (a cluster's shared file system), its heartbeat is
 * older than `staleMs`; or it was left by an earlier attempt of the same Slurm array task (a requeue).
 * Taking over renames the stale file aside and checks that it was the one judged stale, so two
 * processes breaking one stale lock cannot both win. The owner's worker checks on every beat that the
 * file is still its own; a run that lost its lock (it was judged stale while suspended, say) stops.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { NstError } from '../errors';
import { describeFsError } from './fs-errors';
import { RUN_FILES } from './store';

/** Ten minutes without a heartbeat from another machine means that machine is gone. */
export const DEFAULT_STALE_MS = 10 * 60 * 1000;

/** How often the owner touches its lock. */
export const HEARTBEAT_MS = 30 * 1000;

export interface LockOwner {
  host: string;
  pid: number;
  /** Random, per acquisition: tells two locks of one process apart. */
  token: string;
  startedAt: string;
  /** What holds it, for the message the next writer gets (e.g. `nst run`, `nst sweep smoke #3`). */
  what: string;
  /** Slurm's array job and task ids, when there are any. */
  scheduler?: Record<string, string>;
}

/** The owner of a lock as read from disk, with the time of its last heartbeat. */
export interface LockHolder extends LockOwner {
  heartbeatMs: number;
}

export interface LockOptions {
  /** What is taking the lock, in the holder's message to others. */
  what?: string;
  staleMs?: number;
  heartbeatMs?: number;
  env?: NodeJS.ProcessEnv;
}

function lockPath(dir: string): string {
  return join(dir, RUN_FILES.lock);
}

/** Whether a process of this host is alive (EPERM: alive, but another user's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function schedulerIds(env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const job = env.SLURM_ARRAY_JOB_ID;
  return job ? { SLURM_ARRAY_JOB_ID: job, SLURM_ARRAY_TASK_ID: env.SLURM_ARRAY_TASK_ID ?? '' } : undefined;
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return { ...owner, heartbeatMs: statSync(path).mtimeMs };
  } catch {
    return undefined;
  }
}

/** Whether the holder of a lock is still at work (see the module comment for the rule). */
export function isLiveHolder(holder: LockHolder, staleMs = DEFAULT_STALE_MS, env: NodeJS.ProcessEnv = process.env, now = Date.now()): boolean {
  const mine = schedulerIds(env);
  if (mine && holder.scheduler?.SLURM_ARRAY_JOB_ID === mine.SLURM_ARRAY_JOB_ID && holder.scheduler?.SLURM_ARRAY_TASK_ID === mine.SLURM_ARRAY_TASK_ID) return false;
  const fresh = now - holder.heartbeatMs < staleMs;
  if (holder.host === hostname()) return fresh && pidAlive(holder.pid);
  return fresh;
}

/** The live holder of a run folder's lock, if any. */
export function liveLockHolder(dir: string, staleMs = DEFAULT_STALE_MS, env: NodeJS.ProcessEnv = process.env): LockHolder | undefined {
  const holder = readHolder(lockPath(dir));
  return holder && isLiveHolder(holder, staleMs, env) ? holder : undefined;
}

/** One line about who holds a lock, for messages. */
export function describeHolder(h: LockHolder): string {
  const ago = Math.max(0, Math.round((Date.now() - h.heartbeatMs) / 1000));
  return `${h.what} (pid ${h.pid} on ${h.host}, since ${h.startedAt}, heartbeat ${ago} s ago)`;
}

/** Link-free file systems (some FUSE and SMB mounts) get O_EXCL instead, which NFSv3+ also honours. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/** Creates the lock file with `text` unless it exists; false when it does. */
function createExclusive(path: string, text: string, token: string): boolean {
  const aside = `${path}.${token}.new`;
  writeFileSync(aside, text);
  try {
    linkSync(aside, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (!code || !NO_LINKS.has(code)) throw e;
    try {
      writeFileSync(path, text, { flag: 'wx' });
      return true;
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e2;
    }
  } finally {
    unlinkSync(aside);
  }
}

/** Removes a stale lock if it is still the one judged stale (identified by its token). */
function breakStale(path: string, stale: LockHolder | undefined, token: string): void {
  const aside = `${path}.${token}.stale`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else broke it first
    throw e;
  }
  const moved = readHolder(aside);
  if (moved?.token !== stale?.token) {
    // Another process replaced the stale lock meanwhile: put its fresh lock back.
    try {
      linkSync(aside, path);
    } catch {
      // A third lock exists already; the one moved aside lost, and its owner notices on its next beat.
    }
  }
  unlinkSync(aside);
}

/** The heartbeat: plain JavaScript in a worker thread, so that it beats during synchronous steps. */
const HEARTBEAT_WORKER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { path, token, intervalMs, flag } = workerData;
const lost = new Int32Array(flag);
const timer = setInterval(() => {
  try {
    if (JSON.parse(fs.readFileSync(path, 'utf8')).token !== token) throw Object.assign(new Error('replaced'), { code: 'ENOENT' });
    const now = new Date();
    fs.utimesSync(path, now, now);
  } catch (e) {
    // Gone or replaced: lost. Anything else (a network file system's hiccup): try again next beat.
    if (e.code === 'ENOENT' || e instanceof SyntaxError) {
      Atomics.store(lost, 0, 1);
      clearInterval(timer);
    }
  }
}, intervalMs);
`;

export class RunLock {
  private constructor(
    readonly dir: string,
    readonly owner: LockOwner,
    private readonly worker: Worker,
    private readonly lostFlag: Int32Array,
  ) {}

  /**
   * Takes the lock of `dir` (which must exist), or returns its live holder. Stale locks are taken over.
   */
  static tryAcquire(dir: string, options: LockOptions = {}): RunLock | LockHolder {
    const { staleMs = DEFAULT_STALE_MS, heartbeatMs = HEARTBEAT_MS, env = process.env } = options;
    const path = lockPath(dir);
    const token = randomBytes(8).toString('hex');
    const owner: LockOwner = { host: hostname(), pid: process.pid, token, startedAt: new Date().toISOString(), what: options.what ?? 'nst', scheduler: schedulerIds(env) };
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        if (createExclusive(path, JSON.stringify(owner, null, 2) + '\n', token)) {
          const flag = new Int32Array(new SharedArrayBuffer(4));
          const worker = new Worker(HEARTBEAT_WORKER, { eval: true, workerData: { path, token, intervalMs: heartbeatMs, flag: flag.buffer } });
          worker.unref();
          return new RunLock(dir, owner, worker, flag);
        }
        const holder = readHolder(path);
        if (holder ? isLiveHolder(holder, staleMs, env) : freshFile(path, staleMs)) return holder ?? unknownHolder(path);
        breakStale(path, holder, token);
      }
    } catch (e) {
      throw describeFsError(e, 'cannot create the run lock', path);
    }
    throw new NstError(`cannot take the lock of ${dir}: other processes keep replacing it`, 'is a sweep of the same runs starting on many machines at once? try again');
  }

  /** Takes the lock or throws an NstError naming the process that holds it. */
  static acquire(dir: string, options: LockOptions = {}): RunLock {
    const got = RunLock.tryAcquire(dir, options);
    if (got instanceof RunLock) return got;
    throw new NstError(
      `another process is writing ${dir}: ${describeHolder(got)}`,
      `wait for it to end or stop it; a lock whose process is gone is taken over (from another host after ${Math.round((options.staleMs ?? DEFAULT_STALE_MS) / 60000)} min without a heartbeat)`,
    );
  }

  /** True when another process took the lock over (this one's was judged stale). */
  get lost(): boolean {
    return Atomics.load(this.lostFlag, 0) === 1;
  }

  /** Stops the heartbeat and removes the lock, if it is still this one's. */
  async release(): Promise<void> {
    await this.worker.terminate();
    const path = lockPath(this.dir);
    if (readHolder(path)?.token !== this.owner.token) return;
    try {
      unlinkSync(path);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

/** A lock file that cannot be parsed is one being written (O_EXCL fallback) while it is fresh. */
function freshFile(path: string, staleMs: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < staleMs;
  } catch {
    return false;
  }
}

function unknownHolder(path: string): LockHolder {
  let heartbeatMs = Date.now();
  try {
    heartbeatMs = statSync(path).mtimeMs;
  } catch {
    // Removed meanwhile: its time does not matter.
  }
  return { host: '?', pid: 0, token: '', startedAt: '?', what: 'a process whose lock file is still being written', heartbeatMs };
}
