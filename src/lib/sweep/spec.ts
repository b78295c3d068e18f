/**
 * Sweep files: `experiments/<name>.yaml` (or .json), in the shape researchers know from W&B sweep
 * files — `name`, `base` (a partial run config), `parameters` (config key → `{values}` for a grid or
 * `{min, max, distribution}` for `method: random`), `count`, `seed`, `metric`. Checked once here, with
 * errors that name the file and the key, before anything runs.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { readJsonOrYaml } from '../config-file';
import { CONFIG_KEYS } from '../config';
import { NstError } from '../errors';
import { projectRoot } from '../paths';
import { VIDEO_KEYS } from '../video/video-config';

export const METHODS = ['grid', 'random'] as const;
export type Method = (typeof METHODS)[number];

/**
 * Random-search distributions, named as in W&B: `log_uniform` draws exp(U(min, max)) (bounds are
 * natural logs), `log_uniform_values` draws log-uniformly between the values min and max (the one
 * wanted for α, β and other weights).
 */
export const DISTRIBUTIONS = ['uniform', 'int_uniform', 'log_uniform', 'log_uniform_values'] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

export const GOALS = ['minimize', 'maximize'] as const;

/** Loss columns a metric may name besides leaf terms such as `style/conv1_1`. */
export const LOSS_COLUMNS = ['total', 'content', 'style', 'tv'] as const;

export type ParameterSpec =
  | { kind: 'values'; values: unknown[] }
  | { kind: 'range'; min: number; max: number; distribution: Distribution };

export interface Parameter {
  /**
   * A run-config key, or any other name whose values are whole partial configs (linked settings
   * swept together, e.g. `{optimizer: adam, learningRate: 10}`).
   */
  name: string;
  spec: ParameterSpec;
}

export interface SweepSpec {
  name: string;
  /** `video`: every run is a clip (runVideo), its id covering the video keys (clipIdFor). */
  kind: SweepKind;
  /** The file it was read from ('' when built in code); messages name it. */
  source: string;
  method: Method;
  /** Random search: how many distinct runs to draw. */
  count?: number;
  /** Seed of the random search's own PRNG (not the runs' `seed`). */
  seed: number;
  base: Record<string, unknown>;
  /** In file order: the grid's last parameter varies fastest. */
  parameters: Parameter[];
  metric?: { name: string; goal: (typeof GOALS)[number] };
  /** Other scales of the same experiment by name (e.g. `smoke`): base keys and parameter values over the file's own. */
  scales: Record<string, Scale>;
  /** The scale this spec is at: undefined for the file's own values (PAPER_SCALE). */
  scale?: string;
  /** Config keys set over the file's base by the caller (a notebook's parameters cell): a child process reading the file would not see them. */
  overridden?: string[];
}

/**
 * A scale of a sweep: the same runs at another size, e.g. `smoke` (tiny images, few iterations and grid
 * points) for tests and a first look. Its base keys go over the spec's base; its parameters replace
 * the values of the spec's parameters of the same name (the axes stay the same).
 */
export interface Scale {
  base: Record<string, unknown>;
  parameters: Record<string, ParameterSpec>;
}

/** The name of a spec's own values, the scale its file describes (a paper's, for the reproductions). */
export const PAPER_SCALE = 'paper';

/** Keys a sweep sets itself: the sweep's name is the experiment, `--out` the results root. */
const RESERVED_IN_PARAMETERS = ['experiment', 'out'];

const TOP_KEYS = ['name', 'description', 'kind', 'method', 'count', 'seed', 'base', 'parameters', 'metric', 'scales'];

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Run-config keys, and the video keys a `kind: video` sweep may also set (checked once parsed). */
function isConfigKey(key: string): boolean {
  return (CONFIG_KEYS as readonly string[]).includes(key) || (VIDEO_KEYS as readonly string[]).includes(key);
}

/** What each run of a sweep is: an image (`run`, the default) or a clip (`video`: nst video's keys too). */
export const SWEEP_KINDS = ['run', 'video'] as const;
export type SweepKind = (typeof SWEEP_KINDS)[number];

/** Finds a sweep file as given, else relative to the project (notebooks run from their own folder). */
export function locateSweepFile(path: string): string {
  if (existsSync(path) || isAbsolute(path)) return path;
  const fromRoot = join(projectRoot(), path);
  return existsSync(fromRoot) ? fromRoot : path;
}

