// Builds native/build/Release/nst_native.node (`npm run build:native`) offline: node-gyp (npm's own)
// against this Node's installed headers, <prefix>/include/node, instead of downloading them, and
// linked to the system oneDNN (Debian: apt-get install libdnnl-dev g++ make).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nodedir = resolve(process.execPath, '..', '..');
const fail = (message) => {
  console.error(`build:native: ${message}`);
  process.exit(1);
};
if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) fail(`no Node headers under ${nodedir}/include/node (install Node with its headers)`);
if (!['/usr/include', '/usr/local/include'].some((d) => existsSync(join(d, 'oneapi', 'dnnl', 'dnnl.hpp')))) fail('oneDNN headers not found (apt-get install libdnnl-dev)');
// npm runs scripts with its bundled node-gyp on PATH and in npm_config_node_gyp.
const gyp = process.env.npm_config_node_gyp;
const [cmd, args] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
const r = spawnSync(cmd, [...args, 'rebuild', `--nodedir=${nodedir}`], { cwd: here, stdio: 'inherit' });
if (r.error) fail(`${cmd}: ${r.error.message} (run it as npm run build:native)`);
process.exit(r.status ?? 1);
