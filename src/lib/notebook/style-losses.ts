/**
 * Notebook 12's comparison of style losses: one content/style pair through each loss of
 * `experiments/style-losses.yaml` on one network and layer set, run by the sweep engine (a rerun skips
 * what is done). The losses' scales differ by decades, so one β cannot serve them all: each loss gets
 * the β that gives it, at the starting image, the weighted style term the Gram loss has there at its
 * own β (`balancedStyleWeights`), so every loss starts from the paper's style/content balance.
 */
import { resolveConfig, type RunConfig } from '../config';
import type { LineFigure } from '../figures/figure';
import type { GridOptions } from '../figures/grid';
import { RECOMMENDED_STYLE_WEIGHT } from '../net/presets';
import { createSession, openNetwork } from '../run/session';
import { expandSweep, formatValue, type Sweep } from '../sweep/expand';
import type { DataFrame } from 'danfojs-node';
import { presetRows } from '../papers/describe';
import { collectRecords, summaryFrame, type RunRecord } from '../sweep/report';
import { relativeStyleCurves } from '../sweep/figures';
import { runSweep } from '../sweep/runner';
import { parseSweepSpec, readSweepFile } from '../sweep/spec';

export const STYLE_LOSSES_SPEC = 'experiments/style-losses.yaml';

/** A loss of the spec: its label and the partial config that selects it (`{styleLoss: w2}`, …). */
type LossSetting = Record<string, unknown>;

function label(setting: LossSetting): string {
  return Object.entries(setting)
    .filter(([k]) => k !== 'styleWeight')
    .map(([k, v]) => (k === 'styleLoss' ? String(v) : `${k} ${formatValue(v)}`))
    .join(', ');
}

/**
 * β for each setting: β_ref·S_ref(x₀)/S(x₀), where S(x₀) = Σ_l w_l·E_l is the unweighted style term of
 * that setting at the run's starting image and the reference is the first setting at `reference` (the
 * network's recommended β for the Gram loss). One evaluation per setting, on one network instance.
 */
export async function balancedStyleWeights(base: Partial<RunConfig>, settings: readonly LossSetting[], reference: number): Promise<number[]> {
  const net = await openNetwork(resolveConfig(base));
  try {
    const styleTerm: number[] = [];
    for (const s of settings) {
      const session = await createSession({ ...base, ...s, styleWeight: 1 }, { net });
      try {
        styleTerm.push(session.score().logs.style);
      } finally {
        session.dispose();
      }
    }
    // Rounded to 3 significant digits: the run ids (and so reuse) should not hang on the last bit.
    return styleTerm.map((v) => Number(((reference * styleTerm[0]!) / v).toPrecision(3)));
  } finally {
    net.dispose();
  }
}

/**
 * The sweep of `file` with `base` over its base (size, iterations, network, …), its one parameter's
 * settings each given its balanced β.
 */
export async function styleLossSweep(base: Partial<RunConfig>, file = STYLE_LOSSES_SPEC): Promise<Sweep> {
  const spec = readSweepFile(file);
  const [param, ...more] = spec.parameters;
  if (!param || more.length > 0 || param.spec.kind !== 'values') throw new Error(`${file}: expected one parameter with values (the losses)`);
  const merged = { ...spec.base, ...base } as Partial<RunConfig>;
  const settings = param.spec.values as LossSetting[];
  const reference = RECOMMENDED_STYLE_WEIGHT[merged.network ?? ''] ?? 1e3;
  const betas = await balancedStyleWeights(merged, settings, reference);
  const values = settings.map((s, i) => ({ ...s, styleWeight: betas[i] }));
  const { out, experiment: _experiment, ...runKeys } = merged;
  return expandSweep(parseSweepSpec({ name: spec.name, base: runKeys, parameters: { [param.name]: { values } } }, file), { out });
}

/** Runs what is not yet done and returns every run's record, in the spec's order. */
export async function runStyleLosses(sweep: Sweep, log: ((line: string) => void) | null = console.log): Promise<RunRecord[]> {
  await runSweep(sweep, { log, engineLog: null, progress: false });
  return collectRecords(sweep);
}

const settingOf = (r: RunRecord) => Object.values(r.run.params)[0] as LossSetting;

/** Content and style, then one result per loss with its β. */
export function styleLossGrid(records: readonly RunRecord[], content: string, style: string, title: string): GridOptions {
  return {
    rows: [[content, style, ...records.map((r) => r.image ?? null)]],
    colLabels: ['content', 'style', ...records.map((r) => `${label(settingOf(r))}\nβ = ${formatValue(settingOf(r).styleWeight)}`)],
    title,
  };
}

/** Each loss's per-layer terms E_l relative to their value at the start: colour by loss, dash by layer. */
export function styleLossCurves(records: readonly RunRecord[]): LineFigure {
  return relativeStyleCurves(records, (r) => label(settingOf(r)), { title: 'Per-layer style terms relative to the starting image, per style loss', legend: 'style loss', dash: 'layer' });
}

/** One row per loss: β, iterations, wall time per iteration, and the final style term relative to the start. */
export function styleLossRows(records: readonly RunRecord[]): Record<string, string | number>[] {
  return records.map((r) => {
    const first = r.history[0];
    return {
      loss: label(settingOf(r)),
      beta: settingOf(r).styleWeight as number,
      iterations: r.iterations ?? 0,
      ms_per_iteration: r.wallMs !== undefined && r.iterations ? Math.round(r.wallMs / r.iterations) : NaN,
      style_final_over_start: first && r.final ? r.final.style / first.style : NaN,
      content_final: r.final?.content ?? NaN,
    };
  });
}

/** styleLossRows as a danfojs DataFrame: what the notebook shows and writes as CSV. */
export function styleLossTable(records: readonly RunRecord[]): DataFrame {
  return summaryFrame(styleLossRows(records));
}

/** Every paper preset's values with their sources (`nst presets NAME` for each), one row per value. */
export function presetsTable(): DataFrame {
  return summaryFrame(presetRows());
}
