/**
 * Text in figures: escaping for SVG/HTML, and width in the figures' font without a canvas. vega lays out axes, legends and titles from text
 * widths; with no canvas in Node it guesses 0.8 em per character, which reserves far too much room
 * (long rotated axis titles pushed plots into wide blank margins). These are DejaVu Sans advance
 * widths in em, grouped: close enough to lay out labels as librsvg then draws them.
 */

const GROUPS: [string, number][] = [
  ["ijl'|!.,:;I", 0.29],
  [' ', 0.32],
  ['ftr()[]{}-/\\', 0.38],
  ['csz_"', 0.53],
  ['w', 0.82],
  ['mMW', 0.93],
];
const WIDTHS = new Map<string, number>(GROUPS.flatMap(([chars, w]) => [...chars].map((c) => [c, w] as [string, number])));
/** Lowercase, digits (0.636 em in DejaVu Sans), Greek and most symbols. */
const DEFAULT_EM = 0.62;
const UPPER_EM = 0.7;
/** DejaVu Sans Bold runs up to about 20 % wider; overestimating only adds margin, underestimating clips. */
const BOLD = 1.2;

/** Width in pixels of `text` at `fontSize` pixels. */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let em = 0;
  for (const c of text) em += WIDTHS.get(c) ?? (c >= 'A' && c <= 'Z' ? UPPER_EM : DEFAULT_EM);
  return em * fontSize * (bold ? BOLD : 1);
}

function isBold(weight: unknown): boolean {
  return weight === 'bold' || (typeof weight === 'number' && weight >= 600);
}

/** vega's text metrics hook (`textMetrics.width(item, text)`, as vl-convert replaces it). */
export function vegaTextWidth(item: { fontSize?: number; fontWeight?: unknown }, text: unknown): number {
  return textWidth(String(text ?? ''), item.fontSize ?? 11, isBold(item.fontWeight));
}

/** Escapes text for SVG and HTML. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
