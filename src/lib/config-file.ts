/** Reads a run config (or a partial one) from a JSON or YAML file. */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { NstError } from './errors';

export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new NstError(`config file not found: ${path}`, 'give a JSON or YAML file with run-config keys (imageSize, styleWeight, …)');
  }
  let value: unknown;
  try {
    value = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new NstError(`cannot parse ${path}: ${(e as Error).message}`, 'the file must be valid JSON or YAML');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new NstError(`${path} does not hold a mapping of config keys`, 'write e.g. {"content": "a.jpg", "style": ["b.jpg"], "imageSize": 256}');
  }
  return value as Record<string, unknown>;
}
