/**
 * Access to the independent PyTorch implementation in ../shared/reference (gatys_torch.py). Tests that
 * need it skip with a visible reason when its Python packages are missing — except under CI, where
 * .ci/run installs them and a missing reference must fail loudly.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const PYTHON = '/usr/bin/python3';
export const REFERENCE = resolve(process.env.NST_REFERENCE ?? join(process.cwd(), '..', 'shared', 'reference', 'gatys_torch.py'));

/** Why the reference cannot run here, or null when it can. */
export function referenceUnavailable(): string | null {
  if (!existsSync(REFERENCE)) return `reference script not found at ${REFERENCE} (set NST_REFERENCE)`;
  const probe = spawnSync(PYTHON, ['-c', 'import torch, h5py, PIL, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${PYTHON} lacks torch/h5py/PIL (apt-get install python3-torch python3-h5py python3-pil)`;
  return null;
}

/** Skip reason for node:test, or throws under CI where the reference must be present. */
export function referenceSkip(): string | false {
  const why = referenceUnavailable();
  if (why && process.env.CI) throw new Error(`CI must run the reference tests, but ${why}`);
  return why ?? false;
}

export function reference(...args: string[]): any {
  const out = execFileSync(PYTHON, [REFERENCE, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out);
}
