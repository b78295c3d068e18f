/**
 * A notebook's figures: each one exported for reports (results/figures/<notebook>/) and shown in the
 * notebook, interactive where the front end can and as a static image everywhere. The methods return
 * nothing, so that a cell ending in one prints no value under the figure; the files are `dir/<name>.*`.
 */
import { exportCsv, exportFigure, exportPng, figuresDir } from '../figures/export';
import type { Figure } from '../figures/figure';
import { imageGrid, type GridOptions } from '../figures/grid';
import { DEFAULT_DPI } from '../figures/vegalite';
import type { DataFrame } from 'danfojs-node';
import type { RunResult } from '../run/types';
import { frameToCsv } from '../sweep/report';
import { showFigure, showPng, showTable } from './display';

export class NotebookFigures {
  readonly dir: string;

  /** Figures go to `<results>/figures/<notebook>/`. */
  constructor(
    readonly notebook: string,
    results: string,
    readonly dpi = DEFAULT_DPI,
  ) {
    this.dir = figuresDir(notebook, results);
  }

  /** Writes `<name>.svg`, `.png` (at the notebook's DPI) and `.vl.json`, and shows the figure. */
  async chart(name: string, fig: Figure): Promise<void> {
    const exported = await exportFigure(fig, this.dir, name, { dpi: this.dpi });
    showFigure(fig, exported.png, exported.width);
  }

  /** Writes an image grid as `<name>.png` and shows it. */
  async grid(name: string, opts: GridOptions): Promise<void> {
    const png = await imageGrid(opts);
    await exportPng(png, this.dir, name);
    showPng(png, opts.title ?? name);
  }

  /** Writes a table (a danfojs DataFrame) as `<name>.csv` at full precision and shows it as HTML. */
  async table(name: string, frame: DataFrame, caption: string): Promise<void> {
    await exportCsv(frameToCsv(frame), this.dir, name);
    showTable({ columns: frame.columns, values: frame.values as unknown[][] }, caption);
  }
}

/** A run's inputs and its result side by side (content, each style image, the final image). */
export function inputsAndResult(result: RunResult, title: string): GridOptions {
  const { content, style } = result.config;
  return {
    rows: [[...(content ? [content] : []), ...style, result.finalImage]],
    colLabels: [...(content ? ['content'] : []), ...style.map((_, i) => (style.length > 1 ? `style ${i + 1}` : 'style')), `result (${result.history[result.history.length - 1]?.iteration ?? 0} iterations)`],
    title,
  };
}
