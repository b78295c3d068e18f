/**
 * Runs a sweep's unfinished runs, here or as one task of a job array. Re-running resumes: COMPLETED
 * runs are skipped and never touched, interrupted or failed ones start again cleanly (the engine
 * rewrites their files from scratch), and runs another live process is working on are left to it.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, NstError } from '../errors';
import { projectRoot } from '../paths';
import { formatDuration, ProgressBar } from '../run/progress';
import { run } from '../run/run';
import type { Sweep, SweepRun } from './expand';
import { DEFAULT_STALE_MS, isLive, readStatus, runState, sameSchedulerTask, StatusWriter, type RunState } from './status';

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

/** The runs a scan should start: not COMPLETED and not being worked on by a live process. */
export function runsToDo(sweep: Sweep, staleMs = DEFAULT_STALE_MS): { todo: SweepRun[]; busy: SweepRun[] } {
  const todo: SweepRun[] = [];
  const busy: SweepRun[] = [];
  for (const r of sweep.runs) {
    if (runState(r.dir, staleMs) === 'COMPLETED') continue;
    const status = readStatus(r.dir);
    if (status && isLive(status, staleMs)) busy.push(r);
    else todo.push(r);
  }
  return { todo, busy };
}

/** Missing images are reported for the whole sweep before any run starts. */
function checkInputs(sweep: Sweep, runs: SweepRun[]): void {
  const where = sweep.spec.source ? `${sweep.spec.source}: ` : '';
  for (const r of runs) {
    const files: [string, string][] = [...(r.config.content ? [['content', r.config.content] as [string, string]] : []), ...r.config.style.map((s) => ['style', s] as [string, string])];
    for (const [key, path] of files) {
      if (!existsSync(path)) throw new NstError(`${where}run ${r.index}: ${key}: image not found: ${path}`, 'paths are relative to the directory nst runs in');
    }
  }
}

/** Runs one sweep run in this process, keeping its status.json current. Returns how it ended. */
export async function runOne(
  sweep: Sweep,
  r: SweepRun,
  options: Pick<SweepRunOptions, 'signal' | 'engineLog'> & { onIteration?: (iteration: number) => void } = {},
): Promise<RunState> {
  await mkdir(r.dir, { recursive: true });
  const logPath = join(r.dir, RUN_LOG);
  const status = await StatusWriter.start(r.dir, { sweep: sweep.spec.name, index: r.index, runId: r.id, iterations: r.config.iterations });
  appendFileSync(logPath, `--- attempt ${status.current.attempt} on ${status.current.host} (pid ${process.pid}) at ${status.current.startedAt}\n`);
  const engineLog = (line: string) => {
    appendFileSync(logPath, line + '\n');
    options.engineLog?.(line);
  };
  try {
    const result = await run(r.config, {
      signal: options.signal,
      log: engineLog,
      progress: false,
      callbacks: {
        async onStepEnd(logs) {
          options.onIteration?.(logs.iteration);
          await status.heartbeat(logs);
          // The steps are synchronous; this turn of the event loop is where SIGTERM gets noticed.
          await new Promise((resolve) => setImmediate(resolve));
        },
      },
    });
    await status.finish(result);
  } catch (e) {
    appendFileSync(logPath, describeError(e) + '\n');
    await status.fail(describeError(e));
  }
  return status.current.state;
}

interface ChildEnd {
  code: number | null;
  stderr: string;
}

/** One run in its own process, through the same command a Slurm task uses. */
function runChild(sweep: Sweep, r: SweepRun, signal: AbortSignal | undefined): Promise<ChildEnd> {
  const args = [join(projectRoot(), 'bin', 'nst.mjs'), 'sweep', sweep.spec.source, '--index', String(r.index), '--out', sweep.out];
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
  const n = sweep.runs.length;
  const outcome = (ran: number[], busy: SweepRun[]): SweepOutcome => ({
    ran,
    states: sweep.runs.map((r) => runState(r.dir, staleMs)),
    busy: busy.map((r) => r.index),
    interrupted: options.signal?.aborted ?? false,
  });

  if (options.index !== undefined) {
    const i = options.index;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new NstError(`--index ${i} is out of range`, `this sweep has runs 0..${n - 1}`);
    const r = sweep.runs[i]!;
    if (runState(r.dir, staleMs) === 'COMPLETED') {
      log?.(`run ${i} (${r.id}) is already COMPLETED; nothing to do`);
      return outcome([], []);
    }
    // Two writers in one run folder would corrupt it; a requeued attempt of the same task takes over.
    const status = readStatus(r.dir);
    if (status && isLive(status, staleMs) && !sameSchedulerTask(status)) {
      log?.(`run ${i} is RUNNING on ${status.host} (pid ${status.pid}, heartbeat ${status.heartbeatAt}); leaving it to that process`);
      return outcome([], [r]);
    }
    checkInputs(sweep, [r]);
    log?.(`run ${i}/${n - 1}: ${r.dir}`);
    const state = await runOne(sweep, r, { signal: options.signal, engineLog: options.engineLog });
    log?.(`run ${i}: ${state}`);
    return outcome([i], []);
  }

  const { todo, busy } = runsToDo(sweep, staleMs);
  checkInputs(sweep, todo);
  log?.(`sweep ${sweep.spec.name}: ${n} runs, ${n - todo.length - busy.length} completed, ${busy.length} running elsewhere, ${todo.length} to run → ${sweep.dir}`);
  const jobs = Math.max(1, options.jobs ?? 1);
  if (jobs > 1 && !sweep.spec.source) throw new NstError('--jobs above 1 needs the sweep to come from a file', 'write the spec to experiments/<name>.yaml');

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
  const queue = [...todo];
  const worker = async () => {
    for (let r = queue.shift(); r && !options.signal?.aborted; r = queue.shift()) {
      ran.push(r.index);
      const current = r;
      if (jobs === 1) {
        const state = await runOne(sweep, current, {
          signal: options.signal,
          engineLog: options.engineLog,
          onIteration: (it) => bar?.update(done, `run ${current.index}: iter ${it}/${current.config.iterations}`, started),
        });
        ended(current, state);
      } else {
        const end = await runChild(sweep, current, options.signal);
        const state = runState(current.dir, staleMs);
        const crash = end.code !== 0 && state !== 'FAILED' && state !== 'INTERRUPTED' ? ` (exit ${end.code}): ${end.stderr.trim().split('\n').slice(-3).join(' | ')}` : '';
        ended(current, state, crash);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, Math.max(1, todo.length)) }, worker));
  bar?.end();
  return outcome(ran, busy);
}
