/** `nst` in a child process for the CLI tests; whatever is still alive when the test file ends is killed. */
import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';

export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const spawned: ChildProcess[] = [];
after(() => {
  for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** A child the caller started itself, killed at the end like the others. */
export function track(child: ChildProcess): ChildProcess {
  spawned.push(child);
  return child;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  detached?: boolean;
  /** Another program than `node bin/nst.mjs` (e.g. bash, to set a ulimit): `args` are then its own. */
  command?: string;
}

/**
 * `node bin/nst.mjs ARGS` with the scheduler's task variables cleared (a test may itself run under
 * Slurm), collecting its output.
 */
export function spawnNst(args: string[], opts: SpawnOptions = {}): { child: ChildProcess; done: Promise<Ended> } {
  const env = { ...process.env, SLURM_ARRAY_TASK_ID: '', JOB_COMPLETION_INDEX: '', ...opts.env };
  const command = opts.command ?? process.execPath;
  const child = track(spawn(command, opts.command ? args : ['bin/nst.mjs', ...args], { env, detached: opts.detached, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, done: new Promise<Ended>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))) };
}
