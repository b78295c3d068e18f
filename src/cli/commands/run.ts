/** `nst run`: one style transfer from the command line. */
import { CONFIG_KEYS, DEFAULT_CONFIG, optionName, resolveConfig } from '../../lib/config';
import { readConfigFile } from '../../lib/config-file';
import { NstError } from '../../lib/errors';
import { run } from '../../lib/run/run';
import type { Command } from '../command';
import { describeOptions, parseOptions, type ExtraOption } from '../options';

const EXTRA: Record<string, ExtraOption> = {
  config: { type: 'string', help: 'JSON or YAML file of config keys (camelCase); command-line options win' },
  json: { type: 'boolean', help: 'print the run summary as JSON at the end' },
};

const usage = [
  'usage: nst run --content C --style S [--style S2 --style-blend 0.7,0.3] [options]',
  '',
  'Gatys et al. (2016) style transfer. Results go to <out>/<experiment>/<run-id>/ (config.json, metrics.csv,',
  'final.png, snapshots/). Defaults are the paper\'s recipe; every option is also a config key in camelCase.',
  '--preset NAME[:code] starts from a paper\'s recipe (nst presets); options given explicitly override it.',
  '--style-loss NAME or gram,conv3_1:mrf chooses the style loss per layer (docs/style-losses.md).',
  '',
  'run options (default):',
  ...CONFIG_KEYS.map((k) => `  ${(optionName(k) + ' VALUE').padEnd(28)} ${JSON.stringify(DEFAULT_CONFIG[k])}`),
  describeOptions(EXTRA),
].join('\n');

export const command: Command = {
  summary: 'style transfer: content + style image(s) → image, curves and config under results/',
  usage,
  async run(argv) {
    const { config, extra, positionals } = parseOptions(argv, EXTRA);
    if (positionals.length > 0) throw new NstError(`unexpected argument '${positionals[0]}'`, 'see nst run --help');
    const fromFile = typeof extra.config === 'string' ? readConfigFile(extra.config) : {};
    // Validate everything before any compute.
    const cfg = resolveConfig({ ...fromFile, ...config });
    const result = await run(cfg);
    if (extra.json) {
      console.log(JSON.stringify({ dir: result.dir, runId: result.runId, stopReason: result.stopReason, final: result.final, backend: result.backend.name }, null, 2));
    }
    return 0;
  },
};
