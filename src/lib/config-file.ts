/** Reads run configs and sweep specs from JSON or YAML files, with errors that name the file. */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { NstError } from './errors';

/**
 * Parses a JSON (by extension) or YAML file. `what` names the file's role in the not-found error
 * (e.g. 'config file'), `hint` says what it should hold.
 */
export function readJsonOrYaml(path: string, what: string, hint: string, label = path): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new NstError(`${what} not found: ${label}`, hint);
  }
  try {
    return extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new NstError(`cannot parse ${label}: ${(e as Error).message}`, 'the file must be valid JSON or YAML');
  }
}

export function readConfigFile(path: string): Record<string, unknown> {
  const value = readJsonOrYaml(path, 'config file', 'give a JSON or YAML file with run-config keys (imageSize, styleWeight, …)');
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new NstError(`${path} does not hold a mapping of config keys`, 'write e.g. {"content": "a.jpg", "style": ["b.jpg"], "imageSize": 256}');
  }
  return value as Record<string, unknown>;
}
