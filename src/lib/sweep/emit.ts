/**
 * Job-array wrappers for a sweep: a Slurm batch script and a Kubernetes Indexed Job. Each task runs
 * the same `nst sweep FILE` as a laptop does; the scheduler's index (SLURM_ARRAY_TASK_ID,
 * JOB_COMPLETION_INDEX) picks its run, so the file is the only thing the tasks share.
 */
import { mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import { NstError } from '../errors';
import { projectRoot } from '../paths';
import type { Sweep } from './expand';
import { locateSweepFile } from './spec';

export const EMIT_TARGETS = ['slurm', 'k8s'] as const;
export type EmitTarget = (typeof EMIT_TARGETS)[number];

export interface SlurmOptions {
  partition?: string;
  gpusPerTask?: number;
  /** Slurm's time format: minutes, HH:MM:SS or D-HH:MM:SS. */
  time?: string;
  /** Array tasks at once (`%K`). */
  maxParallel?: number;
}

export interface K8sOptions {
  /** The container image holding the workbench (its working directory is the repository root). */
  image?: string;
  gpusPerTask?: number;
  maxParallel?: number;
  /** A PersistentVolumeClaim mounted on the results root, so results outlive the pods. */
  pvc?: string;
  /** The repository root inside the image. */
  workdir?: string;
}

/** Seconds between SIGTERM and the time limit: enough for the current iteration and a snapshot. */
const GRACE_S = 120;

function specFile(sweep: Sweep): string {
  if (!sweep.spec.source) throw new NstError('emitting a job needs the sweep to come from a file', 'write the spec to experiments/<name>.yaml');
  if (sweep.spec.overridden) throw new NstError(`a job runs the file as written, without the keys set over it (${sweep.spec.overridden.join(', ')})`, 'put those keys in the file');
  return locateSweepFile(sweep.spec.source);
}

/** The scale option of a task's command: a job array runs the sweep at the scale it was emitted at. */
function scaleArgs(sweep: Sweep): string[] {
  return sweep.spec.scale ? ['--scale', sweep.spec.scale] : [];
}

function positive(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value <= 0)) throw new NstError(`${name}: expected a positive integer, got ${value}`);
}

/**
 * Values that go into a generated script or manifest must be what they claim to be: a newline in
 * `--partition` would otherwise start a directive of its own (`#SBATCH --wrap=…`).
 */
function matching(option: string, value: string | undefined, pattern: RegExp, what: string): void {
  if (value !== undefined && !pattern.test(value)) throw new NstError(`${option}: ${JSON.stringify(value)} is not ${what}`, `give ${what}`);
}

/** Slurm partition names, or a comma-separated list of them. */
const PARTITION = /^[\w.-]+(,[\w.-]+)*$/;
/** Slurm's time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S. */
const TIME = /^(\d+(:\d{1,2}){0,2}|\d+-\d{1,2}(:\d{1,2}){0,2})$/;
/** An image reference: [registry[:port]/]name[:tag][@digest], no spaces or control characters. */
const IMAGE = /^[a-z0-9][\w.\-/:@]*$/i;
/** A Kubernetes object name (DNS-1123 subdomain). */
const K8S_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A path written into an #SBATCH line: sbatch splits those lines at white space and they end at a newline. */
function directivePath(option: string, path: string): string {
  if (/[\s\x00-\x1f\x7f]/.test(path)) {
    throw new NstError(`${option}: the path ${JSON.stringify(path)} has white space or a control character, which an #SBATCH line cannot hold`, 'give --out a path without spaces');
  }
  return path;
}

/** Slurm writes logs only into folders that exist; this is where the script puts them. */
export function slurmLogDir(sweep: Sweep): string {
  return resolve(sweep.dir, 'logs');
}

/**
 * An sbatch script: `--array=0-(n-1)%K`, logs `<out>/<name>/logs/%A_%a.out`, SIGTERM GRACE_S before
 * the time limit (the run stops at its next iteration with a snapshot; a requeued task resumes).
 * Creates the log folder, since sbatch will not.
 */
