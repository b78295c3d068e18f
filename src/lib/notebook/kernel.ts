/**
 * The workbench's Jupyter kernel: a kernelspec whose argv starts the project's own tslab through
 * `bin/tslab-kernel.cjs`, which moves to the project root first (tslab resolves the notebooks'
 * `./src/lib/…` imports from its working directory, not from the notebook's folder).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { NstError } from '../errors';
import { writeFileAtomic } from '../image/io';
import { projectRoot } from '../paths';

/** The name notebooks record in `metadata.kernelspec.name`. */
export const KERNEL_NAME = 'nst-tslab';
export const KERNEL_DISPLAY_NAME = 'TypeScript (nst workbench)';

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
}

export function kernelSpec(root = projectRoot()): KernelSpec {
  // The absolute node that runs this install, as ipykernel records sys.executable: front ends start
  // kernels without the user's shell PATH (VS Code, desktop JupyterLab).
  return {
    argv: [process.execPath, join(root, 'bin', 'tslab-kernel.cjs'), '{connection_file}'],
    display_name: KERNEL_DISPLAY_NAME,
    language: 'typescript',
  };
}

/** Jupyter's per-user data directory, as jupyter_core computes it. */
export function userJupyterDataDir(env = process.env, platform = process.platform): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  if (platform === 'darwin') return join(homedir(), 'Library', 'Jupyter');
  if (platform === 'win32') {
    if (!env.APPDATA) throw new NstError('cannot find the Jupyter data directory: APPDATA is not set', 'give --prefix DIR and set JUPYTER_PATH=DIR\\share\\jupyter');
    return join(env.APPDATA, 'jupyter');
  }
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'jupyter');
}

/**
 * The Jupyter data directory a kernelspec goes to: under `prefix/share/jupyter` (found by Jupyter
 * through JUPYTER_PATH), or the user's own (found by JupyterLab and VS Code without setup).
 */
export function jupyterDataDir(prefix?: string): string {
  return prefix ? join(prefix, 'share', 'jupyter') : userJupyterDataDir();
}

/** Writes `<dataDir>/kernels/nst-tslab/kernel.json`; returns its path. */
export async function installKernel(opts: { prefix?: string; root?: string } = {}): Promise<string> {
  const root = opts.root ?? projectRoot();
  const tslab = join(root, 'node_modules', 'tslab', 'dist', 'main.js');
  if (!existsSync(tslab)) throw new NstError(`tslab is not installed in ${root}`, 'run npm install (or npm ci) in the project first');
  const path = join(jupyterDataDir(opts.prefix), 'kernels', KERNEL_NAME, 'kernel.json');
  await writeFileAtomic(path, JSON.stringify(kernelSpec(root), null, 2) + '\n');
  return path;
}
