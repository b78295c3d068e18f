/** `nst presets`: the papers' recipes, each value with its source. */
import { describePreset, listPresets } from '../../lib/papers/describe';
import { findPreset, PAPERS, PRESET_NAMES } from '../../lib/papers/presets';
import { NstError } from '../../lib/errors';
import type { Command } from '../command';
import { describeOptions, parseOptions, type ExtraOption } from '../options';

const EXTRA: Record<string, ExtraOption> = {
  json: { type: 'boolean', help: 'print JSON: the preset(s) with every value and its source' },
};

export const command: Command = {
  summary: 'the papers\' recipes (--preset NAME[:code]) with the source of every value',
  usage: [
    'usage: nst presets [NAME[:code]] [--json]',
    '',
    'Without NAME: every preset. With NAME: its run-config values, each with the paper section, equation,',
    'figure or reference-code line it comes from ("assumed" where no source states it). NAME:code gives',
    'the authors\' code\'s values where they differ from the paper. Use them as nst run --preset NAME;',
    'options given explicitly override the preset\'s values.',
    describeOptions(EXTRA),
  ].join('\n'),
  async run(argv) {
    const { extra, positionals } = parseOptions(argv, EXTRA, []);
    if (positionals.length > 1) throw new NstError(`unexpected argument '${positionals[1]}'`, 'see nst presets --help');
    const name = positionals[0];
    if (extra.json) {
      const presets = name ? [findPreset(name)] : PRESET_NAMES.map(findPreset);
      console.log(JSON.stringify(presets.map((p) => ({ name: p.name, citation: p.paper.citation, title: p.paper.title, code: p.paper.code, values: p.values, notes: p.paper.notes })), null, 2));
    } else {
      console.log((name ? describePreset(name) : [...listPresets(PAPERS), '', 'nst presets NAME shows a preset\'s values and their sources.']).join('\n'));
    }
    return 0;
  },
};
