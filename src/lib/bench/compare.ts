/**
 * The workbench against the PyTorch reference, alternated (workbench, reference, workbench, …) so that
 * drifting load or clock speed hits both alike, and summarised by the median of the per-pair ratios.
 */
import type { BenchResult } from './bench';
import { isQuiet, QUIET_LOAD } from './machine';
import type { ReferenceOutcome, ReferenceResult } from './reference';

export interface Pair {
  workbench: number;
  reference: number;
  ratio: number;
}

export interface Comparison {
  pairs: Pair[];
  /** Median of the per-pair ratios (workbench / reference); null when the machine was not quiet and the ratio was not forced. */
  ratio: number | null;
  /** The 1-minute load average before the first run: the benchmark's own runs raise it later. */
  loadAtStart: number;
  threshold: number;
  /** True when a ratio is printed although the machine was loaded (--force). */
  loaded: boolean;
  workbenchRuns: BenchResult[];
  referenceRuns: ReferenceResult[];
}

export const median = (a: readonly number[]): number => {
  const s = [...a].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export interface CompareOptions {
  pairs: number;
  loadAtStart: number;
  threshold?: number;
  force?: boolean;
}

/** Runs `pairs` alternating pairs; a failing reference ends the comparison with its reason. */
export async function compare(
  workbench: () => Promise<BenchResult>,
  reference: () => ReferenceOutcome,
  opts: CompareOptions,
): Promise<Comparison | { error: string; workbenchRuns: BenchResult[] }> {
  const threshold = opts.threshold ?? QUIET_LOAD;
  const workbenchRuns: BenchResult[] = [];
  const referenceRuns: ReferenceResult[] = [];
  for (let i = 0; i < opts.pairs; i++) {
    workbenchRuns.push(await workbench());
    const ref = reference();
    if (!ref.ok) return { error: ref.reason, workbenchRuns };
    referenceRuns.push(ref.result);
  }
  const pairs = workbenchRuns.map((w, i) => {
    const r = referenceRuns[i]!.ms_per_iter_median;
    return { workbench: w.ms_per_iter_median, reference: r, ratio: w.ms_per_iter_median / r };
  });
  const quiet = isQuiet(opts.loadAtStart, threshold);
  return {
    pairs,
    ratio: quiet || opts.force ? median(pairs.map((p) => p.ratio)) : null,
    loadAtStart: opts.loadAtStart,
    threshold,
    loaded: !quiet && Boolean(opts.force),
    workbenchRuns,
    referenceRuns,
  };
}
