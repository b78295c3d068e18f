/**
 * Command-line parsing shared by every subcommand. Run-config options are derived from the config's
 * own keys (`styleWeight` ↔ `--style-weight`), so the CLI cannot drift from the typed config.
 */
import { parseArgs } from 'node:util';
import { CONFIG_KEYS, configKey, optionName, type RunConfig } from '../lib/config';
import { NstError } from '../lib/errors';

/** Config keys that may be given more than once on the command line (values accumulate). */
const REPEATABLE = new Set<keyof RunConfig>(['style']);

export interface ExtraOption {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** Shown in usage text. */
  help: string;
}

export interface Parsed {
  /** The run-config keys that were given, as raw strings (validated later by resolveConfig). */
  config: Partial<Record<keyof RunConfig, unknown>>;
  /** The command's own options, by camelCase name. */
  extra: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parses argv: every run-config key as `--kebab-case`, plus the command's own options.
 * `configKeys` limits which config options the command accepts (default: all).
 */
export function parseOptions(
  argv: string[],
  extra: Record<string, ExtraOption> = {},
  configKeys: readonly (keyof RunConfig)[] = CONFIG_KEYS,
): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const key of configKeys) options[optionName(key).slice(2)] = { type: 'string', multiple: REPEATABLE.has(key) };
  for (const [key, { help: _help, ...opt }] of Object.entries(extra)) options[optionName(key).slice(2)] = opt;
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true }));
  } catch (e) {
    const known = Object.keys(options).map((o) => '--' + o).join(' ');
    throw new NstError((e as Error).message.replace(/\. To specify a positional.*$/s, ''), `known options: ${known}`);
  }
  const config: Parsed['config'] = {};
  const rest: Parsed['extra'] = {};
  for (const [opt, value] of Object.entries(values)) {
    const key = configKey(opt);
    if ((configKeys as readonly string[]).includes(key)) {
      const v = Array.isArray(value) ? value.flatMap((s: string) => s.split(',')) : value;
      config[key as keyof RunConfig] = v;
    } else {
      rest[key] = value as string | boolean | string[];
    }
  }
  return { config, extra: rest, positionals };
}

/** Usage lines for a command's own options. */
export function describeOptions(extra: Record<string, ExtraOption>): string {
  return Object.entries(extra)
    .map(([key, o]) => `  ${(optionName(key) + (o.type === 'string' ? ' VALUE' : '')).padEnd(28)} ${o.help}`)
    .join('\n');
}