export function readSweepFile(path: string): SweepSpec {
  const value = readJsonOrYaml(locateSweepFile(path), 'sweep file', 'give a YAML or JSON sweep file, e.g. experiments/smoke.yaml', path);
  return parseSweepSpec(value, path);
}

/** Validates a parsed sweep file (or an object built in a notebook) and returns it typed. */
export function parseSweepSpec(value: unknown, source = ''): SweepSpec {
  const where = source ? `${source}: ` : '';
  const fail = (key: string, message: string, hint?: string): never => {
    throw new NstError(`${where}${key}: ${message}`, hint);
  };
  if (!isMapping(value)) fail('(top level)', 'expected a mapping with name, base, parameters', 'see experiments/README.md');
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!TOP_KEYS.includes(key)) fail(key, 'unknown sweep key', `sweep keys: ${TOP_KEYS.join(', ')}; run-config keys go under base or parameters`);
  }

  const name = v.name;
  // A folder name, and not `.` or `..`, which would write beside or above --out.
  if (typeof name !== 'string' || !/^[\w.-]+$/.test(name) || /^\.+$/.test(name)) {
    fail('name', `expected a folder name, got ${JSON.stringify(name)}`, 'use letters, digits, . _ - (results go to <out>/<name>/)');
  }

  const method = v.method ?? 'grid';
  if (!(METHODS as readonly unknown[]).includes(method)) fail('method', `'${String(method)}' is not allowed`, `allowed values: ${METHODS.join(', ')}`);

  const seed = v.seed ?? 0;
  if (!Number.isInteger(seed)) fail('seed', `expected an integer, got ${JSON.stringify(seed)}`);

  let count: number | undefined;
  if (method === 'random') {
    if (!Number.isInteger(v.count) || (v.count as number) <= 0) fail('count', `method: random needs a positive integer count, got ${JSON.stringify(v.count)}`);
    count = v.count as number;
  } else if (v.count !== undefined) {
    fail('count', 'only method: random takes a count', 'a grid runs every combination; remove count or set method: random');
  }

  const base = v.base ?? {};
  if (!isMapping(base)) fail('base', 'expected a mapping of run-config keys');
  for (const key of Object.keys(base as object)) {
    if (!isConfigKey(key)) fail(`base.${key}`, 'unknown config key', `known keys: ${CONFIG_KEYS.join(', ')}`);
    if (key === 'experiment') fail('base.experiment', 'a sweep\'s experiment is its name', 'remove it; set name instead');
  }

  if (!isMapping(v.parameters) || Object.keys(v.parameters).length === 0) {
    fail('parameters', 'expected a mapping of config keys to {values: [...]} or {min, max}', 'e.g. parameters: {styleWeight: {values: [1e3, 1e4]}}');
  }
  const parameters: Parameter[] = [];
  const setBy = new Map<string, string>();
  for (const [pname, raw] of Object.entries(v.parameters as Record<string, unknown>)) {
    const at = `parameters.${pname}`;
    if (RESERVED_IN_PARAMETERS.includes(pname)) fail(at, 'cannot be swept', pname === 'out' ? 'give --out DIR on the command line' : 'the experiment is the sweep\'s name');
    const spec = parseParameter(at, raw, method as Method, fail);
    const keys = isConfigKey(pname) ? [pname] : bundleKeys(at, spec, fail);
    for (const key of keys) {
      const other = setBy.get(key);
      if (other) fail(at, `sets '${key}', which ${other} also sets`, 'sweep each config key in one parameter');
      setBy.set(key, at);
    }
    parameters.push({ name: pname, spec });
  }

  let metric: SweepSpec['metric'];
  if (v.metric !== undefined) {
    const m = v.metric;
    if (!isMapping(m) || typeof m.name !== 'string') fail('metric', 'expected {name, goal}', `name: ${LOSS_COLUMNS.join(', ')} or a term like style/conv1_1`);
    const mm = m as Record<string, unknown>;
    const mname = mm.name as string;
    // Any group or term of the objective tree: `style/conv1_1`, `style/sky`, `style/sky/conv1_1`.
    if (!(LOSS_COLUMNS as readonly string[]).includes(mname) && !/^[\w-]+(\/[\w-]+)+$/.test(mname)) {
      fail('metric.name', `'${mname}' is not a loss`, `use ${LOSS_COLUMNS.join(', ')} or a term like style/conv1_1`);
    }
    const goal = mm.goal ?? 'minimize';
    if (!(GOALS as readonly unknown[]).includes(goal)) fail('metric.goal', `'${String(goal)}' is not allowed`, `allowed values: ${GOALS.join(', ')}`);
    metric = { name: mname, goal: goal as (typeof GOALS)[number] };
  }

  const scales = parseScales(v.scales, parameters, method as Method, fail);

  const kind = v.kind ?? 'run';
  if (!(SWEEP_KINDS as readonly unknown[]).includes(kind)) fail('kind', `'${String(kind)}' is not allowed`, `allowed values: ${SWEEP_KINDS.join(', ')}`);
  if (kind === 'video' && method !== 'grid') fail('method', 'a sweep of clips (kind: video) is a grid', 'list the values to sweep; remove method: random');
  if (kind !== 'video') {
    const used = [...Object.keys(base as object), ...setBy.keys(), ...Object.values(scales).flatMap((s) => Object.keys(s.base))];
    const video = used.find((k) => (VIDEO_KEYS as readonly string[]).includes(k));
    if (video) fail(video, 'is a video key', 'set kind: video to sweep clips (nst video), or remove it');
  }

  return { name: name as string, source, kind: kind as SweepKind, method: method as Method, count, seed: seed as number, base: base as Record<string, unknown>, parameters, metric, scales };
}

