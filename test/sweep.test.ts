/** Sweep files: validation, stable expansion and ids, run states, job-array wrappers and --list (no compute). */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { resolveConfig } from '../src/lib/config';
import { NstError } from '../src/lib/errors';
import { runDir, runIdFor } from '../src/lib/run/store';
import { k8sManifest, schedulerIndex, slurmScript } from '../src/lib/sweep/emit';
import { expandSweep, loadSweep, sweptAxes } from '../src/lib/sweep/expand';
import { runSweep, runsToDo } from '../src/lib/sweep/runner';
import { parseSweepSpec, readSweepFile } from '../src/lib/sweep/spec';
import { readStatus, runState, sameSchedulerTask, STATUS_FILE, type RunStatus } from '../src/lib/sweep/status';
import { sweepTable } from '../src/lib/sweep/table';

const tmp = mkdtempSync(join(tmpdir(), 'nst-sweep-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const content = 'data/images/tubingen.jpg';
const starry = 'data/images/starry_night.jpg';
const wreck = 'data/images/shipwreck.jpg';

function grid(extra: Record<string, unknown> = {}) {
  return {
    name: 'g',
    base: { content, weights: 'random:0', imageSize: 32, iterations: 3 },
    parameters: {
      style: { values: [starry, wreck] },
      styleWeight: { values: [1e2, 1e3, 1e4] },
      styleLayers: { values: [['conv1_1'], 'gatys2016_style'] },
    },
    ...extra,
  };
}

function writeSpec(name: string, spec: unknown, json = false): string {
  const path = join(tmp, `${name}.${json ? 'json' : 'yaml'}`);
  writeFileSync(path, json ? JSON.stringify(spec) : stringifyYaml(spec));
  return path;
}

/** The NstError a bad spec gives: its message must name the offending key. */
function specError(spec: unknown): NstError {
  try {
    expandSweep(parseSweepSpec(spec, 'bad.yaml'), { out: tmp });
  } catch (e) {
    assert.ok(e instanceof NstError, `expected an NstError, got ${String(e)}`);
    return e;
  }
  assert.fail('the spec was accepted');
}

describe('grid expansion', () => {
  const sweep = expandSweep(parseSweepSpec(grid()), { out: tmp });

  it('is the cartesian product in file order, the last parameter fastest', () => {
    const expected: unknown[][] = [];
    for (const s of [starry, wreck]) for (const w of [1e2, 1e3, 1e4]) for (const l of [['conv1_1'], 'gatys2016_style']) expected.push([s, w, l]);
    assert.equal(sweep.runs.length, 12);
    assert.deepEqual(sweep.runs.map((r) => r.index), [...expected.keys()]);
    assert.deepEqual(sweep.runs.map((r) => [r.params.style, r.params.styleWeight, r.params.styleLayers]), expected);
  });

  it("gives each run the engine's id and folder of its resolved config", () => {
    for (const r of sweep.runs) {
      const cfg = resolveConfig({ content, weights: 'random:0', imageSize: 32, iterations: 3, style: r.params.style, styleWeight: r.params.styleWeight, styleLayers: r.params.styleLayers, out: tmp, experiment: 'g' });
      assert.deepEqual(r.config, cfg);
      assert.equal(r.id, runIdFor(cfg));
      assert.equal(r.dir, runDir(cfg));
      assert.equal(r.dir, join(tmp, 'g', r.id));
    }
    assert.equal(new Set(sweep.runs.map((r) => r.id)).size, 12);
  });

  it('is the same from YAML and JSON, with keys in any order, and in another process', () => {
    const spec = grid();
    const reordered = { parameters: spec.parameters, base: Object.fromEntries(Object.entries(spec.base).reverse()), name: 'g' };
    const ids = sweep.runs.map((r) => r.id);
    assert.deepEqual(loadSweep(writeSpec('g', spec), { out: tmp }).runs.map((r) => r.id), ids);
    assert.deepEqual(loadSweep(writeSpec('g2', reordered, true), { out: tmp }).runs.map((r) => r.id), ids);
    const code = `import('./src/lib/sweep/expand.ts').then((m) => console.log(JSON.stringify(m.loadSweep(${JSON.stringify(join(tmp, 'g.yaml'))}).runs.map((r) => r.id))))`;
    const other = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', code], { encoding: 'utf8' }));
    assert.deepEqual(other, ids);
  });

  it('lets --out move the results but not change the ids', () => {
    const moved = expandSweep(parseSweepSpec(grid()), { out: join(tmp, 'elsewhere') });
    assert.deepEqual(moved.runs.map((r) => r.id), sweep.runs.map((r) => r.id));
    assert.equal(moved.runs[0]!.dir, join(tmp, 'elsewhere', 'g', sweep.runs[0]!.id));
    assert.equal(expandSweep(parseSweepSpec({ ...grid(), base: { ...grid().base, out: 'from-base' } })).out, 'from-base');
  });

  it('sweeps whole sub-configs as one axis', () => {
    const s = expandSweep(
      parseSweepSpec({
        name: 'b',
        base: { content, style: [starry] },
        parameters: { start: { values: [{ init: 'content' }, { init: 'noise', seed: 3 }] }, styleWeight: { values: [1, 2] } },
      }),
    );
    assert.deepEqual(s.runs.map((r) => [r.config.init, r.config.seed, r.config.styleWeight]), [['content', 0, 1], ['content', 0, 2], ['noise', 3, 1], ['noise', 3, 2]]);
    assert.deepEqual(sweptAxes(s), ['start', 'styleWeight']);
  });
});

describe('scales and keys set over the file', () => {
  const scaled = () => parseSweepSpec(grid({ scales: { smoke: { base: { imageSize: 16, iterations: 1 }, parameters: { styleWeight: { values: [1e3] } } } } }));

  it('a scale sets base keys and replaces values, in a folder of its own', () => {
    const full = expandSweep(scaled(), { out: tmp });
    const smoke = expandSweep(scaled(), { out: tmp, scale: 'smoke' });
    assert.equal(full.size, 12);
    assert.equal(smoke.size, 4, '2 styles × 1 style weight × 2 layer sets');
    assert.equal(smoke.dir, join(tmp, 'g-smoke'));
    for (const r of smoke.runs) {
      const expected = resolveConfig({ ...grid().base, ...(r.params as object), imageSize: 16, iterations: 1, styleWeight: 1e3, out: tmp, experiment: 'g-smoke' });
      assert.equal(r.id, runIdFor(expected));
      assert.equal(r.dir, runDir(expected));
    }
    assert.equal(expandSweep(scaled(), { out: tmp, scale: 'paper' }).dir, full.dir, 'paper is the file as written');
    assert.throws(() => expandSweep(scaled(), { scale: 'huge' }), /no scale 'huge'[\s\S]*paper, smoke/);
  });

  it('keys set over the base change every run but not what the parameters set', () => {
    const s = expandSweep(scaled(), { out: tmp, override: { weights: 'random:7', styleWeight: 5 } });
    assert.ok(s.runs.every((r) => r.config.weights === 'random:7'));
    assert.deepEqual([...new Set(s.runs.map((r) => r.config.styleWeight))], [1e2, 1e3, 1e4]);
    assert.throws(() => expandSweep(scaled(), { override: { experiment: 'x' } }), /override: 'experiment'/);
  });

  it('a job array runs the scale it was emitted at, and refuses keys the file does not hold', () => {
    const path = writeSpec('scaled', { ...grid(), scales: { smoke: { base: { iterations: 1 } } } });
    assert.match(slurmScript(loadSweep(path, { out: tmp, scale: 'smoke' })), /'--scale' 'smoke'/);
    assert.doesNotMatch(slurmScript(loadSweep(path, { out: tmp })), /--scale/);
    assert.throws(() => slurmScript(loadSweep(path, { out: tmp, override: { seed: 3 } })), /without the keys set over it \(seed\)/);
  });
});

describe('random search', () => {
  const spec = (count: number, seed = 7) =>
    parseSweepSpec({
      name: 'r',
      method: 'random',
      count,
      seed,
      base: { content, style: [starry] },
      parameters: {
        styleWeight: { min: 10, max: 1e5, distribution: 'log_uniform_values' },
        tvWeight: { min: Math.log(1e-4), max: Math.log(1e-1), distribution: 'log_uniform' },
        seed: { min: 0, max: 3, distribution: 'int_uniform' },
        pooling: { values: ['avg', 'max'] },
        learningRate: { min: 0.5, max: 2 },
        iterations: { min: 5, max: 9 },
      },
    });

  it('draws the same distinct runs for the same seed; a larger count extends them', () => {
    const a = expandSweep(spec(40));
    assert.deepEqual(expandSweep(spec(40)).runs.map((r) => r.id), a.runs.map((r) => r.id));
    assert.equal(new Set(a.runs.map((r) => r.id)).size, 40);
    assert.deepEqual(expandSweep(spec(60)).runs.slice(0, 40).map((r) => r.id), a.runs.map((r) => r.id));
    assert.notDeepEqual(expandSweep(spec(40, 8)).runs.map((r) => r.id), a.runs.map((r) => r.id));
  });

  it('keeps draws inside their ranges, log-uniform ones spread over the decades', () => {
    const runs = expandSweep(spec(200)).runs;
    const sw = runs.map((r) => r.config.styleWeight);
    const tv = runs.map((r) => r.config.tvWeight);
    assert.ok(sw.every((w) => w >= 10 && w <= 1e5));
    assert.ok(tv.every((w) => w >= 1e-4 && w <= 1e-1 + 1e-12));
    // Each of the four decades of styleWeight gets a fair share of 200 log-uniform draws.
    for (let d = 1; d < 5; d++) {
      const n = sw.filter((w) => w >= 10 ** d && w < 10 ** (d + 1)).length;
      assert.ok(n > 25 && n < 75, `decade 1e${d}: ${n} of 200`);
    }
    assert.deepEqual([...new Set(runs.map((r) => r.config.seed))].sort(), [0, 1, 2, 3]);
    assert.deepEqual([...new Set(runs.map((r) => r.config.pooling))].sort(), ['avg', 'max']);
    assert.ok(runs.every((r) => r.config.learningRate >= 0.5 && r.config.learningRate <= 2));
    assert.ok(runs.some((r) => !Number.isInteger(r.config.learningRate)));
    // Integer bounds without a distribution draw integers (as W&B infers int_uniform).
    assert.deepEqual([...new Set(runs.map((r) => r.config.iterations))].sort(), [5, 6, 7, 8, 9]);
  });

  it('says when fewer distinct runs exist than asked for', () => {
    const e = specError({ name: 'r', method: 'random', count: 5, base: { style: [starry] }, parameters: { pooling: { values: ['avg', 'max'] } } });
    assert.match(e.message, /count: only 2 distinct runs/);
  });
});

describe('invalid sweep files', () => {
  const cases: [string, unknown, RegExp][] = [
    ['not a mapping', [1, 2], /bad\.yaml: \(top level\)/],
    ['an unknown top-level key', { ...grid(), paramters: {} }, /paramters: unknown sweep key/],
    ['a missing name', { ...grid(), name: undefined }, /name: expected a folder name/],
    ['a name that is not a folder', { ...grid(), name: 'a/b' }, /name: expected a folder name/],
    ['no parameters', { ...grid(), parameters: {} }, /parameters: expected a mapping/],
    ['an unknown config key in base', { ...grid(), base: { contnet: content } }, /base\.contnet: unknown config key/],
    ['experiment in base', { ...grid(), base: { experiment: 'x' } }, /base\.experiment/],
    ['an unknown parameter', { ...grid(), parameters: { styleWieght: { values: [1, 2] } } }, /parameters\.styleWieght: unknown config key/],
    ['out as a parameter', { ...grid(), parameters: { out: { values: ['a', 'b'] } } }, /parameters\.out: cannot be swept/],
    ['an empty values list', { ...grid(), parameters: { styleWeight: { values: [] } } }, /parameters\.styleWeight\.values: expected a non-empty list/],
    ['a bare value', { ...grid(), parameters: { styleWeight: 5 } }, /parameters\.styleWeight: expected \{values/],
    ['a range in a grid', { ...grid(), parameters: { styleWeight: { min: 1, max: 2 } } }, /parameters\.styleWeight: a range \(min\/max\) needs method: random/],
    ['random without count', { ...grid(), method: 'random' }, /count: method: random needs a positive integer count/],
    ['count in a grid', { ...grid(), count: 3 }, /count: only method: random takes a count/],
    ['an unknown method', { ...grid(), method: 'bayes' }, /method: 'bayes' is not allowed/],
    ['an unknown distribution', { ...grid(), method: 'random', count: 2, parameters: { styleWeight: { min: 1, max: 2, distribution: 'normal' } } }, /parameters\.styleWeight\.distribution: 'normal'/],
    ['log_uniform with value bounds', { ...grid(), method: 'random', count: 2, parameters: { styleWeight: { min: 1e2, max: 1e5, distribution: 'log_uniform' } } }, /parameters\.styleWeight: log_uniform takes natural-log bounds/],
    ['min above max', { ...grid(), method: 'random', count: 2, parameters: { styleWeight: { min: 5, max: 2 } } }, /parameters\.styleWeight: min 5 is above max 2/],
    ['a bad value type', { ...grid(), parameters: { style: { values: [starry] }, styleWeight: { values: [1, 'lots'] } } }, /run 1 \(style=.*styleWeight=lots\): --style-weight \(styleWeight\): expected a number/],
    ['an unknown layer', { ...grid(), parameters: { style: { values: [starry] }, styleLayers: { values: [['conv9_9']] } } }, /run 0 .*--style-layers \(styleLayers\)/],
    ['a value listed twice', { ...grid(), parameters: { style: { values: [starry] }, styleWeight: { values: [1, 2, 1] } } }, /runs 0 and 2 are the same run/],
    ['a key that does not change the run', { ...grid(), parameters: { style: { values: [starry] }, printEvery: { values: [1, 2] } } }, /runs 0 and 1 are the same run/],
    ['a sub-config with an unknown key', { ...grid(), parameters: { start: { values: [{ init: 'noise' }, { innit: 'content' }] } } }, /parameters\.start\.values\[1\]\.innit: unknown config key/],
    ['one key set by two parameters', { ...grid(), parameters: { seed: { values: [1, 2] }, start: { values: [{ seed: 3 }] } } }, /parameters\.start: sets 'seed', which parameters\.seed also sets/],
    ['a metric that is not a loss', { ...grid(), metric: { name: 'accuracy' } }, /metric\.name: 'accuracy' is not a loss/],
    ['a bad metric goal', { ...grid(), metric: { name: 'total', goal: 'lowest' } }, /metric\.goal: 'lowest' is not allowed/],
    ['a scale of an unknown parameter', { ...grid(), scales: { smoke: { parameters: { seed: { values: [1] } } } } }, /scales\.smoke\.parameters\.seed: is not a parameter of the sweep/],
    ['a scale named paper', { ...grid(), scales: { paper: { base: {} } } }, /scales\.paper: 'paper' cannot name a scale/],
    ['a scale setting experiment', { ...grid(), scales: { smoke: { base: { experiment: 'x' } } } }, /scales\.smoke\.base\.experiment: cannot be set by a scale/],
  ];
  for (const [what, spec, pattern] of cases) {
    it(`rejects ${what}`, () => {
      const e = specError(spec);
      assert.match(e.message, pattern);
      assert.match(e.message, /^bad\.yaml: /);
    });
  }

  it('names the file when it is missing or not YAML', () => {
    assert.throws(() => readSweepFile(join(tmp, 'nope.yaml')), /sweep file not found: .*nope\.yaml/);
    const broken = join(tmp, 'broken.yaml');
    writeFileSync(broken, 'name: [unclosed\n');
    assert.throws(() => readSweepFile(broken), /cannot parse .*broken\.yaml/);
  });
});

describe('shipped experiments', () => {
  for (const file of readdirSync('experiments').filter((f) => /\.(ya?ml|json)$/.test(f))) {
    it(`${file} expands, with existing inputs and a name matching its file`, () => {
      const sweep = loadSweep(join('experiments', file), { out: tmp });
      assert.equal(sweep.spec.name, file.replace(/\.(ya?ml|json)$/, ''));
      assert.ok(sweep.runs.length >= 2);
      for (const scale of Object.keys(sweep.spec.scales)) assert.ok(loadSweep(join('experiments', file), { out: tmp, scale }).size >= 1, `${file} at scale ${scale}`);
      for (const r of sweep.runs) for (const img of [r.config.content, ...r.config.style].filter(Boolean)) assert.ok(readdirSync('data/images').includes(img.split('/').pop()!), img);
    });
  }
});

describe('run states and resumption choices', () => {
  const sweep = expandSweep(parseSweepSpec({ ...grid(), name: 'states' }), { out: tmp });
  const [pending, completed, deadHere, liveHere, liveThere, staleThere, adopted, failed] = sweep.runs;
  const status = (r: typeof pending, s: Partial<RunStatus>) => {
    mkdirSync(r!.dir, { recursive: true });
    const now = new Date().toISOString();
    const full: RunStatus = { state: 'RUNNING', sweep: 'states', index: r!.index, runId: r!.id, attempt: 1, host: hostname(), pid: process.pid, startedAt: now, heartbeatAt: now, iteration: 1, iterations: 3, ...s };
    writeFileSync(join(r!.dir, STATUS_FILE), JSON.stringify(full));
  };
  const sleeper = spawn('sleep', ['60']);
  after(() => sleeper.kill());

  it('reads PENDING, COMPLETED, FAILED, and RUNNING only while the process lives', () => {
    status(completed, { state: 'COMPLETED' });
    status(failed, { state: 'FAILED', error: 'boom' });
    // A pid that exited: the run was killed.
    const gone = spawn('true');
    return new Promise<void>((done) => gone.on('exit', () => {
      status(deadHere, { pid: gone.pid! });
      status(liveHere, { pid: sleeper.pid! });
      status(liveThere, { host: 'elsewhere', heartbeatAt: new Date(Date.now() - 60_000).toISOString() });
      status(staleThere, { host: 'elsewhere', heartbeatAt: new Date(Date.now() - 3_600_000).toISOString() });
      mkdirSync(adopted!.dir, { recursive: true });
      writeFileSync(join(adopted!.dir, 'final.png'), '');
      writeFileSync(join(adopted!.dir, 'summary.json'), JSON.stringify({ stopReason: 'completed' }));
      assert.equal(runState(pending!.dir), 'PENDING');
      assert.equal(runState(completed!.dir), 'COMPLETED');
      assert.equal(runState(failed!.dir), 'FAILED');
      assert.equal(runState(deadHere!.dir), 'INTERRUPTED');
      assert.equal(runState(liveHere!.dir), 'RUNNING');
      assert.equal(runState(liveThere!.dir), 'RUNNING');
      assert.equal(runState(staleThere!.dir), 'INTERRUPTED');
      assert.equal(runState(adopted!.dir), 'COMPLETED', 'a finished `nst run` result in the folder counts');
      done();
    }));
  });

  it('runs what is neither COMPLETED nor live elsewhere', () => {
    const { todo, busy } = runsToDo(sweep);
    assert.deepEqual(busy.map((r) => r.index), [liveHere!.index, liveThere!.index]);
    const skipped = new Set([completed, adopted, liveHere, liveThere].map((r) => r!.index));
    assert.deepEqual(todo.map((r) => r.index), sweep.runs.map((r) => r.index).filter((i) => !skipped.has(i)));
  });

  it('an array task leaves a run a live process works on, unless that is its own earlier attempt', async () => {
    const text = readFileSync(join(liveHere!.dir, STATUS_FILE), 'utf8');
    const outcome = await runSweep(sweep, { index: liveHere!.index, log: null });
    assert.deepEqual([outcome.ran, outcome.busy], [[], [liveHere!.index]]);
    assert.equal(readFileSync(join(liveHere!.dir, STATUS_FILE), 'utf8'), text);
    const requeued = { ...readStatus(liveHere!.dir)!, scheduler: { SLURM_ARRAY_JOB_ID: '7', SLURM_ARRAY_TASK_ID: '2' } };
    assert.equal(sameSchedulerTask(requeued, { SLURM_ARRAY_JOB_ID: '7', SLURM_ARRAY_TASK_ID: '2' }), true);
    assert.equal(sameSchedulerTask(requeued, { SLURM_ARRAY_JOB_ID: '7', SLURM_ARRAY_TASK_ID: '3' }), false);
    assert.equal(sameSchedulerTask(requeued, {}), false);
  });

  it('--list shows every run with its id, swept values and status', () => {
    const lines = sweepTable(sweep).split('\n');
    assert.match(lines[0]!, /sweep states \(grid\): 12 runs/);
    assert.match(lines[1]!, /^index\s+id\s+style\s+styleWeight\s+styleLayers\s+status/);
    for (const r of sweep.runs) {
      const line = lines.find((l) => l.includes(r.id));
      assert.ok(line, `run ${r.index} missing`);
      assert.match(line!, new RegExp(`^\\s*${r.index}\\s+${r.id}\\s+${r.params.style}\\s+${r.params.styleWeight}\\s`));
      assert.match(line!, new RegExp(`\\b${runState(r.dir)}\\b`));
    }
  });
});

describe('job-array wrappers', () => {
  const path = writeSpec('emit', grid());
  const sweep = loadSweep(path, { out: join(tmp, 'res') });

  it('slurm: an array over every index with %A_%a logs, running `nst sweep FILE`', () => {
    const script = slurmScript(sweep, { partition: 'gpu', gpusPerTask: 1, time: '02:00:00', maxParallel: 3 });
    const directives = script.split('\n').filter((l) => l.startsWith('#SBATCH')).map((l) => l.slice(8));
    assert.ok(directives.includes('--array=0-11%3'));
    assert.ok(directives.includes('--partition=gpu'));
    assert.ok(directives.includes('--gpus-per-task=1'));
    assert.ok(directives.includes('--time=02:00:00'));
    assert.ok(directives.some((d) => /^--output=.*\/res\/g\/logs\/%A_%a\.out$/.test(d)));
    assert.ok(directives.some((d) => /^--signal=B:TERM@\d+$/.test(d)));
    assert.match(script, new RegExp(`exec 'node' '[^']*/bin/nst\\.mjs' 'sweep' '${path}' '--out' '${join(tmp, 'res')}'`));
    assert.doesNotMatch(script, /--index/, 'the task reads its index from SLURM_ARRAY_TASK_ID');
    execFileSync('bash', ['-n'], { input: script });
    assert.doesNotMatch(slurmScript(sweep), /%\d|--partition|--gpus|--time/);
  });

  it('k8s: an Indexed Job with one completion per run', () => {
    const text = k8sManifest(sweep, { image: 'reg/nst:1', gpusPerTask: 2, maxParallel: 4, pvc: 'nst-results' });
    const job = parseYaml(text);
    assert.equal(job.kind, 'Job');
    assert.equal(job.spec.completionMode, 'Indexed');
    assert.equal(job.spec.completions, 12);
    assert.equal(job.spec.parallelism, 4);
    const c = job.spec.template.spec.containers[0];
    assert.equal(c.image, 'reg/nst:1');
    assert.deepEqual(c.command.slice(0, 3), ['node', 'bin/nst.mjs', 'sweep']);
    assert.equal(c.resources.limits['nvidia.com/gpu'], 2);
    assert.equal(job.spec.template.spec.volumes[0].persistentVolumeClaim.claimName, 'nst-results');
    assert.match(job.metadata.name, /^[a-z0-9-]{1,63}$/);
  });

  it('the scheduler index comes from SLURM_ARRAY_TASK_ID, else JOB_COMPLETION_INDEX', () => {
    assert.equal(schedulerIndex({}), undefined);
    assert.equal(schedulerIndex({ SLURM_ARRAY_TASK_ID: '3' }), 3);
    assert.equal(schedulerIndex({ JOB_COMPLETION_INDEX: '5' }), 5);
    assert.equal(schedulerIndex({ SLURM_ARRAY_TASK_ID: '2', JOB_COMPLETION_INDEX: '5' }), 2);
    assert.throws(() => schedulerIndex({ SLURM_ARRAY_TASK_ID: 'x' }), /SLURM_ARRAY_TASK_ID=x is not a run index/);
  });
});
