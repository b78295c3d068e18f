/**
 * A sweep spec → a stable, ordered list of resolved runs: run index i is the same run on every machine,
 * so a Slurm array task or an Indexed Job pod needs only its index. Each run's id is the engine's runId
 * of its resolved config, so a sweep's run and the same `nst run --experiment <name>` share results.
 */
import { join } from 'node:path';
import { DEFAULT_CONFIG, resolveConfig, type RunConfig } from '../config';
import { NstError } from '../errors';
import { runDir, runIdFor } from '../run/store';
import { createRng, sampleChoice, sampleRange } from './random';
import { readSweepFile, type Parameter, type SweepSpec } from './spec';

export interface SweepRun {
  index: number;
  /** The swept values by parameter name, as written in the spec (or drawn, for random search). */
  params: Record<string, unknown>;
  config: RunConfig;
  id: string;
  /** `<out>/<sweep name>/<id>` */
  dir: string;
}

export interface Sweep {
  spec: SweepSpec;
  /** The results root. */
  out: string;
  /** `<out>/<sweep name>`: the runs, summary.csv and figures. */
  dir: string;
  runs: SweepRun[];
}

export interface ExpandOptions {
  /** Results root; wins over the spec's `base.out` (as `--out` does for `nst run`). */
  out?: string;
}

/** How a swept value is shown in tables and figure labels. */
export function formatValue(value: unknown): string {
  if (Array.isArray(value)) return value.map(formatValue).join(',');
  if (value && typeof value === 'object') {
    return Object.entries(value).map(([k, v]) => `${k}=${formatValue(v)}`).join(' ');
  }
  if (typeof value === 'number' && !Number.isInteger(value)) return String(Number(value.toPrecision(4)));
  return String(value);
}

/** The config keys a parameter's value sets: itself, or a whole partial config. */
function configPart(param: Parameter, value: unknown, isKey: boolean): Record<string, unknown> {
  return isKey ? { [param.name]: value } : (value as Record<string, unknown>);
}

function* gridCombos(parameters: Parameter[]): Generator<unknown[]> {
  const lists = parameters.map((p) => (p.spec.kind === 'values' ? p.spec.values : []));
  const n = lists.reduce((a, l) => a * l.length, 1);
  for (let i = 0; i < n; i++) {
    // Mixed radix with the last parameter fastest, as itertools.product.
    const combo: unknown[] = new Array(lists.length);
    let rest = i;
    for (let k = lists.length - 1; k >= 0; k--) {
      combo[k] = lists[k]![rest % lists[k]!.length];
      rest = Math.floor(rest / lists[k]!.length);
    }
    yield combo;
  }
}

function drawCombo(parameters: Parameter[], rng: () => number): unknown[] {
  return parameters.map((p) => (p.spec.kind === 'values' ? sampleChoice(rng, p.spec.values) : sampleRange(rng, p.spec.min, p.spec.max, p.spec.distribution)));
}

export function expandSweep(spec: SweepSpec, options: ExpandOptions = {}): Sweep {
  const where = spec.source ? `${spec.source}: ` : '';
  const out = options.out ?? (typeof spec.base.out === 'string' ? spec.base.out : DEFAULT_CONFIG.out);
  const keys = new Set(Object.keys(DEFAULT_CONFIG));
  const isKey = spec.parameters.map((p) => keys.has(p.name));

  const build = (combo: unknown[], index: number): SweepRun => {
    const params = Object.fromEntries(spec.parameters.map((p, k) => [p.name, combo[k]]));
    const partial = Object.assign({ ...spec.base, out, experiment: spec.name }, ...spec.parameters.map((p, k) => configPart(p, combo[k], isKey[k]!)));
    let config: RunConfig;
    try {
      config = resolveConfig(partial);
    } catch (e) {
      if (!(e instanceof NstError)) throw e;
      const values = spec.parameters.map((p) => `${p.name}=${formatValue(params[p.name])}`).join(', ');
      throw new NstError(`${where}run ${index} (${values}): ${e.message}`, e.hint);
    }
    return { index, params, config, id: runIdFor(config), dir: runDir(config) };
  };

  const runs: SweepRun[] = [];
  const seen = new Map<string, number>();
  if (spec.method === 'grid') {
    for (const combo of gridCombos(spec.parameters)) {
      const run = build(combo, runs.length);
      const twin = seen.get(run.id);
      if (twin !== undefined) {
        throw new NstError(
          `${where}runs ${twin} and ${run.index} are the same run (${run.id})`,
          'a value is listed twice, or a swept key does not change what a run computes (out, experiment, printEvery, saveEvery, backend)',
        );
      }
      seen.set(run.id, run.index);
      runs.push(run);
    }
  } else {
    // Distinct draws: a repeated config would be the same run twice in the same folder.
    const rng = createRng(spec.seed);
    const count = spec.count!;
    const maxDraws = 100 * count + 1000;
    for (let draws = 0; runs.length < count; draws++) {
      if (draws >= maxDraws) {
        throw new NstError(`${where}count: only ${runs.length} distinct runs found in ${maxDraws} draws`, `lower count to at most ${runs.length}, or widen the parameters`);
      }
      const run = build(drawCombo(spec.parameters, rng), runs.length);
      if (seen.has(run.id)) continue;
      seen.set(run.id, run.index);
      runs.push(run);
    }
  }
  return { spec, out, dir: join(out, spec.name), runs };
}

export function loadSweep(path: string, options: ExpandOptions = {}): Sweep {
  return expandSweep(readSweepFile(path), options);
}

/** The swept parameters that actually vary across the runs, in spec order: the sweep's axes. */
export function sweptAxes(sweep: Sweep): string[] {
  return sweep.spec.parameters
    .map((p) => p.name)
    .filter((name) => new Set(sweep.runs.map((r) => formatValue(r.params[name]))).size > 1);
}
