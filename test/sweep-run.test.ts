/**
 * `nst sweep` as researchers use it: killed outright half way and run again, stopped by SIGTERM, run as
 * array tasks by index, and with --jobs children whose parent dies. Tiny runs on random weights.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { snapshotPath } from '../src/lib/run/store';
import { expandSweep, type Sweep } from '../src/lib/sweep/expand';
import { parseSweepSpec } from '../src/lib/sweep/spec';
import { readStatus, runState } from '../src/lib/sweep/status';
import { spawnNst } from './helpers/nst-process';
import { waitFor } from './helpers/tiny-run';

const tmp = mkdtempSync(join(tmpdir(), 'nst-sweep-run-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const base = {
  content: 'data/images/tubingen.jpg',
  style: ['data/images/starry_night.jpg'],
  weights: 'random:0',
  imageSize: 32,
  optimizer: 'adam',
  contentLayers: ['conv2_2'],
  styleLayers: ['conv1_1', 'conv2_1'],
  backend: 'wasm',
  printEvery: 0,
};

function writeSpec(name: string, spec: Record<string, unknown>): { path: string; sweep: (out: string) => Sweep } {
  const path = join(tmp, `${name}.yaml`);
  writeFileSync(path, stringify({ name, ...spec }));
  return { path, sweep: (out) => expandSweep(parseSweepSpec({ name, ...spec }, path), { out }) };
}



/** Iterations logged so far (rows of metrics.csv). */
function rows(dir: string): number {
  const path = join(dir, 'metrics.csv');
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').length - 1 : 0;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a local sweep killed with SIGKILL half way, then run again', () => {
  const iterations = 40;
  const spec = writeSpec('resume', { base: { ...base, iterations }, parameters: { styleWeight: { values: [1e2, 1e3, 1e4, 1e5] } } });
  const out = join(tmp, 'resume-out');
  const sweep = spec.sweep(out);
  const files = ['status.json', 'config.json', 'metrics.csv', 'summary.json', 'run.log'];
  type Fingerprint = { texts: string[]; final: { mtimeMs: number; ino: number } };
  const fingerprint = (dir: string): Fingerprint => ({
    texts: files.map((f) => readFileSync(join(dir, f), 'utf8')),
    final: (({ mtimeMs, ino }) => ({ mtimeMs, ino }))(statSync(join(dir, 'final.png'))),
  });
  let before: Map<number, Fingerprint>;
  let inFlight: number;

  it('is killed while a run is in flight, with earlier runs COMPLETED', async () => {
    const { child, done } = spawnNst(['sweep', spec.path, '--out', out], { detached: true });
    await waitFor('two runs completed and a third half way', () => {
      const states = sweep.runs.map((r) => runState(r.dir));
      return states.filter((s) => s === 'COMPLETED').length >= 2 && sweep.runs.some((r, i) => states[i] === 'RUNNING' && rows(r.dir) >= 2 && rows(r.dir) < iterations - 5);
    }, 180_000);
    // The whole process group, as a node failure or an OOM kill would.
    process.kill(-child.pid!, 'SIGKILL');
    assert.equal((await done).signal, 'SIGKILL');
    const states = sweep.runs.map((r) => runState(r.dir));
    before = new Map(sweep.runs.filter((_, i) => states[i] === 'COMPLETED').map((r) => [r.index, fingerprint(r.dir)]));
    inFlight = states.indexOf('INTERRUPTED');
    assert.ok(before.size >= 2 && before.size < 4, `states after the kill: ${states.join(' ')}`);
    assert.ok(inFlight >= 0, `no interrupted run: ${states.join(' ')}`);
    assert.ok(!existsSync(join(sweep.runs[inFlight]!.dir, 'final.png')));
  });

  it('completes every run exactly once on the next invocation, rewriting no completed result', async () => {
    const end = await spawnNst(['sweep', spec.path, '--out', out, '--jobs', '2']).done;
    assert.equal(end.code, 0, end.stderr);
    assert.match(end.stdout, new RegExp(`4 runs, ${before.size} completed, 0 running elsewhere, ${4 - before.size} to run`));
    for (const r of sweep.runs) {
      assert.equal(runState(r.dir), 'COMPLETED', `run ${r.index}`);
      const log = readFileSync(join(r.dir, 'run.log'), 'utf8');
      assert.equal(log.match(/^completed after/gm)?.length, 1, `run ${r.index} completed ${log.match(/^completed after/gm)?.length ?? 0} times:\n${log}`);
      const kept = before.get(r.index);
      if (kept) {
        assert.deepEqual(fingerprint(r.dir), kept, `completed run ${r.index} was rewritten`);
        continue;
      }
      // Restarted cleanly: one fresh curve, not the killed attempt's rows plus a second run's.
      const its = readFileSync(join(r.dir, 'metrics.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
      assert.deepEqual(its, Array.from({ length: iterations + 1 }, (_, i) => i));
      assert.equal(readStatus(r.dir)!.attempt, r.index === inFlight ? 2 : 1);
    }
  });

  it('has nothing left to do on a third invocation', async () => {
    const finals = sweep.runs.map((r) => statSync(join(r.dir, 'final.png')).mtimeMs);
    const end = await spawnNst(['sweep', spec.path, '--out', out]).done;
    assert.equal(end.code, 0, end.stderr);
    assert.match(end.stdout, /4 runs, 4 completed, 0 running elsewhere, 0 to run/);
    assert.deepEqual(sweep.runs.map((r) => statSync(join(r.dir, 'final.png')).mtimeMs), finals);
    const list = await spawnNst(['sweep', spec.path, '--out', out, '--list']).done;
    for (const r of sweep.runs) assert.match(list.stdout, new RegExp(`${r.id}\\s.*COMPLETED`));
  });
});

describe('SIGTERM, array indices and --jobs children', () => {
  const spec = writeSpec('signals', { base, parameters: { iterations: { values: [3000, 4] }, styleWeight: { values: [1e3, 1e4] } } });

  it('SIGTERM stops the run at the next iteration with a snapshot and an INTERRUPTED status', async () => {
    const out = join(tmp, 'term-out');
    const [long] = spec.sweep(out).runs;
    const { child, done } = spawnNst(['sweep', spec.path, '--out', out], { env: { SLURM_ARRAY_TASK_ID: '0' } });
    await waitFor('a few iterations', () => rows(long!.dir) >= 3, 180_000);
    child.kill('SIGTERM');
    const end = await done;
    assert.equal(end.code, 143, end.stderr);
    const status = readStatus(long!.dir)!;
    assert.equal(status.state, 'INTERRUPTED');
    assert.equal(status.stopReason, 'interrupted');
    const summary = JSON.parse(readFileSync(join(long!.dir, 'summary.json'), 'utf8'));
    assert.equal(summary.stopReason, 'interrupted');
    assert.ok(summary.iterations < 3000);
    assert.equal(rows(long!.dir), summary.iterations + 1, 'iterates 0 to the last');
    assert.ok(existsSync(snapshotPath(long!.dir, summary.iterations)), 'no snapshot at the last iteration');
    assert.ok(!existsSync(join(long!.dir, 'final.png')));
    assert.equal(spec.sweep(out).runs.filter((r) => existsSync(r.dir)).length, 1, 'only the indexed run was touched');
  });

  it('JOB_COMPLETION_INDEX selects one run; --index wins over it', async () => {
    const out = join(tmp, 'index-out');
    const runs = spec.sweep(out).runs;
    const a = await spawnNst(['sweep', spec.path, '--out', out], { env: { JOB_COMPLETION_INDEX: '2' } }).done;
    assert.equal(a.code, 0, a.stderr);
    const b = await spawnNst(['sweep', spec.path, '--out', out, '--index', '3'], { env: { JOB_COMPLETION_INDEX: '0' } }).done;
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(runs.map((r) => runState(r.dir)), ['PENDING', 'PENDING', 'COMPLETED', 'COMPLETED']);
    const bad = await spawnNst(['sweep', spec.path, '--out', out, '--index', '4']).done;
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--index 4 is out of range.*\n.*runs 0\.\.3/);
  });

  it('--jobs children stop when their parent is killed outright', async () => {
    const out = join(tmp, 'orphan-out');
    const [a, b] = spec.sweep(out).runs;
    const { child, done } = spawnNst(['sweep', spec.path, '--out', out, '--jobs', '2']);
    await waitFor('both long runs iterating', () => rows(a!.dir) >= 2 && rows(b!.dir) >= 2, 180_000);
    const pids = [readStatus(a!.dir)!.pid, readStatus(b!.dir)!.pid];
    assert.ok(!pids.includes(child.pid!), 'runs go to child processes');
    child.kill('SIGKILL');
    await done;
    await waitFor('the children to stop', () => pids.every((p) => !pidAlive(p)), 60_000);
    for (const r of [a!, b!]) {
      assert.equal(readStatus(r.dir)!.state, 'INTERRUPTED');
      assert.ok(rows(r.dir) < 3000);
    }
  });
});
