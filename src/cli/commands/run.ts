/** `nst run`: one style transfer from the command line. */
import { CONFIG_KEYS, DEFAULT_CONFIG, optionName, resolveConfig } from '../../lib/config';
import { readConfigFile } from '../../lib/config-file';
import { NstError } from '../../lib/errors';
import { run } from '../../lib/run/run';
import type { Command } from '../command';
import { describeOptions, parseOptions, type ExtraOption } from '../options';
import { exitCodeOf, stopOnSignals } from '../signals';

const EXTRA: Record<string, ExtraOption> = {
  config: { type: 'string', help: 'JSON or YAML file of config keys (camelCase); command-line options win' },
  json: { type: 'boolean', help: 'print the run summary as JSON at the end' },
  resume: { type: 'boolean', help: 'continue the interrupted run from its checkpoint, or fail if there is none (rerunning does this by default)' },
  restart: { type: 'boolean', help: 'start over, discarding an interrupted run\'s checkpoint, snapshots and metrics' },
};

const usage = [
  'usage: nst run --content C --style S [--style S2 --style-blend 0.7,0.3] [options]',
  '',
  'Gatys et al. (2016) style transfer. Results go to <out>/<experiment>/<run-id>/ (config.json, metrics.csv,',
  'final.png, snapshots/). Defaults are the paper\'s recipe; every option is also a config key in camelCase.',
  '--preset NAME[:code] starts from a paper\'s recipe (nst presets); options given explicitly override it.',
  '--style-loss NAME or gram,conv3_1:mrf chooses the style loss per layer (docs/style-losses.md).',
  'Ctrl-C or SIGTERM stops at the next iteration with a snapshot and a checkpoint (exit 130 / 143); running',
  'the same command again continues from there. One process writes a run folder at a time.',
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
    if (extra.resume && extra.restart) throw new NstError('--resume and --restart contradict each other', 'give one of them (neither: continue if there is a checkpoint, else start)');
    const controller = new AbortController();
    const signals = stopOnSignals(controller, 'a snapshot, a checkpoint and summary.json are written');
    try {
      const result = await run(cfg, { signal: controller.signal, resume: extra.resume ? 'require' : extra.restart ? 'never' : 'auto' });
      if (extra.json) {
        console.log(JSON.stringify({ dir: result.dir, runId: result.runId, stopReason: result.stopReason, final: result.final, backend: result.backend.name }, null, 2));
      }
      const received = signals.received();
      return received ? exitCodeOf(received) : 0;
    } finally {
      signals.release();
    }
  },
};
