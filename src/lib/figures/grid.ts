/**
 * Image grids with row and column labels (the layout of Gatys et al.'s figures), as one PNG: sharp
 * composites the resized images and an SVG overlay carrying the text, in the figures' font.
 */
import sharp from 'sharp';
import { escapeXml, textWidth } from './text';
import { FONT } from './vegalite';

/** A file path or encoded image bytes (PNG, JPEG, …); null leaves the cell empty. */
export type ImageSource = string | Uint8Array;

export interface GridOptions {
  /** rows[i][j] is the image in row i, column j. */
  rows: readonly (readonly (ImageSource | null)[])[];
  rowLabels?: readonly string[];
  colLabels?: readonly string[];
  title?: string;
  /** Cell height in pixels; the cell width follows the first image's proportions. */
  cellHeight?: number;
  gap?: number;
}

const FONT_SIZE = 15;
const LINE = Math.round(FONT_SIZE * 1.3);

/** `\n` in a label starts a new line. */
function lines(label: string | undefined): string[] {
  return label ? label.split('\n') : [];
}

function text(x: number, y: number, label: string, anchor: 'start' | 'middle' | 'end', weight = 'normal'): string {
  return lines(label)
    .map((l, i) => `<text x="${x}" y="${y + i * LINE}" text-anchor="${anchor}" font-weight="${weight}">${escapeXml(l)}</text>`)
    .join('');
}

async function fitCell(src: ImageSource, width: number, height: number): Promise<Buffer> {
  const img = sharp(typeof src === 'string' ? src : Buffer.from(src));
  const meta = await img.metadata();
  // Upscaled small results keep their pixels visible rather than being smoothed into looking better.
  const kernel = (meta.height ?? 0) < height ? 'nearest' : 'lanczos3';
  return img.removeAlpha().resize(width, height, { fit: 'contain', background: 'white', kernel }).png().toBuffer();
}

/** Lays the images out on a white canvas with labels; returns the PNG bytes. */
export async function imageGrid(opts: GridOptions): Promise<Buffer> {
  const cellH = opts.cellHeight ?? 192;
  const gap = opts.gap ?? 6;
  const nRows = opts.rows.length;
  const nCols = Math.max(0, ...opts.rows.map((r) => r.length));
  const first = opts.rows.flat().find((s): s is ImageSource => s !== null);
  let cellW = cellH;
  if (first) {
    const meta = await sharp(typeof first === 'string' ? first : Buffer.from(first)).metadata();
    cellW = Math.round((cellH * meta.width!) / meta.height!);
  }
  const rowLabels = opts.rowLabels ?? [];
  const colLabels = opts.colLabels ?? [];
  const labelW = rowLabels.length ? Math.ceil(Math.max(...rowLabels.flatMap(lines).map((l) => textWidth(l, FONT_SIZE)))) + 2 * gap : 0;
  const titleH = opts.title ? LINE + gap : 0;
  const colLabelH = colLabels.length ? Math.max(...colLabels.map((l) => lines(l).length)) * LINE + gap : 0;
  const left = gap + labelW;
  const top = gap + titleH + colLabelH;
  const titleW = opts.title ? Math.ceil(textWidth(opts.title, FONT_SIZE, true)) + 2 * gap : 0;
  const width = Math.max(left + nCols * (cellW + gap), titleW);
  const height = top + nRows * (cellH + gap);

  const cellLeft = (j: number) => left + j * (cellW + gap);
  const cellTop = (i: number) => top + i * (cellH + gap);
  const composites: sharp.OverlayOptions[] = [];
  for (let i = 0; i < nRows; i++) {
    for (let j = 0; j < opts.rows[i]!.length; j++) {
      const src = opts.rows[i]![j];
      if (src) composites.push({ input: await fitCell(src, cellW, cellH), left: cellLeft(j), top: cellTop(i) });
    }
  }
  const svgText = [
    opts.title ? text(gap, gap + FONT_SIZE, opts.title, 'start', 'bold') : '',
    ...colLabels.map((l, j) => text(cellLeft(j) + cellW / 2, gap + titleH + FONT_SIZE, l, 'middle')),
    ...rowLabels.map((l, i) => text(left - gap, cellTop(i) + cellH / 2 - ((lines(l).length - 1) * LINE) / 2 + FONT_SIZE / 3, l, 'end')),
  ].join('');
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g font-family="${FONT}" font-size="${FONT_SIZE}" fill="#222">${svgText}</g></svg>`;
  composites.push({ input: Buffer.from(overlay), left: 0, top: 0 });
  return sharp({ create: { width, height, channels: 3, background: 'white' } }).composite(composites).png().toBuffer();
}
