/**
 * Report figures on disk: `results/figures/<notebook>/<name>.svg|.png|.vl.json` for charts and
 * `<name>.png` for image grids, each written atomically (a figure file is complete or absent).
 */
import { join } from 'node:path';
import { NstError } from '../errors';
import { writeFileAtomic } from '../image/io';
import { projectRoot } from '../paths';
import type { Figure } from './figure';
import { DEFAULT_DPI, renderSvg, svgSize, svgToPng, toVegaLite, type VegaLiteSpec } from './vegalite';

export interface ExportedFigure {
  name: string;
  spec: VegaLiteSpec;
  svgPath: string;
  pngPath: string;
  specPath: string;
  png: Buffer;
  /** Size in CSS pixels (the PNG holds size × dpi/72 pixels). */
  width: number;
  height: number;
  dpi: number;
}

/** Where a notebook's figures go: `<results>/figures/<notebook>/`, results being the project's results/ by default. */
export function figuresDir(notebook: string, results = join(projectRoot(), 'results')): string {
  return join(results, 'figures', checkName(notebook, 'notebook'));
}

function checkName(name: string, what: string): string {
  if (!/^[\w.-]+$/.test(name)) throw new NstError(`figure ${what} name '${name}' is not a file name`, 'use letters, digits, . _ -');
  return name;
}

/** Renders a figure's vega-lite twin and writes its spec, SVG and PNG (at `dpi`) into `dir`. */
export async function exportFigure(fig: Figure, dir: string, name: string, opts: { dpi?: number } = {}): Promise<ExportedFigure> {
  checkName(name, 'file');
  const dpi = opts.dpi ?? DEFAULT_DPI;
  const spec = toVegaLite(fig);
  const svg = await renderSvg(spec);
  const png = await svgToPng(svg, dpi);
  const paths = { specPath: join(dir, `${name}.vl.json`), svgPath: join(dir, `${name}.svg`), pngPath: join(dir, `${name}.png`) };
  await writeFileAtomic(paths.specPath, JSON.stringify(spec, null, 1) + '\n');
  await writeFileAtomic(paths.svgPath, svg);
  await writeFileAtomic(paths.pngPath, png);
  return { name, spec, ...paths, png, ...svgSize(svg), dpi };
}

/** Writes an already-encoded PNG (an image grid) as `<dir>/<name>.png`. */
export async function exportPng(png: Uint8Array, dir: string, name: string): Promise<string> {
  const path = join(dir, `${checkName(name, 'file')}.png`);
  await writeFileAtomic(path, png);
  return path;
}

/** Writes a table as `<dir>/<name>.csv`. */
export async function exportCsv(csv: string, dir: string, name: string): Promise<string> {
  const path = join(dir, `${checkName(name, 'file')}.csv`);
  await writeFileAtomic(path, csv);
  return path;
}
