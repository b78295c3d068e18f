/**
 * Notebook 08's comparison of colour controls (Gatys et al. 2017 §5, Fig. 3): the runs of
 * experiments/colour-control.yaml (plain, luminance only, histogram matching by both methods, plain
 * with original colours), each with its chroma error against the content (summary.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataFrame } from 'danfojs-node';
import type { BarFigure } from '../figures/figure';
import type { GridOptions } from '../figures/grid';
import { RUN_FILES } from '../run/store';
import type { RunRecord } from '../sweep/report';
import type { Experiment } from './experiment';

export interface ColourRun {
  label: string;
  record: RunRecord;
  /** final.png's chroma error against the content (0..255 units). */
  chromaError: number;
}

/** What the paper calls each control, from the keys its sub-config sets. */
function controlLabel(record: RunRecord): string {
  const c = record.run.config;
  if (c.originalColours !== 'none') return 'plain + original colours';
  if (c.colour === 'histogram') return `histogram (${c.colourMethod === 'cholesky' ? 'Cholesky' : c.colourMethod})`;
  if (c.colour === 'luminance') return 'luminance only';
  return 'plain';
}

/** Each run of the experiment, labelled, with its chroma error. */
export function colourRuns(ex: Experiment): ColourRun[] {
  return ex.records.map((record) => {
    const summary = JSON.parse(readFileSync(join(record.run.dir, RUN_FILES.summary), 'utf8')) as { chromaError: number };
    return { label: controlLabel(record), record, chromaError: summary.chromaError };
  });
}

/** Content and style, then one result per control, labelled with its chroma error. */
export function colourGrid(ex: Experiment, runs: readonly ColourRun[]): GridOptions {
  const { content, style } = runs[0]!.record.run.config;
  return {
    rows: [[content, style[0]!, ...runs.map((r) => ex.image(r.record.run.params))]],
    colLabels: ['content', 'style', ...runs.map((r) => `${r.label}\nchroma error ${r.chromaError.toFixed(1)}`)],
    title: ex.title('Colour controls'),
  };
}

/** One row per control: chroma error and the final weighted losses. */
export function colourTable(runs: readonly ColourRun[]): DataFrame {
  return new DataFrame(runs.map((r) => ({ control: r.label, chroma_error: r.chromaError, total: r.record.final!.total, content: r.record.final!.content, style: r.record.final!.style })));
}

/** The chroma error of each control: how far its colours are from the content's (luminance only: ≈ 0). */
export function chromaErrorChart(runs: readonly ColourRun[]): BarFigure {
  return {
    kind: 'bar',
    title: 'Chroma error against the content image (RMS distance in the YIQ colour plane)',
    x: { title: 'colour control', categories: runs.map((r) => r.label) },
    y: { title: 'chroma error (0..255 units)' },
    series: [{ name: 'chroma error', values: runs.map((r) => r.chromaError) }],
  };
}
