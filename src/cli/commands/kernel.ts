/** `nst kernel install`: registers the project's tslab as the Jupyter kernel the notebooks use. */
import { NstError } from '../../lib/errors';
import { installKernel, jupyterDataDir, KERNEL_DISPLAY_NAME, KERNEL_NAME } from '../../lib/notebook/kernel';
import type { Command } from '../command';
import { describeOptions, parseOptions, type ExtraOption } from '../options';

const EXTRA: Record<string, ExtraOption> = {
  prefix: { type: 'string', help: 'install under DIR/share/jupyter/kernels (then set JUPYTER_PATH=DIR/share/jupyter), e.g. .kernel' },
};

const usage = [
  'usage: nst kernel install [--prefix DIR]',
  '',
  `Registers the kernel '${KERNEL_NAME}' ("${KERNEL_DISPLAY_NAME}"): this project's tslab, started at the project`,
  'root so that notebooks can import ./src/lib. Without --prefix it goes to your Jupyter data directory',
  '(JupyterLab and VS Code find it there). Rerun after moving the project or changing Node.',
  '',
  'options:',
  describeOptions(EXTRA),
].join('\n');

export const command: Command = {
  summary: 'register the notebooks\' TypeScript (tslab) kernel with Jupyter',
  usage,
  async run(argv) {
    const { extra, positionals } = parseOptions(argv, EXTRA, []);
    if (positionals[0] !== 'install' || positionals.length > 1) {
      throw new NstError(`expected 'nst kernel install', got 'nst kernel ${positionals.join(' ')}'`, 'see nst kernel --help');
    }
    const prefix = typeof extra.prefix === 'string' ? extra.prefix : undefined;
    const path = await installKernel({ prefix });
    console.log(`installed kernel ${KERNEL_NAME} → ${path}`);
    if (prefix) console.log(`Jupyter finds it with JUPYTER_PATH=${jupyterDataDir(prefix)}`);
    return 0;
  },
};
