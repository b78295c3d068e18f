/**
 * The PyTorch reference's own benchmark (`gatys_torch.py bench`: the same objective, forward to conv5_1
 * and backward to the image), run in the same session so that the two are compared as a ratio on the
 * same machine under the same load. Its absence is an answer, not an error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../paths';

export interface ReferenceOptions {
  /** gatys_torch.py; default NST_REFERENCE_SCRIPT, else ../shared/reference/gatys_torch.py beside the project. */
  script?: string;
  /** Default NST_REFERENCE_PYTHON, else /usr/bin/python3 (Debian's, where python3-torch is installed). */
  python?: string;
  size: number;
  iterations: number;
  threads: number;
  pooling: 'max' | 'avg';
}

export interface ReferenceResult {
  impl: string;
  threads: number;
  size: number;
  ms_per_iter_median: number;
  ms_per_iter_min: number;
}

export type ReferenceOutcome = { ok: true; result: ReferenceResult; command: string } | { ok: false; reason: string };

export function defaultReferenceScript(): string {
  return process.env.NST_REFERENCE_SCRIPT ?? join(projectRoot(), '..', 'shared', 'reference', 'gatys_torch.py');
}

export function runReference(opts: ReferenceOptions): ReferenceOutcome {
  const script = opts.script ?? defaultReferenceScript();
  const python = opts.python ?? process.env.NST_REFERENCE_PYTHON ?? '/usr/bin/python3';
  if (!existsSync(script)) return { ok: false, reason: `reference script not found: ${script} (set --reference-script or NST_REFERENCE_SCRIPT)` };
  const args = [script, 'bench', '--size', String(opts.size), '--iters', String(opts.iterations), '--threads', String(opts.threads), '--pooling', opts.pooling];
  const r = spawnSync(python, args, { encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.error) return { ok: false, reason: `${python}: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, reason: `reference exited with ${r.status ?? r.signal}: ${r.stderr.trim().split('\n').pop() ?? ''}` };
  try {
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as ReferenceResult;
    if (typeof result.ms_per_iter_median !== 'number') throw new Error('no ms_per_iter_median');
    return { ok: true, result, command: [python, ...args].join(' ') };
  } catch (e) {
    return { ok: false, reason: `unreadable reference output (${(e as Error).message}): ${r.stdout.slice(0, 200)}` };
  }
}
