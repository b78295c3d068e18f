/**
 * Notebook 08's comparison of colour controls (Gatys et al. 2017 §5, Fig. 3): one content/style pair
 * transferred plainly, on luminance only, and with the style's colour histogram matched to the
 * content's (both methods), plus the plain result with original colours as post-processing; each
 * with its chroma error against the content (summary.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../config';
import type { BarFigure } from '../figures/figure';
import type { GridOptions } from '../figures/grid';
import { run } from '../run/run';
import { RUN_FILES } from '../run/store';
import type { RunCallbacks, RunResult } from '../run/types';

/** The paper's variants, each a config fragment over the notebook's base. */
export const COLOUR_VARIANTS: readonly { label: string; config: Partial<RunConfig> }[] = [
  { label: 'plain', config: {} },
  { label: 'luminance only', config: { colour: 'luminance', param: 'luminance' } },
  { label: 'histogram (Cholesky)', config: { colour: 'histogram', colourMethod: 'cholesky' } },
  { label: 'histogram (eigen)', config: { colour: 'histogram', colourMethod: 'eigen' } },
  { label: 'plain + original colours', config: { originalColours: 'luminance' } },
];

export interface ColourRun {
  label: string;
  result: RunResult;
  /** final.png's chroma error against the content (0..255 units). */
  chromaError: number;
}

/** Runs every variant on `base` (content, style, size, iterations), one after another. */
export async function runColourControls(base: Partial<RunConfig>, callbacks?: (label: string) => RunCallbacks): Promise<ColourRun[]> {
  const out: ColourRun[] = [];
  for (const v of COLOUR_VARIANTS) {
    const result = await run({ ...base, ...v.config }, { callbacks: callbacks?.(v.label), log: null, progress: false });
    const summary = JSON.parse(readFileSync(join(result.dir, RUN_FILES.summary), 'utf8')) as { chromaError: number };
    out.push({ label: v.label, result, chromaError: summary.chromaError });
  }
  return out;
}

/** Content and style, then one result per variant, labelled with its chroma error. */
export function colourGrid(runs: readonly ColourRun[], content: string, style: string, title: string): GridOptions {
  return {
    rows: [[content, style, ...runs.map((r) => r.result.finalImage)]],
    colLabels: ['content', 'style', ...runs.map((r) => `${r.label}\nchroma error ${r.chromaError.toFixed(1)}`)],
    title,
  };
}

/** One row per variant: chroma error and the final weighted losses. */
export function colourRows(runs: readonly ColourRun[]): Record<string, string | number>[] {
  return runs.map((r) => ({ variant: r.label, chroma_error: r.chromaError, total: r.result.final.total, content: r.result.final.content, style: r.result.final.style }));
}

/** The chroma error of each variant: how far its colours are from the content's (luminance only: ≈ 0). */
export function chromaErrorChart(runs: readonly ColourRun[]): BarFigure {
  return {
    kind: 'bar',
    title: 'Chroma error against the content image (RMS distance in the YIQ colour plane)',
    x: { title: 'colour control', categories: runs.map((r) => r.label) },
    y: { title: 'chroma error (0..255 units)' },
    series: [{ name: 'chroma error', values: runs.map((r) => r.chromaError) }],
  };
}