export function slurmScript(sweep: Sweep, options: SlurmOptions = {}): string {
  positive('--gpus-per-task', options.gpusPerTask);
  positive('--max-parallel', options.maxParallel);
  matching('--partition', options.partition, PARTITION, 'a Slurm partition name (letters, digits, . _ -; several separated by commas)');
  matching('--time', options.time, TIME, 'a Slurm time limit (minutes, HH:MM:SS or D-HH:MM:SS)');
  const n = sweep.size;
  const logs = directivePath('--out', slurmLogDir(sweep));
  mkdirSync(logs, { recursive: true });
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const directives = [
    `--job-name=nst-${sweep.spec.name}`,
    `--array=0-${n - 1}${options.maxParallel ? `%${options.maxParallel}` : ''}`,
    `--output=${join(logs, '%A_%a.out')}`,
    '--open-mode=append',
    '--ntasks=1',
    options.partition && `--partition=${options.partition}`,
    options.gpusPerTask && `--gpus-per-task=${options.gpusPerTask}`,
    options.time && `--time=${options.time}`,
    `--signal=B:TERM@${GRACE_S}`,
    '--requeue',
  ].filter(Boolean);
  const command = ['node', join(projectRoot(), 'bin', 'nst.mjs'), 'sweep', resolve(specFile(sweep)), '--out', resolve(sweep.out), ...scaleArgs(sweep)];
  return [
    '#!/bin/bash',
    `# nst sweep ${sweep.spec.name}: ${n} runs as a Slurm job array. Submit with: sbatch THIS_FILE`,
    ...directives.map((d) => `#SBATCH ${d}`),
    '',
    '# Each task runs the run SLURM_ARRAY_TASK_ID of the sweep (skipped if already COMPLETED).',
    'set -euo pipefail',
    `cd ${q(process.cwd())}`,
    `exec ${command.map(q).join(' ')}`,
    '',
  ].join('\n');
}

function k8sName(name: string): string {
  return `nst-${name.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`.slice(0, 63).replace(/-+$/, '');
}

/** An Indexed Job: pod i runs `nst sweep FILE`, which reads its index from JOB_COMPLETION_INDEX. */
export function k8sManifest(sweep: Sweep, options: K8sOptions = {}): string {
  positive('--gpus-per-task', options.gpusPerTask);
  positive('--max-parallel', options.maxParallel);
  matching('--image', options.image, IMAGE, 'a container image reference such as registry.example.org/nst:1.0');
  matching('--pvc', options.pvc, K8S_NAME, 'a PersistentVolumeClaim name (lower-case letters, digits, - and .)');
  matching('workdir', options.workdir, /^\/[^\x00-\x1f\x7f]*$/, 'an absolute path');
  const n = sweep.size;
  const workdir = options.workdir ?? '/workspace';
  // Paths inside the image are the ones relative to the repository root here.
  const inRepo = (path: string) => relative(process.cwd(), resolve(path)) || '.';
  const out = inRepo(sweep.out);
  const labels = { app: 'nst-sweep', sweep: k8sName(sweep.spec.name) };
  const container: Record<string, unknown> = {
    name: 'nst',
    image: options.image ?? 'nst-workbench:latest',
    workingDir: workdir,
    command: ['node', 'bin/nst.mjs', 'sweep', inRepo(specFile(sweep)), '--out', out, ...scaleArgs(sweep)],
    ...(options.gpusPerTask ? { resources: { limits: { 'nvidia.com/gpu': options.gpusPerTask } } } : {}),
    ...(options.pvc ? { volumeMounts: [{ name: 'results', mountPath: `${workdir}/${out}` }] } : {}),
  };
  const manifest = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: k8sName(sweep.spec.name), labels },
    spec: {
      completionMode: 'Indexed',
      completions: n,
      parallelism: options.maxParallel ?? n,
      // A pod evicted or preempted is retried; its run resumes cleanly.
      backoffLimit: n,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: GRACE_S,
          containers: [container],
          ...(options.pvc ? { volumes: [{ name: 'results', persistentVolumeClaim: { claimName: options.pvc } }] } : {}),
        },
      },
    },
  };
  return `# nst sweep ${sweep.spec.name}: ${n} runs as a Kubernetes Indexed Job. Apply with: kubectl apply -f THIS_FILE\n${stringify(manifest)}`;
}

/** The array index the scheduler gave this process, if any. */
export function schedulerIndex(env: NodeJS.ProcessEnv = process.env): number | undefined {
  for (const key of ['SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX']) {
    const value = env[key];
    if (value === undefined || value === '') continue;
    const i = Number(value);
    if (!Number.isInteger(i) || i < 0) throw new NstError(`${key}=${value} is not a run index`, 'it must be a non-negative integer');
    return i;
  }
  return undefined;
}
