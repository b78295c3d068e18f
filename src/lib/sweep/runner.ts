/**
 * Runs a sweep's unfinished runs, here or as one task of a job array. Re-running resumes: COMPLETED
 * runs are skipped and never touched, interrupted ones continue from their checkpoint (the engine's
 * resume, which also continues metrics.csv) or start again when they had none, and runs another live
 * process holds the lock of are left to it — so two `nst sweep`s of one file share the work.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, NstError } from '../errors';
import { projectRoot } from '../paths';
import { runVideo } from '../video/video-run';
import { describeHolder, RunLock } from '../run/lock';
import { prepareRunFolder } from '../run/output-folder';
import { formatDuration, ProgressBar } from '../run/progress';
import { run } from '../run/run';
import { storedConfigDifference } from '../run/store';
import type { RunConfig } from '../config';
import type { RunCallbacks, StepLogs } from '../run/types';
import type { Sweep, SweepRun } from './expand';
import { DEFAULT_STALE_MS, isLive, readStatus, runState, sameSchedulerTask, stateOnDisk, StatusWriter, type RunState } from './status';

/** The engine's own lines for one run (header, progress, end) are appended here. */
export const RUN_LOG = 'run.log';

export interface SweepRunOptions {
  /** Run only this index (a Slurm array task, an Indexed Job pod, a child of `jobs`), unless COMPLETED. */
  index?: number;
  /** Runs at once, each in its own `nst sweep FILE --index I` process; 1 (default) runs them here. */
  jobs?: number;
  /** Aborting stops the current runs at their next iteration, with a snapshot, and starts no more. */
  signal?: AbortSignal;
  /** Sweep-level lines: which run starts and how it ended (default console.log; null: silent). */
  log?: ((line: string) => void) | null;
  /** Also send the engine's lines here (they always go to `<run dir>/run.log`). */
  engineLog?: ((line: string) => void) | null;
  /** A runs-done bar with ETA on stderr (default: when stderr is a TTY). */
  progress?: boolean;
  /** A RUNNING status from another host without a heartbeat for this long is taken as dead. */
  staleMs?: number;
  /** More callbacks for each run this process runs (jobs 1): a notebook's live display. */
  callbacks?: (r: SweepRun) => RunCallbacks | RunCallbacks[];
}

export interface SweepOutcome {
  /** Indices this call ran (or tried to). */
  ran: number[];
  /** State of every run after this call, by index. */
  states: RunState[];
  /** Runs left to a live process elsewhere. */
  busy: number[];
  interrupted: boolean;
}

/** The run folders that exist (one directory read), so that a scan need not look at the others. */
function existingRunIds(sweep: Sweep): Set<string> {
  try {
    return new Set(readdirSync(sweep.dir));
  } catch {
    return new Set();
  }
}

/** What a scan makes of a run: done (COMPLETED, of this very config), busy (a live process has it), or to do. */
function disposition(r: SweepRun, staleMs: number, existing: Set<string>): 'done' | 'busy' | 'todo' {
  if (!existing.has(r.id)) return 'todo';
  const state = runState(r.dir, staleMs);
  // A COMPLETED folder of another config (a hand edit, a hash collision) is not this run's result; the
  // engine refuses to overwrite it, and the run is reported FAILED with the difference.
  if (state === 'COMPLETED') return storedConfigDifference(r.dir, r.config) ? 'todo' : 'done';
  return state === 'RUNNING' ? 'busy' : 'todo';
}

interface Scan {
  todo: number[];
  busy: number[];
  completed: number;
}

/** One pass over the runs, building each from its index: nothing is kept but indices. */
function scan(sweep: Sweep, staleMs: number): Scan {
  const existing = existingRunIds(sweep);
  const found: Scan = { todo: [], busy: [], completed: 0 };
  for (let i = 0; i < sweep.size; i++) {
    const d = disposition(sweep.run(i), staleMs, existing);
    if (d === 'done') found.completed++;
    else if (d === 'busy') found.busy.push(i);
    else found.todo.push(i);
  }
  return found;
}

/** The runs a scan should start: not COMPLETED and not being worked on by a live process. */
export function runsToDo(sweep: Sweep, staleMs = DEFAULT_STALE_MS): { todo: SweepRun[]; busy: SweepRun[] } {
  const { todo, busy } = scan(sweep, staleMs);
  return { todo: todo.map((i) => sweep.run(i)), busy: busy.map((i) => sweep.run(i)) };
}

/** A missing image is reported for the whole sweep before any run starts. */
function checkInputs(sweep: Sweep, only?: SweepRun): void {
  const where = sweep.spec.source ? `${sweep.spec.source}: ` : '';
  const images = only ? new Map([only.config.content, ...only.config.style].filter(Boolean).map((p) => [p, only.index])) : sweep.images;
  for (const [path, index] of images) {
    if (!existsSync(path)) throw new NstError(`${where}run ${index}: image not found: ${path}`, 'paths are relative to the directory nst runs in');
  }
}

