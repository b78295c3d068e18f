/**
 * One writer per run folder and what readers see: the lock and its stale rule (same host: a dead pid;
 * another host: an old heartbeat; a requeued Slurm task), two `nst run`s into one folder, two
 * `nst sweep`s of one file, `nst report` during a second attempt, metrics.csv rows under a write that
 * fails half way, and a 10⁶-run grid listed in bounded memory.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { initBackend } from '../src/lib/backend';
import { resolveConfig } from '../src/lib/config';
import { NstError } from '../src/lib/errors';
import { RunLock, type LockHolder } from '../src/lib/run/lock';
import { run } from '../src/lib/run/run';
import { parseMetricsCsv, RUN_FILES, runDir } from '../src/lib/run/store';
import { expandSweep, type Sweep } from '../src/lib/sweep/expand';
import { collectRecords, summaryRows } from '../src/lib/sweep/report';
import { runOne } from '../src/lib/sweep/runner';
import { parseSweepSpec } from '../src/lib/sweep/spec';
import { runState } from '../src/lib/sweep/status';
import { metricsRows, TINY_RUN, waitFor } from './helpers/tiny-run';
import { spawnNst, track } from './helpers/nst-process';

const tmp = mkdtempSync(join(tmpdir(), 'nst-writers-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  await initBackend('wasm');
});

const base = {
  ...TINY_RUN,
  optimizer: 'adam' as const,
};
const cli = (iterations: number, out: string) => ['run', '--content', base.content, '--style', base.style[0]!, '--weights', base.weights, '--image-size', '32', '--content-layers', 'conv2_2', '--style-layers', 'conv1_1,conv2_1', '--optimizer', 'adam', '--backend', 'wasm', '--print-every', '0', '--iterations', String(iterations), '--out', out];




describe('the run lock', () => {
  const folder = (name: string) => {
    const dir = join(tmp, 'locks', name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const planted = (dir: string, owner: Partial<LockHolder>, ageMs = 0) => {
    const path = join(dir, RUN_FILES.lock);
    writeFileSync(path, JSON.stringify({ host: 'elsewhere', pid: 1, token: 'planted', startedAt: new Date().toISOString(), what: 'nst run', ...owner }));
    const t = new Date(Date.now() - ageMs);
    utimesSync(path, t, t);
  };
  const deadPid = async () => {
    const gone = spawn('true');
    await new Promise((r) => gone.on('exit', r));
    return gone.pid!;
  };

  it('is exclusive, also within one process, and free again once released', async () => {
    const dir = folder('exclusive');
    const lock = RunLock.acquire(dir);
    const other = RunLock.tryAcquire(dir);
    assert.ok(!(other instanceof RunLock) && other.pid === process.pid);
    assert.throws(() => RunLock.acquire(dir), (e: unknown) => e instanceof NstError && /another process is writing .*: nst \(pid \d+ on /.test(e.message));
    await lock.release();
    assert.ok(!existsSync(join(dir, RUN_FILES.lock)));
    await RunLock.acquire(dir).release();
  });

  it('is taken over from a dead process on this host, an old heartbeat elsewhere, or an earlier attempt of the same array task', async () => {
    const { hostname } = await import('node:os');
    const cases: [string, Partial<LockHolder>, number, NodeJS.ProcessEnv, boolean][] = [
      ['a dead pid here', { host: hostname(), pid: await deadPid() }, 0, {}, true],
      ['a live pid here', { host: hostname(), pid: process.ppid }, 0, {}, false],
      ['a recent heartbeat elsewhere', {}, 60_000, {}, false],
      ['a heartbeat elsewhere older than staleMs', {}, 11 * 60_000, {}, true],
      ['the same Slurm array task, requeued', { scheduler: { SLURM_ARRAY_JOB_ID: '7', SLURM_ARRAY_TASK_ID: '2' } }, 0, { SLURM_ARRAY_JOB_ID: '7', SLURM_ARRAY_TASK_ID: '2' }, true],
      ['another task of the array', { scheduler: { SLURM_ARRAY_JOB_ID: '7', SLURM_ARRAY_TASK_ID: '3' } }, 0, { SLURM_ARRAY_JOB_ID: '7', SLURM_ARRAY_TASK_ID: '2' }, false],
    ];
    for (const [what, owner, age, env, takenOver] of cases) {
      const dir = folder(what.replace(/\W+/g, '-'));
      planted(dir, owner, age);
      const got = RunLock.tryAcquire(dir, { env });
      assert.equal(got instanceof RunLock, takenOver, what);
      if (got instanceof RunLock) {
        assert.equal(JSON.parse(readFileSync(join(dir, RUN_FILES.lock), 'utf8')).token, got.owner.token);
        await got.release();
      } else {
        assert.equal(got.token, 'planted');
      }
    }
  });

  it('beats while held, and notices when it was taken over', async () => {
    const dir = folder('heartbeat');
    const lock = RunLock.acquire(dir, { heartbeatMs: 40 });
    const path = join(dir, RUN_FILES.lock);
    const t = new Date(Date.now() - 3_600_000);
    utimesSync(path, t, t);
    await waitFor('a heartbeat', () => Date.now() - statSync(path).mtimeMs < 10_000, 5000);
    assert.equal(lock.lost, false);
    planted(dir, {});
    await waitFor('the loss to be noticed', () => lock.lost, 5000);
    await lock.release();
    assert.ok(existsSync(path), 'a lost lock is not removed: it is the new owner\'s');
  });
});

describe('two writers', () => {
  it('a second `nst run` into the same folder refuses with a clear message; the first is unharmed', async () => {
    const out = join(tmp, 'two-runs');
    const dir = runDir(resolveConfig({ ...base, iterations: 3000, out }));
    const first = spawnNst(cli(3000, out));
    await waitFor('the first run to iterate', () => metricsRows(dir) >= 3);
    const second = await spawnNst(cli(3000, out)).done;
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, /error: another process is writing .*: nst run \(pid \d+ on .*, heartbeat \d+ s ago\)/);
    const at = metricsRows(dir);
    await waitFor('the first run to go on', () => metricsRows(dir) > at);
    first.child.kill('SIGINT');
    assert.equal((await first.done).code, 130);
    const logged = parseMetricsCsv(readFileSync(join(dir, RUN_FILES.metrics), 'utf8')).map((r) => r.iteration);
    assert.deepEqual(logged, Array.from({ length: logged.length }, (_, i) => i), 'one writer: every iterate once');
  });

  it('two `nst sweep`s of one file share the runs: each runs once', async () => {
    const spec = { name: 'shared', base: { ...base, iterations: 25 }, parameters: { seed: { values: [0, 1, 2, 3] } } };
    const path = join(tmp, 'shared.yaml');
    writeFileSync(path, stringify(spec));
    const out = join(tmp, 'shared-out');
    const sweep = expandSweep(parseSweepSpec(spec, path), { out });
    const [a, b] = await Promise.all([spawnNst(['sweep', path, '--out', out]).done, spawnNst(['sweep', path, '--out', out]).done]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    for (const r of sweep.runs) {
      assert.equal(runState(r.dir), 'COMPLETED');
      const log = readFileSync(join(r.dir, 'run.log'), 'utf8');
      assert.equal(log.match(/^completed after/gm)?.length, 1, `run ${r.index} ran ${log.match(/^completed after/gm)?.length} times`);
      assert.equal(metricsRows(r.dir), 26);
    }
    const ran = (s: string) => [...s.matchAll(/run (\d) COMPLETED/g)].map((m) => Number(m[1]));
    assert.deepEqual([...ran(a.stdout), ...ran(b.stdout)].sort(), [0, 1, 2, 3], `${a.stdout}\n---\n${b.stdout}`);
  });

  it('`nst report` shows a second attempt in a COMPLETED run folder as RUNNING, then INTERRUPTED — never COMPLETED', async () => {
    const spec = parseSweepSpec({ name: 'again', base: { ...base, iterations: 4 }, parameters: { seed: { values: [0, 1] } } }, join(tmp, 'again.yaml'));
    const sweep: Sweep = expandSweep(spec, { out: join(tmp, 'again-out') });
    const r = sweep.run(0);
    assert.equal(await runOne(sweep, r), 'COMPLETED');
    const seen: string[] = [];
    await assert.rejects(
      run(r.config, {
        log: null,
        resume: 'never',
        callbacks: {
          onStepEnd(logs) {
            seen.push(runState(r.dir));
            if (logs.iteration === 2) throw new Error('killed');
          },
        },
      }),
      /killed/,
    );
    assert.deepEqual(seen, ['RUNNING', 'RUNNING', 'RUNNING'], 'rows of iterates 0, 1, 2');
    assert.equal(runState(r.dir), 'INTERRUPTED');
    const row = summaryRows(sweep, collectRecords(sweep))[0]!;
    assert.deepEqual([row.status, row.iterations, row.stop_reason], ['INTERRUPTED', 2, null], 'the latest attempt: logged to iterate 2, no summary yet');
  });
});

describe('metrics.csv under a failing write', () => {
  it('a row is written whole or not at all, and the failure is named', async () => {
    // ulimit -f: a write past 4 KiB is cut short and the next one fails (EFBIG), as on a full disk.
    const out = join(tmp, 'fsize');
    const dir = runDir(resolveConfig({ ...base, iterations: 500, out }));
    const args = cli(500, out).map((a) => `'${a}'`).join(' ');
    const end = await spawnNst(['-c', `ulimit -f 4; exec '${process.execPath}' bin/nst.mjs ${args}`], { env: { TSX_DISABLE_CACHE: '1' }, command: 'bash' }).done;
    assert.equal(end.code, 2, end.stderr);
    const m = /error: cannot write the row of iteration (\d+) to metrics\.csv \(the file ends at the previous row\): the file grew past the size this process may write \(ulimit -f\) \(EFBIG\)/.exec(end.stderr);
    assert.ok(m, end.stderr);
    const text = readFileSync(join(dir, RUN_FILES.metrics), 'utf8');
    assert.ok(text.endsWith('\n'), 'no partial row');
    const lines = text.trim().split('\n');
    const columns = lines[0]!.split(',').length;
    assert.ok(lines.every((l) => l.split(',').length === columns));
    assert.deepEqual(lines.slice(1).map((l) => Number(l.split(',')[0])), Array.from({ length: Number(m[1]) }, (_, i) => i));
    assert.ok(text.length <= 4096 && text.length > 4096 - 300, `cut at the limit: ${text.length} bytes`);
  });
});

describe('a 10⁶-run grid', () => {
  it('lists in seconds, in a 128 MB heap', async () => {
    const spec = {
      name: 'million',
      base: { content: base.content, style: base.style, weights: 'random:0' },
      parameters: { styleWeight: { values: Array.from({ length: 100 }, (_, i) => 10 + i) }, contentWeight: { values: Array.from({ length: 100 }, (_, i) => 1 + i) }, seed: { values: Array.from({ length: 100 }, (_, i) => i) } },
    };
    const path = join(tmp, 'million.json');
    writeFileSync(path, JSON.stringify(spec));
    const started = Date.now();
    const child = spawn(process.execPath, ['--max-old-space-size=128', 'bin/nst.mjs', 'sweep', path, '--out', join(tmp, 'million-out'), '--list'], { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let lines = 0;
    let last = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      const s = d.toString();
      for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) lines++;
      last = (last + s).slice(-200);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    const seconds = (Date.now() - started) / 1000;
    assert.equal(code, 0, stderr.slice(-2000));
    assert.equal(lines, 1_000_000 + 4);
    assert.match(last, /1000000 PENDING\n$/);
    assert.ok(seconds < 90, `took ${seconds} s`);
  });
});
