/**
 * A real Slurm: starts a private one-node cluster (test/slurm/start.sh: Debian's slurm-wlm + munge),
 * submits the script `nst sweep --emit slurm` prints for the 4-run smoke sweep, waits, checks that all
 * four runs completed as array tasks, and stops the daemons it started. Skips with the reason when
 * Slurm cannot run here; under CI=true it must run.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadSweep } from '../src/lib/sweep/expand';
import { readStatus, runState } from '../src/lib/sweep/status';

const SBIN = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];
const PATH = [dirname(process.execPath), ...(process.env.PATH ?? '').split(delimiter), ...SBIN].join(delimiter);
const NEEDED = ['slurmctld', 'slurmd', 'sbatch', 'squeue', 'sinfo', 'munged', 'mungekey'];

function unavailable(): string | undefined {
  if (process.platform !== 'linux') return `Slurm test needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'Slurm test needs root (slurmd runs jobs as root here)';
  const missing = NEEDED.filter((b) => !PATH.split(delimiter).some((d) => existsSync(join(d, b))));
  if (missing.length > 0) return `Slurm test needs ${missing.join(', ')} (apt-get install slurm-wlm munge)`;
  return undefined;
}

const reason = unavailable();
const ci = process.env.CI === 'true';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('a Slurm job array from `nst sweep --emit slurm`', { skip: reason && !ci ? reason : false }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'nst-slurm-'));
  const cluster = join(tmp, 'cluster');
  const out = join(tmp, 'results');
  const env = { ...process.env, PATH, SLURM_CONF: join(cluster, 'slurm.conf'), SLURM_ARRAY_TASK_ID: '', JOB_COMPLETION_INDEX: '' };
  const sh = (script: string, args: string[], timeout: number) => execFileSync('bash', [join('test', 'slurm', script), ...args], { env, timeout, encoding: 'utf8' });
  const logs = () => {
    const dir = join(cluster, 'log');
    return existsSync(dir) ? readdirSync(dir).map((f) => `--- ${f}\n${readFileSync(join(dir, f), 'utf8').slice(-2000)}`).join('\n') : '';
  };
  after(() => {
    if (existsSync(cluster)) sh('stop.sh', [cluster], 30_000);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('runs all four runs of the smoke sweep as array tasks', async () => {
    assert.equal(reason, undefined, `CI=true but ${reason}`);
    const [ctld, slurmd] = [await freePort(), await freePort()];
    sh('start.sh', [cluster, String(ctld), String(slurmd)], 90_000);

    const script = execFileSync(process.execPath, ['bin/nst.mjs', 'sweep', 'experiments/smoke.yaml', '--out', out, '--emit', 'slurm', '--max-parallel', '2'], { env, encoding: 'utf8' });
    assert.match(script, /^#SBATCH --array=0-3%2$/m);
    const job = join(tmp, 'job.sh');
    writeFileSync(job, script);
    const id = execFileSync('sbatch', ['--parsable', job], { env, encoding: 'utf8' }).trim().split(';')[0]!;
    assert.match(id, /^\d+$/);

    const deadline = Date.now() + 10 * 60_000;
    for (;;) {
      const queued = execFileSync('squeue', ['-h', '-j', id, '-o', '%i %T'], { env, encoding: 'utf8' }).trim();
      if (!queued) break;
      if (Date.now() > deadline) assert.fail(`job ${id} still queued after 10 minutes:\n${queued}\n${logs()}`);
      await new Promise((r) => setTimeout(r, 1000));
    }

    const sweep = loadSweep('experiments/smoke.yaml', { out });
    assert.equal(sweep.runs.length, 4);
    for (const r of sweep.runs) {
      const taskLog = join(sweep.dir, 'logs', `${id}_${r.index}.out`);
      const text = existsSync(taskLog) ? readFileSync(taskLog, 'utf8') : '(no log)';
      assert.equal(runState(r.dir), 'COMPLETED', `run ${r.index}:\n${text}\n${logs()}`);
      assert.match(text, new RegExp(`^run ${r.index}: COMPLETED$`, 'm'));
      const status = readStatus(r.dir)!;
      assert.equal(status.scheduler?.SLURM_ARRAY_JOB_ID, id);
      assert.equal(status.scheduler?.SLURM_ARRAY_TASK_ID, String(r.index));
      assert.equal(status.attempt, 1);
      assert.ok(existsSync(join(r.dir, 'final.png')));
    }
  });
});
