/** `nst report`: a sweep's results as summary.csv (one row per run) and figures. */
import { NstError } from '../../lib/errors';
import { loadSweep } from '../../lib/sweep/expand';
import { sweepFigures } from '../../lib/sweep/figures';
import { collectRecords, lossColumn, summaryRows, writeSummary } from '../../lib/sweep/report';
import { formatTable } from '../../lib/sweep/table';
import type { Command } from '../command';
import { describeOptions, parseOptions, type ExtraOption } from '../options';

const EXTRA: Record<string, ExtraOption> = {
  scale: { type: 'string', help: "a scale of the sweep file (its scales:, e.g. smoke); default: the file's own values (paper)" },
  axes: { type: 'string', help: 'the two main axes, rows then columns: A,B (default: the first two swept parameters)' },
  color: { type: 'string', help: 'the parameter that colours the loss curves (default: the first axis)' },
  metric: { type: 'string', help: "the loss in the heatmap and curves: total, content, style, tv, style/conv1_1 … (default: the spec's metric, else total)" },
  noFigures: { type: 'boolean', help: 'only write summary.csv, no figures' },
};

export const command: Command = {
  summary: "a sweep's results: summary.csv (one row per run) and figures (image grid, heatmap, curves)",
  usage: [
    'usage: nst report FILE [--out DIR] [--scale S] [--axes A,B] [--color P] [--metric M] [--no-figures]',
    '',
    'Reads the results of the sweep file (nothing is run) and writes <out>/<name>/summary.csv: per run its',
    'index, id, status, swept values, iterations, wall_s, stop_reason and final losses (loss_total,',
    'loss_content, loss_style, loss_tv weighted; loss_<term> unweighted), and <out>/<name>/figures/: the final',
    'images laid out by the two main axes, a heatmap of the final loss over them, and the loss curves',
    'coloured by a swept value.',
    '',
    'options:',
    `  ${'--out DIR'.padEnd(28)} results root (default: the spec's base.out, else results)`,
    describeOptions(EXTRA),
  ].join('\n'),
  async run(argv) {
    const { config, extra, positionals } = parseOptions(argv, EXTRA, ['out']);
    if (positionals.length !== 1) throw new NstError(positionals.length ? `unexpected argument '${positionals[1]}'` : 'no sweep file given', 'usage: nst report FILE');
    const sweep = loadSweep(positionals[0]!, { out: config.out as string | undefined, scale: extra.scale as string | undefined });
    const records = collectRecords(sweep);
    const { path } = await writeSummary(sweep, records);

    const rows = summaryRows(sweep, records);
    const metric = (extra.metric as string | undefined) ?? sweep.spec.metric?.name ?? 'total';
    const shown = ['index', 'status', ...sweep.spec.parameters.map((p) => p.name), 'iterations', 'wall_s', lossColumn(metric)];
    const missing = shown.filter((c) => rows.length > 0 && !(c in rows[0]!));
    if (missing.length > 0) throw new NstError(`--metric: no loss '${metric}' in this sweep's results`, `columns: ${Object.keys(rows[0]!).filter((c) => c.startsWith('loss_')).join(', ')}`);
    const cell = (v: unknown) => (v === null ? '' : typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : String(v));
    console.log(formatTable(shown, rows.map((r) => shown.map((c) => cell(r[c])))));
    console.log(`table: ${path}`);

    if (!extra.noFigures) {
      const axes = typeof extra.axes === 'string' ? extra.axes.split(',').map((s) => s.trim()) : undefined;
      const figures = await sweepFigures(sweep, records, { axes, color: extra.color as string | undefined, metric });
      for (const f of figures) console.log(`figure: ${f}`);
    }
    return 0;
  },
};
