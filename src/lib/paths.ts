/** Where the project's own folders are, whether the library runs under tsx, tslab or from another cwd. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

let root: string | undefined;

/** The folder holding the workbench's package.json (found upwards from this file, then from the cwd). */
export function projectRoot(): string {
  if (root) return root;
  const starts = [typeof __dirname === 'string' ? __dirname : '', process.cwd()].filter(Boolean);
  for (const start of starts) {
    let dir = resolve(start);
    for (;;) {
      if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'lib'))) return (root = dir);
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return (root = process.cwd());
}

/** The shipped default images. */
export function defaultImagesDir(): string {
  return join(projectRoot(), 'data', 'images');
}

export function modelsDir(): string {
  return join(projectRoot(), 'models');
}