/**
 * Takes a run for this process: its folder's lock, unless a live process holds it (RUNNING) or the
 * run is COMPLETED by now (another sweep finished it since this one looked).
 */
export async function claimRun(r: SweepRun, options: { staleMs?: number; what: string }): Promise<RunLock | { taken: 'RUNNING' | 'COMPLETED'; why: string }> {
  prepareRunFolder(r.dir);
  const lock = RunLock.tryAcquire(r.dir, { what: options.what, staleMs: options.staleMs });
  if (!(lock instanceof RunLock)) return { taken: 'RUNNING', why: `run ${r.index} is being written by ${describeHolder(lock)}; leaving it to that process` };
  if (stateOnDisk(r.dir, options.staleMs) === 'COMPLETED' && !storedConfigDifference(r.dir, r.config)) {
    await lock.release();
    return { taken: 'COMPLETED', why: `run ${r.index} was completed meanwhile by another process` };
  }
  return lock;
}

type RunOneOptions = Pick<SweepRunOptions, 'signal' | 'engineLog' | 'staleMs'> & { onIteration?: (iteration: number) => void; log?: ((line: string) => void) | null; callbacks?: RunCallbacks | RunCallbacks[] };

/**
 * Runs one sweep run in this process under its folder's lock, keeping its status.json current. Returns
 * how it ended, or, touching nothing, RUNNING when another live process holds it and COMPLETED when
 * another process finished it meanwhile.
 */
export async function runOne(sweep: Sweep, r: SweepRun, options: RunOneOptions = {}): Promise<RunState> {
  const claim = await claimRun(r, { staleMs: options.staleMs, what: `nst sweep ${sweep.spec.name} (run ${r.index})` });
  if (!(claim instanceof RunLock)) {
    options.log?.(claim.why);
    return claim.taken;
  }
  return runClaimed(sweep, r, claim, options);
}

async function runClaimed(sweep: Sweep, r: SweepRun, lock: RunLock, options: RunOneOptions): Promise<RunState> {
  try {
    const logPath = join(r.dir, RUN_LOG);
    // A large grid's run is resolved here first: a combination the spec's values do not allow fails alone.
    let config: RunConfig | undefined;
    let invalid: unknown;
    try {
      config = r.config;
    } catch (e) {
      if (!(e instanceof NstError)) throw e;
      invalid = e;
    }
    const status = await StatusWriter.start(r.dir, { sweep: sweep.spec.name, index: r.index, runId: r.id, iterations: config?.iterations ?? 0 });
    if (!config) {
      appendFileSync(logPath, describeError(invalid) + '\n');
      await status.fail(describeError(invalid));
      return status.current.state;
    }
    appendFileSync(logPath, `--- attempt ${status.current.attempt} on ${status.current.host} (pid ${process.pid}) at ${status.current.startedAt}\n`);
    const engineLog = (line: string) => {
      appendFileSync(logPath, line + '\n');
      options.engineLog?.(line);
    };
    try {
      if (r.clip) {
        // A clip: its frames resume as a run's iterations do; the lock and status are the sweep's.
        const clip = await runVideo({ ...r.clip.run, ...r.clip.video }, {
          log: engineLog,
          signal: options.signal,
          onStep: (_frame, logs) => {
            options.onIteration?.(logs.iteration);
            void status.heartbeat(logs);
          },
        });
        await status.finishClip(clip.interrupted ? 'interrupted' : 'completed', clip.record.frames.length);
        return status.current.state;
      }
      const result = await run(config, {
        signal: options.signal,
        log: engineLog,
        progress: false,
        lock,
        callbacks: [
          {
            async onStepEnd(logs: StepLogs) {
              options.onIteration?.(logs.iteration);
              await status.heartbeat(logs);
            },
          },
          options.callbacks ?? [],
        ].flat(),
      });
      await status.finish(result);
    } catch (e) {
      appendFileSync(logPath, describeError(e) + '\n');
      await status.fail(describeError(e));
    }
    return status.current.state;
  } finally {
    await lock.release();
  }
}

interface ChildEnd {
  code: number | null;
  stderr: string;
}

/** One run in its own process, through the same command a Slurm task uses. */
function runChild(sweep: Sweep, r: SweepRun, signal: AbortSignal | undefined): Promise<ChildEnd> {
  const scale = sweep.spec.scale ? ['--scale', sweep.spec.scale] : [];
  const args = [join(projectRoot(), 'bin', 'nst.mjs'), 'sweep', sweep.spec.source, '--index', String(r.index), '--out', sweep.out, ...scale];
  // The IPC channel lets the child notice when this process dies, even by SIGKILL, and stop too. Its
  // own process group keeps a terminal's Ctrl-C from reaching it twice (directly and forwarded below).
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const stop = () => child.kill('SIGTERM');
  signal?.addEventListener('abort', stop, { once: true });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      signal?.removeEventListener('abort', stop);
      resolve({ code, stderr });
    });
  });
}

/**
 * Runs what is not yet COMPLETED: the one `index` if given, else every run, `jobs` at a time.
 * Never throws for a failed run (its status says FAILED); throws NstError for a bad index or missing inputs.
 */
