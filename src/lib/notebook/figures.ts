/**
 * A notebook's figures: each one exported for reports (results/figures/<notebook>/) and shown in the
 * notebook, interactive where the front end can and as a static image everywhere. The methods return
 * nothing, so that a cell ending in one prints no value under the figure; the files are `dir/<name>.*`.
 */
import { exportCsv, exportFigure, exportPng, figuresDir } from '../figures/export';
import type { Figure } from '../figures/figure';
import { imageGrid, type GridOptions } from '../figures/grid';
import { DEFAULT_DPI } from '../figures/vegalite';
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

  /** Writes `<name>.csv` (text already formatted, e.g. by danfojs) and shows the rows as a table. */
  async table(name: string, csv: string, rows: readonly Record<string, unknown>[], caption: string): Promise<void> {
    await exportCsv(csv, this.dir, name);
    showTable(rows, caption);
  }
}