function parseScales(raw: unknown, parameters: readonly Parameter[], method: Method, fail: Fail): Record<string, Scale> {
  if (raw === undefined) return {};
  if (!isMapping(raw)) fail('scales', 'expected a mapping of scale names to {base, parameters}', 'e.g. scales: {smoke: {base: {imageSize: 32, iterations: 2}}}');
  const scales: Record<string, Scale> = {};
  for (const [sname, s] of Object.entries(raw as Record<string, unknown>)) {
    const at = `scales.${sname}`;
    if (!/^[\w-]+$/.test(sname) || sname === PAPER_SCALE) fail(at, `'${sname}' cannot name a scale`, `use letters, digits, _ -; '${PAPER_SCALE}' is the file's own values`);
    if (!isMapping(s)) fail(at, 'expected {base, parameters}');
    const ss = s as Record<string, unknown>;
    for (const key of Object.keys(ss)) if (key !== 'base' && key !== 'parameters') fail(`${at}.${key}`, 'unknown scale key', 'a scale has base and parameters');
    const base = ss.base ?? {};
    if (!isMapping(base)) fail(`${at}.base`, 'expected a mapping of run-config keys');
    for (const key of Object.keys(base as object)) {
      if (!isConfigKey(key) || RESERVED_IN_PARAMETERS.includes(key)) fail(`${at}.base.${key}`, isConfigKey(key) ? 'cannot be set by a scale' : 'unknown config key', `known keys: ${CONFIG_KEYS.join(', ')}`);
    }
    const params = ss.parameters ?? {};
    if (!isMapping(params)) fail(`${at}.parameters`, 'expected a mapping of the sweep\'s parameters to {values: [...]}');
    const replaced: Record<string, ParameterSpec> = {};
    for (const [pname, p] of Object.entries(params as Record<string, unknown>)) {
      const original = parameters.find((q) => q.name === pname);
      if (!original) fail(`${at}.parameters.${pname}`, 'is not a parameter of the sweep', `a scale changes the values of the sweep's parameters: ${parameters.map((q) => q.name).join(', ')}`);
      replaced[pname] = parseParameter(`${at}.parameters.${pname}`, p, method, fail);
    }
    scales[sname] = { base: base as Record<string, unknown>, parameters: replaced };
  }
  return scales;
}

/**
 * The spec at a scale: its own values for PAPER_SCALE (or none), else the scale's base over the spec's
 * and its parameter values in place of the spec's. Runs of a scale go to `<out>/<name>-<scale>/`, so a
 * smoke run never counts as a paper one, and summary.csv holds one scale.
 */
