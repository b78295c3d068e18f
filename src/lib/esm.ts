/**
 * Loads an ES module from code that may itself have been compiled to CommonJS.
 *
 * tslab compiles the library to CommonJS, where TypeScript rewrites `import()` into `require()`, which
 * cannot resolve ESM-only packages (h5wasm exports only an `import` condition). So the package's
 * `import` entry is resolved by hand and loaded with Node's require(esm) (Node ≥ 20.19, no top-level
 * await): that works under tslab and tsx alike, and skips tsx's transform of large ESM files (seconds
 * for h5wasm's 4 MB glue). A Function-built `import()`, which no compiler rewrites, is the fallback.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { projectRoot } from './paths';

const dynamicImport = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;

type ExportTarget = string | { import?: ExportTarget; default?: ExportTarget } | null | undefined;

function importTarget(target: ExportTarget): string | undefined {
  if (!target) return undefined;
  if (typeof target === 'string') return target;
  return importTarget(target.import ?? target.default);
}

/** The file a bare specifier's `import` condition points at, searched from the project's node_modules. */
function resolveImportEntry(specifier: string): string | undefined {
  const parts = specifier.split('/');
  const nameLength = specifier.startsWith('@') ? 2 : 1;
  const pkg = parts.slice(0, nameLength).join('/');
  const subpath = ['.', ...parts.slice(nameLength)].join('/');
  for (let dir = projectRoot(); ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', pkg, 'package.json');
    if (existsSync(manifest)) {
      const json = JSON.parse(readFileSync(manifest, 'utf8'));
      const exp = json.exports;
      const target = typeof exp === 'string' || exp?.import ? (subpath === '.' ? exp : undefined) : exp?.[subpath];
      const file = importTarget(target) ?? (subpath === '.' ? json.module ?? json.main : undefined);
      return file ? join(dirname(manifest), file) : undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

export async function importEsm<T = any>(specifier: string): Promise<T> {
  const file = resolveImportEntry(specifier);
  if (file) {
    try {
      return createRequire(join(projectRoot(), 'package.json'))(file) as T;
    } catch {
      // An older Node without require(esm), or a module with top-level await.
    }
  }
  return dynamicImport<T>(specifier);
}
