/**
 * tslab compiles src/lib itself and its module loader overflows the stack on an import cycle (every
 * notebook then fails in its first cell), so the library's value imports must form no cycle.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(process.cwd(), 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports that survive compilation: not `import type`, not only `type X` names. */
function valueImports(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^import\s+(type\s+)?([\s\S]*?)\s+from\s+'(\.[^']+)'/gm)) {
    if (m[1]) continue;
    const braces = /^\{([\s\S]*)\}$/.exec(m[2]!.trim());
    if (braces && braces[1]!.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
    out.push(normalize(join(dirname(path), m[3]!)) + '.ts');
  }
  return out;
}

describe('src imports', () => {
  it('form no cycle', () => {
    const graph = new Map(files(ROOT).map((f) => [f, valueImports(f)]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(ROOT, p)).join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const g of graph.get(f) ?? []) visit(g, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    assert.deepEqual(cycles, []);
  });
});
