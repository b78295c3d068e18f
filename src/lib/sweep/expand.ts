/**
 * A sweep spec → a stable, ordered list of resolved runs: run index i is the same run on every machine,
 * so a Slurm array task or an Indexed Job pod needs only its index. Each run's id is the engine's runId
 * of its resolved config, so a sweep's run and the same `nst run --experiment <name>` share results.
 * A large grid's runs are built from their index when asked for, their ids assembled from per-value
 * parts without resolving each config, so that listing or scanning a 10⁶-run grid takes seconds and
 * little memory.
 */
import { join } from 'node:path';
import { DEFAULT_CONFIG, resolveConfig, type RunConfig } from '../config';
import { NstError } from '../errors';
import { composeRunId, identityFragment, IDENTITY_KEYS, runIdFor } from '../run/store';
import { createRng, sampleChoice, sampleRange } from './random';
import { atScale, readSweepFile, type Parameter, type SweepSpec } from './spec';
import { clipIdFor, resolveClipConfig, VIDEO_KEYS, type ClipConfig } from '../video/video-config';

export interface SweepRun {
  index: number;
  /** The swept values by parameter name, as written in the spec (or drawn, for random search). */
  params: Record<string, unknown>;
  /** The resolved config (of a large grid's run: resolved and checked when first read). */
  readonly config: RunConfig;
  id: string;
  /** `<out>/<sweep name>/<id>` */
  dir: string;
  /** A `kind: video` sweep's run: the clip (run keys and video keys); `config` is its run half. */
  clip?: ClipConfig;
}

export interface Sweep {
  spec: SweepSpec;
  /** The results root. */
  out: string;
  /** `<out>/<sweep name>`: the runs, summary.csv and figures. */
  dir: string;
  /** How many runs there are. */
  readonly size: number;
  /** Run `index`, resolved and checked, built when asked for: a 10⁶-run grid is never held in memory. */
  run(index: number): SweepRun;
  /** Every run, built on first use and kept (for reports, figures and notebooks over small sweeps). */
  readonly runs: SweepRun[];
  /** Every content and style image the runs read, with the index of a run that reads it. */
  readonly images: ReadonlyMap<string, number>;
}

