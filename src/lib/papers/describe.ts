/** The presets as text and as data, for `nst presets` and notebooks. */
import { findPreset, PAPERS } from './presets';
import type { Paper, SourcedValues } from './paper';

function formatValue(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(',');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** One line per preset: name(s), citation, title. */
export function listPresets(papers: readonly Paper[] = PAPERS): string[] {
  return papers.map((p) => `${(p.codeDiffers ? `${p.id}[:code]` : p.id).padEnd(20)} ${p.citation}: ${p.title}`);
}

function valueLines(values: SourcedValues, marks: ReadonlySet<string> = new Set()): string[] {
  return Object.entries(values).map(([key, s]) => `  ${marks.has(key) ? '*' : ' '} ${key.padEnd(20)} ${formatValue(s!.value).padEnd(40)} ${s!.source}`);
}

/** A preset's values with their sources; for `:code`, the values that differ from the paper's are starred. */
export function describePreset(name: string): string[] {
  const preset = findPreset(name);
  const { paper } = preset;
  const differs = new Set(
    Object.entries(preset.variant === 'code' ? (paper.codeDiffers ?? {}) : {})
      .filter(([key, s]) => JSON.stringify(s!.value) !== JSON.stringify(paper.paper[key as keyof SourcedValues]?.value))
      .map(([key]) => key),
  );
  return [
    `${preset.name} — ${paper.citation}: ${paper.title}`,
    ...(paper.code ? [`code: ${paper.code}`] : []),
    `${preset.variant === 'code' ? 'the authors\' code (* where the value differs from the paper\'s)' : 'the paper'}${paper.codeDiffers && preset.variant === 'paper' ? ` (${paper.id}:code for the authors' code)` : ''}:`,
    ...valueLines(preset.values, differs),
    'notes:',
    ...paper.notes.map((n) => `  - ${n}`),
  ];
}

/** Every preset's values as rows (preset, key, value, source): `nst presets` as a table. */
export function presetRows(papers: readonly Paper[] = PAPERS): { preset: string; key: string; value: string; source: string }[] {
  return papers.flatMap((p) => [
    ...Object.entries(p.paper).map(([key, s]) => ({ preset: p.id, key, value: formatValue(s!.value), source: s!.source })),
    ...Object.entries(p.codeDiffers ?? {}).map(([key, s]) => ({ preset: `${p.id}:code`, key, value: formatValue(s!.value), source: s!.source })),
  ]);
}