export function atScale(spec: SweepSpec, scale: string | undefined): SweepSpec {
  if (scale === undefined || scale === PAPER_SCALE) return spec;
  const s = spec.scales[scale];
  if (!s) {
    const where = spec.source ? `${spec.source}: ` : '';
    throw new NstError(`${where}no scale '${scale}'`, `scales of this sweep: ${[PAPER_SCALE, ...Object.keys(spec.scales)].join(', ')} (define others under scales:)`);
  }
  return {
    ...spec,
    name: `${spec.name}-${scale}`,
    scale,
    base: { ...spec.base, ...s.base },
    parameters: spec.parameters.map((p) => (s.parameters[p.name] ? { name: p.name, spec: s.parameters[p.name]! } : p)),
  };
}

type Fail = (key: string, message: string, hint?: string) => never;

function parseParameter(at: string, raw: unknown, method: Method, fail: Fail): ParameterSpec {
  if (!isMapping(raw)) fail(at, 'expected {values: [...]} or {min, max, distribution}', 'a single value belongs in base');
  const p = raw as Record<string, unknown>;
  const allowed = ['values', 'value', 'min', 'max', 'distribution'];
  for (const key of Object.keys(p)) if (!allowed.includes(key)) fail(`${at}.${key}`, 'unknown parameter key', `allowed: ${allowed.join(', ')}`);
  if ('value' in p) return { kind: 'values', values: [p.value] };
  if ('values' in p) {
    if (!Array.isArray(p.values) || p.values.length === 0) fail(`${at}.values`, 'expected a non-empty list');
    if ('min' in p || 'max' in p) fail(at, 'give either values or min/max, not both');
    return { kind: 'values', values: p.values as unknown[] };
  }
  if (!('min' in p) || !('max' in p)) fail(at, 'expected values, or min and max', 'e.g. {values: [1e3, 1e4]} or {min: 1e2, max: 1e5, distribution: log_uniform_values}');
  if (method !== 'random') fail(at, 'a range (min/max) needs method: random', 'add method: random and count: N at the top, or list values');
  const { min, max } = p;
  if (typeof min !== 'number' || typeof max !== 'number' || !Number.isFinite(min) || !Number.isFinite(max)) fail(at, `min and max must be numbers, got ${JSON.stringify(min)}, ${JSON.stringify(max)}`);
  if ((min as number) > (max as number)) fail(at, `min ${min} is above max ${max}`);
  // As W&B: integer bounds draw integers unless a distribution says otherwise.
  const distribution = p.distribution ?? (Number.isInteger(min) && Number.isInteger(max) ? 'int_uniform' : 'uniform');
  if (!(DISTRIBUTIONS as readonly unknown[]).includes(distribution)) fail(`${at}.distribution`, `'${String(distribution)}' is not allowed`, `allowed values: ${DISTRIBUTIONS.join(', ')}`);
  if (distribution === 'log_uniform_values' && (min as number) <= 0) fail(at, 'log_uniform_values needs min > 0');
  if (distribution === 'log_uniform' && (max as number) > 700) {
    fail(at, `log_uniform takes natural-log bounds (as in W&B): exp(${max}) overflows`, 'for bounds given as values use distribution: log_uniform_values');
  }
  if (distribution === 'int_uniform' && (!Number.isInteger(min) || !Number.isInteger(max))) fail(at, 'int_uniform needs integer min and max');
  return { kind: 'range', min: min as number, max: max as number, distribution: distribution as Distribution };
}

/** A parameter that is not a config key must sweep whole partial configs; returns the keys they set. */
function bundleKeys(at: string, spec: ParameterSpec, fail: Fail): string[] {
  if (spec.kind !== 'values') fail(at, 'unknown config key', `known keys: ${CONFIG_KEYS.join(', ')}`);
  const keys = new Set<string>();
  (spec as { values: unknown[] }).values.forEach((value, i) => {
    if (!isMapping(value)) {
      fail(at, 'unknown config key', `known keys: ${CONFIG_KEYS.join(', ')} — or sweep whole sub-configs: values: [{optimizer: adam, learningRate: 10}, …]`);
    }
    for (const key of Object.keys(value as object)) {
      if (!isConfigKey(key)) fail(`${at}.values[${i}].${key}`, 'unknown config key', `known keys: ${CONFIG_KEYS.join(', ')}`);
      if (RESERVED_IN_PARAMETERS.includes(key)) fail(`${at}.values[${i}].${key}`, 'cannot be swept');
      keys.add(key);
    }
  });
  return [...keys];
}