export interface ExpandOptions {
  /** Results root; wins over the spec's `base.out` (as `--out` does for `nst run`). */
  out?: string;
  /** A scale of the spec (`smoke`, see spec.ts's atScale); default: the file's own values. */
  scale?: string;
  /**
   * Config keys over the spec's base and under its parameters: what a notebook's parameters cell
   * chooses for every run (network, weights, backend).
   */
  override?: Readonly<Record<string, unknown>>;
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

function drawCombo(parameters: Parameter[], rng: () => number): unknown[] {
  return parameters.map((p) => (p.spec.kind === 'values' ? sampleChoice(rng, p.spec.values) : sampleRange(rng, p.spec.min, p.spec.max, p.spec.distribution)));
}

/** Grids up to this many runs resolve and check every run when expanded (a fraction of a second). */
const FULL_CHECK_RUNS = 10_000;

/** Runs of a large grid whose assembled id is checked against the fully resolved one at expansion. */
const ID_SAMPLE = 32;

export function expandSweep(fileSpec: SweepSpec, options: ExpandOptions = {}): Sweep {
  const spec = withOverride(atScale(fileSpec, options.scale), options.override);
  const where = spec.source ? `${spec.source}: ` : '';
  const out = options.out ?? (typeof spec.base.out === 'string' ? spec.base.out : DEFAULT_CONFIG.out);
  const dir = join(out, spec.name);
  const keys = new Set([...Object.keys(DEFAULT_CONFIG), ...(spec.kind === 'video' ? VIDEO_KEYS : [])]);
  const isKey = spec.parameters.map((p) => keys.has(p.name));
  const paramsOf = (combo: unknown[]) => Object.fromEntries(spec.parameters.map((p, k) => [p.name, combo[k]]));

  /** A run's config (or clip), resolved and checked; errors name the run and its values. */
  const resolveAs = <T>(combo: unknown[], index: number, resolve: (partial: Record<string, unknown>) => T): T => {
    const partial = Object.assign({ ...spec.base, out, experiment: spec.name }, ...spec.parameters.map((p, k) => configPart(p, combo[k], isKey[k]!)));
    try {
      return resolve(partial);
    } catch (e) {
      if (!(e instanceof NstError)) throw e;
      const values = spec.parameters.map((p, k) => `${p.name}=${formatValue(combo[k])}`).join(', ');
      throw new NstError(`${where}run ${index} (${values}): ${e.message}`, e.hint);
    }
  };
  const resolveRun = (combo: unknown[], index: number): RunConfig => resolveAs(combo, index, resolveConfig);

  /** A run whose config is resolved when first read: listing and scanning need only its id. */
  const lazyRun = (index: number, combo: unknown[], id: string, known?: RunConfig): SweepRun => {
    let config = known;
    return {
      index,
      params: paramsOf(combo),
      id,
      dir: join(dir, id),
      get config() {
        if (!config) {
          config = resolveRun(combo, index);
          const resolved = runIdFor(config);
          if (resolved !== id) throw new Error(`run ${index}: the id assembled from the parameters (${id}) differs from its resolved config's (${resolved})`);
        }
        return config;
      },
    };
  };

  const images = new Map<string, number>();
  const noteImages = (cfg: RunConfig, index: number) => {
    for (const path of [cfg.content, ...cfg.style]) if (path && !images.has(path)) images.set(path, index);
  };

  const make = (size: number, runAt: (index: number) => SweepRun, eager?: SweepRun[]): Sweep => {
    let all = eager;
    const run = (index: number) => {
      if (!Number.isInteger(index) || index < 0 || index >= size) throw new RangeError(`run index ${index} is outside 0..${size - 1}`);
      return all ? all[index]! : runAt(index);
    };
    return {
      spec,
      out,
      dir,
      size,
      images,
      run,
      get runs() {
        all ??= Array.from({ length: size }, (_, i) => run(i));
        return all;
      },
    };
  };

  const gridCombos = () => {
    const lists = spec.parameters.map((p) => (p.spec.kind === 'values' ? p.spec.values : []));
    const size = lists.reduce((a, l) => a * l.length, 1);
    const radix = lists.map((_, k) => lists.slice(k + 1).reduce((a, l) => a * l.length, 1));
    const positions = (index: number) => radix.map((r, k) => Math.floor(index / r) % lists[k]!.length);
    return { lists, size, radix, positions, combo: (index: number) => positions(index).map((j, k) => lists[k]![j]) };
  };

  if (spec.kind === 'video') {
    // Clips: their ids also cover the video keys (clipIdFor), and clip sweeps are small, so every run
    // is resolved here. spec.ts allows only grids of them.
    const { size, combo } = gridCombos();
    const seen = new Map<string, number>();
    const runs = Array.from({ length: size }, (_, i): SweepRun => {
      const clip = resolveAs(combo(i), i, resolveClipConfig);
      const id = clipIdFor(clip);
      const twin = seen.get(id);
      if (twin !== undefined) throw new NstError(`${where}runs ${twin} and ${i} are the same clip (${id})`, 'a value is listed twice, or a swept key does not change what a clip computes');
      seen.set(id, i);
      noteImages(clip.run, i);
      return { index: i, params: paramsOf(combo(i)), config: clip.run, id, dir: join(dir, id), clip };
    });
    return make(size, (i) => runs[i]!, runs);
  }

  if (spec.method === 'grid') {
    const { lists, size, radix, positions, combo } = gridCombos();

    // Every value of every parameter, resolved with the others at their first value: checks each value
    // once, and gives the identity fragments a run is assembled from.
    const first = resolveRun(combo(0), 0);
    noteImages(first, 0);
    const variants = lists.map((values, k) =>
      values.map((_, j) => {
        if (j === 0) return first;
        const cfg = resolveRun(combo(j * radix[k]!), j * radix[k]!);
        noteImages(cfg, j * radix[k]!);
        return cfg;
      }),
    );
    const base = IDENTITY_KEYS.map((key) => identityFragment(first, key));
    const fragments = variants.map((vs) => vs.map((cfg) => IDENTITY_KEYS.map((key) => identityFragment(cfg, key))));
    // The identity keys each parameter changes. Keys are set by one parameter each (spec.ts) and
    // resolved key by key, so a run's identity is the first run's with each parameter's keys replaced.
    const moves = fragments.map((fs) => IDENTITY_KEYS.map((_, pos) => pos).filter((pos) => fs.some((f) => f[pos] !== base[pos])));
    const mover = (key: string) => moves.findIndex((m) => m.includes(IDENTITY_KEYS.indexOf(key)));
    const assembled = (index: number): string => {
      const at = positions(index);
      const f = base.slice();
      moves.forEach((m, k) => m.forEach((pos) => (f[pos] = fragments[k]![at[k]!]![pos]!)));
      const [c, st] = [mover('content'), mover('style')];
      return composeRunId(c < 0 ? first.content : variants[c]![at[c]!]!.content, st < 0 ? first.style : variants[st]![at[st]!]!.style, f);
    };

    // Two runs are the same exactly when some parameter has two values that give the same identity.
    variants.forEach((vs, k) => {
      const seen = new Map<string, number>();
      vs.forEach((cfg, j) => {
        const id = runIdFor(cfg);
        const twin = seen.get(id);
        if (twin !== undefined) {
          throw new NstError(
            `${where}runs ${twin} and ${j * radix[k]!} are the same run (${id})`,
            'a value is listed twice, or a swept key does not change what a run computes (out, experiment, printEvery, saveEvery)',
          );
        }
        seen.set(id, j * radix[k]!);
      });
    });

    if (size <= FULL_CHECK_RUNS) {
      // Small grids: every run resolved and checked now, as before any run starts.
      const runs = Array.from({ length: size }, (_, i) => {
        const cfg = resolveRun(combo(i), i);
        return lazyRun(i, combo(i), runIdFor(cfg), cfg);
      });
      runs.forEach((r) => {
        if (r.id !== assembled(r.index)) throw new Error(`run ${r.index}: assembled id ${assembled(r.index)} differs from ${r.id}`);
      });
      return make(size, (i) => runs[i]!, runs);
    }
    // Large grids: a value that fails only in combination with another is reported when its run is
    // built. Should parameters interact after all (one parameter's value changing a key another sets),
    // every run is resolved instead: slower, never wrong.
    const disjoint = moves.every((m, k) => m.every((pos) => moves.every((other, l) => l === k || !other.includes(pos))));
    const sample = Array.from({ length: ID_SAMPLE }, (_, i) => (i === 0 ? 0 : i === 1 ? size - 1 : (i * 2654435761) % size));
    const exact = disjoint && sample.every((i) => assembled(i) === runIdFor(resolveRun(combo(i), i)));
    return make(size, (i) => {
      if (exact) return lazyRun(i, combo(i), assembled(i));
      const cfg = resolveRun(combo(i), i);
      return lazyRun(i, combo(i), runIdFor(cfg), cfg);
    });
  }

  // Distinct draws: a repeated config would be the same run twice in the same folder.
  const rng = createRng(spec.seed);
  const count = spec.count!;
  const maxDraws = 100 * count + 1000;
  const runs: SweepRun[] = [];
  const seen = new Set<string>();
  for (let draws = 0; runs.length < count; draws++) {
    if (draws >= maxDraws) {
      throw new NstError(`${where}count: only ${runs.length} distinct runs found in ${maxDraws} draws`, `lower count to at most ${runs.length}, or widen the parameters`);
    }
    const drawn = drawCombo(spec.parameters, rng);
    const cfg = resolveRun(drawn, runs.length);
    const id = runIdFor(cfg);
    if (seen.has(id)) continue;
    seen.add(id);
    noteImages(cfg, runs.length);
    runs.push(lazyRun(runs.length, drawn, id, cfg));
  }
  return make(count, (i) => runs[i]!, runs);
}

export function loadSweep(path: string, options: ExpandOptions = {}): Sweep {
  return expandSweep(readSweepFile(path), options);
}

/** The swept parameters that actually vary across the runs, in spec order: the sweep's axes. */
export function sweptAxes(sweep: Sweep): string[] {
  const distinct = (values: unknown[]) => new Set(values.map(formatValue)).size;
  return sweep.spec.parameters
    .filter((p) => (p.spec.kind === 'values' && sweep.spec.method === 'grid' ? distinct(p.spec.values) : distinct(sweep.runs.map((r) => r.params[p.name]))) > 1)
    .map((p) => p.name);
}

/** The spec with `override`'s keys over its base (the experiment and results root stay the sweep's). */
function withOverride(spec: SweepSpec, override: ExpandOptions['override']): SweepSpec {
  if (!override || Object.keys(override).length === 0) return spec;
  for (const key of ['experiment', 'out']) {
    if (key in override) throw new NstError(`override: '${key}' is the sweep's own`, key === 'out' ? 'give the results root as the out option' : 'the experiment is the sweep\'s name');
  }
  return { ...spec, base: { ...spec.base, ...override }, overridden: Object.keys(override) };
}
