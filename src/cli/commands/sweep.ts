/** `nst sweep`: run, resume, list or wrap a sweep file as a Slurm array / Kubernetes Indexed Job. */
import { NstError } from '../../lib/errors';
import { EMIT_TARGETS, k8sManifest, schedulerIndex, slurmScript, type EmitTarget } from '../../lib/sweep/emit';
import { loadSweep } from '../../lib/sweep/expand';
import { runSweep } from '../../lib/sweep/runner';
import { runState } from '../../lib/sweep/status';
import { sweepTable, writeSweepTable } from '../../lib/sweep/table';
import type { Command } from '../command';
import { describeOptions, parseOptions, type ExtraOption } from '../options';
import { exitCodeOf, stopOnSignals } from '../signals';

const EXTRA: Record<string, ExtraOption> = {
  scale: { type: 'string', help: "a scale of the sweep file (its scales:, e.g. smoke); default: the file's own values (paper)" },
  list: { type: 'boolean', help: 'print the runs (index, id, swept values, status) and exit' },
  jobs: { type: 'string', help: 'runs at once, each in its own process (default 1)' },
  index: { type: 'string', help: 'run only run I (default: SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX if set)' },
  emit: { type: 'string', help: `print a job-array wrapper instead of running: ${EMIT_TARGETS.join(' | ')}` },
  partition: { type: 'string', help: 'slurm: partition' },
  gpusPerTask: { type: 'string', help: 'slurm, k8s: GPUs per run' },
  time: { type: 'string', help: 'slurm: time limit per run (minutes, HH:MM:SS, D-HH:MM:SS)' },
  maxParallel: { type: 'string', help: 'slurm, k8s: runs at once (%K / parallelism)' },
  image: { type: 'string', help: 'k8s: container image holding the workbench (default nst-workbench:latest)' },
  pvc: { type: 'string', help: 'k8s: PersistentVolumeClaim mounted on the results root' },
};

const usage = [
  'usage: nst sweep FILE [--out DIR] [--scale S] [--jobs N | --index I]',
  '       nst sweep FILE --list',
  '       nst sweep FILE --emit slurm [--partition P --gpus-per-task G --time T --max-parallel K] > job.sh',
  '       nst sweep FILE --emit k8s [--image IMG --gpus-per-task G --max-parallel K --pvc CLAIM] > job.yaml',
  '',
  'Runs every run of the sweep file (experiments/*.yaml) that is not yet COMPLETED, into',
  '<out>/<name>/<run-id>/ with a status.json. Running it again resumes; SIGTERM stops the current run at',
  'its next iteration with a snapshot. In a Slurm array task or an Indexed Job pod it runs that index only.',
  'Results: nst report FILE. Spec format: experiments/README.md.',
  '',
  'options:',
  `  ${'--out DIR'.padEnd(28)} results root (default: the spec's base.out, else results)`,
  describeOptions(EXTRA),
].join('\n');

function count(extra: Record<string, unknown>, key: string): number | undefined {
  const raw = extra[key];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  const option = '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  if (!Number.isInteger(n) || n < (key === 'index' ? 0 : 1)) throw new NstError(`${option}: expected ${key === 'index' ? 'a run index' : 'a positive integer'}, got '${String(raw)}'`);
  return n;
}

export const command: Command = {
  summary: 'run or resume a sweep file (grid / random) locally, as a Slurm array or Indexed Job',
  usage,
  async run(argv) {
    const { config, extra, positionals } = parseOptions(argv, EXTRA, ['out']);
    if (positionals.length !== 1) throw new NstError(positionals.length ? `unexpected argument '${positionals[1]}'` : 'no sweep file given', 'usage: nst sweep FILE (see nst sweep --help)');
    const sweep = loadSweep(positionals[0]!, { out: config.out as string | undefined, scale: extra.scale as string | undefined });

    if (extra.list) {
      await writeSweepTable(sweep, process.stdout);
      return 0;
    }
    if (extra.emit !== undefined) {
      const target = extra.emit as EmitTarget;
      if (!EMIT_TARGETS.includes(target)) throw new NstError(`--emit: '${target}' is not allowed`, `allowed values: ${EMIT_TARGETS.join(', ')}`);
      const gpusPerTask = count(extra, 'gpusPerTask');
      const maxParallel = count(extra, 'maxParallel');
      const text =
        target === 'slurm'
          ? slurmScript(sweep, { partition: extra.partition as string | undefined, time: extra.time as string | undefined, gpusPerTask, maxParallel })
          : k8sManifest(sweep, { image: extra.image as string | undefined, pvc: extra.pvc as string | undefined, gpusPerTask, maxParallel });
      process.stdout.write(text);
      return 0;
    }

    const index = count(extra, 'index') ?? schedulerIndex();
    const controller = new AbortController();
    const signals = stopOnSignals(controller, 'a snapshot, a checkpoint and status.json are written');
    try {
      const outcome = await runSweep(sweep, {
        index,
        jobs: count(extra, 'jobs'),
        signal: controller.signal,
        engineLog: index !== undefined ? (line) => console.log(line) : null,
      });
      const received = signals.received();
      if (received) return exitCodeOf(received);
      if (index === undefined && sweep.size <= 100) console.log(sweepTable(sweep));
      const failed = outcome.ran.filter((i) => runState(sweep.run(i).dir) === 'FAILED');
      if (failed.length > 0) console.error(`${failed.length} run(s) FAILED: ${failed.join(', ')} (see status.json and run.log in their folders)`);
      if (outcome.busy.length > 0) console.log(`${outcome.busy.length} run(s) still RUNNING elsewhere: ${outcome.busy.join(', ')}`);
      return failed.length > 0 ? 1 : 0;
    } finally {
      signals.release();
    }
  },
};
