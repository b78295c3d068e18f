#!/usr/bin/env node
// The Jupyter kernel of the workbench: the project's own tslab, started at the project root.
//
// tslab compiles the notebooks' `import … from './src/lib/…'` itself, relative to the kernel's working
// directory, so the kernel must run at the project root whichever front end (JupyterLab, VS Code,
// nbclient) starts it and wherever the notebook file lies. `nst kernel install` points kernel.json here.
'use strict';
const { join } = require('node:path');

const root = join(__dirname, '..');
const connectionFile = process.argv[2];
if (!connectionFile) {
  console.error('usage: tslab-kernel.cjs CONNECTION_FILE (started by Jupyter from kernel.json)');
  process.exit(2);
}
process.chdir(root);
require(join(root, 'node_modules', 'tslab', 'dist', 'main.js')).startKernel({ configPath: connectionFile, enableFindLocal: false });