export async function runSweep(sweep: Sweep, options: SweepRunOptions = {}): Promise<SweepOutcome> {
  const log = options.log === undefined ? (s: string) => console.log(s) : options.log;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const n = sweep.size;
  const outcome = (ran: number[], busy: number[]): SweepOutcome => ({
    ran,
    // Read on demand: looking at every folder of a 10⁶-run grid is not free.
    get states() {
      return Array.from({ length: n }, (_, i) => runState(sweep.run(i).dir, staleMs));
    },
    busy,
    interrupted: options.signal?.aborted ?? false,
  });

  if (options.index !== undefined) {
    const i = options.index;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new NstError(`--index ${i} is out of range`, `this sweep has runs 0..${n - 1}`);
    const r = sweep.run(i);
    if (runState(r.dir, staleMs) === 'COMPLETED' && !storedConfigDifference(r.dir, r.config)) {
      log?.(`run ${i} (${r.id}) is already COMPLETED; nothing to do`);
      return outcome([], []);
    }
    // Two writers in one run folder would corrupt it; a requeued attempt of the same task takes over.
    const status = readStatus(r.dir);
    if (status && isLive(status, staleMs) && !sameSchedulerTask(status)) {
      log?.(`run ${i} is RUNNING on ${status.host} (pid ${status.pid}, heartbeat ${status.heartbeatAt}); leaving it to that process`);
      return outcome([], [i]);
    }
    checkInputs(sweep, r);
    log?.(`run ${i}/${n - 1}: ${r.dir}`);
    const state = await runOne(sweep, r, { signal: options.signal, engineLog: options.engineLog, staleMs, log });
    if (state === 'RUNNING') return outcome([], [i]);
    log?.(`run ${i}: ${state}`);
    return outcome([i], []);
  }

  const { todo, busy, completed } = scan(sweep, staleMs);
  if (todo.length > 0) checkInputs(sweep);
  log?.(`sweep ${sweep.spec.name}: ${n} runs, ${completed} completed, ${busy.length} running elsewhere, ${todo.length} to run → ${sweep.dir}`);
  const jobs = Math.max(1, options.jobs ?? 1);
  if (jobs > 1 && !sweep.spec.source) throw new NstError('--jobs above 1 needs the sweep to come from a file', 'write the spec to experiments/<name>.yaml');
  if (jobs > 1 && sweep.spec.overridden) throw new NstError(`--jobs above 1 runs the file as written, without the keys set over it (${sweep.spec.overridden.join(', ')})`, 'run with jobs 1, or put those keys in the file');

  const showBar = (options.progress ?? Boolean(process.stderr.isTTY)) && todo.length > 0;
  const bar = showBar ? new ProgressBar(todo.length) : undefined;
  const started = performance.now();
  let done = 0;
  const say = (line: string) => {
    if (bar) process.stderr.write('\r\x1b[K');
    log?.(line);
  };
  const ended = (r: SweepRun, state: RunState, detail = '') => {
    done++;
    const status = readStatus(r.dir);
    const took = status?.wallMs !== undefined ? ` in ${formatDuration(status.wallMs)}` : '';
    const left = todo.length - done;
    const eta = left > 0 ? `, ETA ${formatDuration(((performance.now() - started) / done) * left)}` : '';
    say(`[${done}/${todo.length}] run ${r.index} ${state}${took}${eta}${detail}${state === 'FAILED' && status?.error ? `: ${status.error.split('\n')[0]}` : ''}`);
    bar?.update(done, `run ${r.index} ${state}`, started);
  };

  const ran: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < todo.length && !options.signal?.aborted) {
      const current = sweep.run(todo[next++]!);
      if (jobs === 1) {
        // Another sweep may have taken it, or finished it, since the scan: then it is not ours.
        const claim = await claimRun(current, { staleMs, what: `nst sweep ${sweep.spec.name} (run ${current.index})` });
        if (!(claim instanceof RunLock)) {
          say(claim.why);
          if (claim.taken === 'RUNNING') busy.push(current.index);
          continue;
        }
        ran.push(current.index);
        const state = await runClaimed(sweep, current, claim, {
          signal: options.signal,
          engineLog: options.engineLog,
          onIteration: (it) => bar?.update(done, `run ${current.index}: iter ${it}/${current.config.iterations}`, started),
          callbacks: options.callbacks?.(current),
        });
        ended(current, state);
      } else {
        const end = await runChild(sweep, current, options.signal);
        const state = runState(current.dir, staleMs);
        if (state === 'RUNNING') {
          busy.push(current.index);
          continue;
        }
        ran.push(current.index);
        const crash = end.code !== 0 && state !== 'FAILED' && state !== 'INTERRUPTED' ? ` (exit ${end.code}): ${end.stderr.trim().split('\n').slice(-3).join(' | ')}` : '';
        ended(current, state, crash);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, Math.max(1, todo.length)) }, worker));
  bar?.end();
  return outcome(ran, busy);
}
