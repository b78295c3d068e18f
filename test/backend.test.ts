/** Backend selection: auto falls back in order and says why; a forced backend is used or refused clearly. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { NstError } from '../src/lib/errors';
import { requestedBackend } from '../src/lib/backend';
import { nativeSkip } from './helpers/native';

/** Runs initBackend in a fresh process (a backend, once set, stays for the process). */
function probe(env: Record<string, string>, arg = ''): { status: number | null; out: any; err: string } {
  const code = `import { initBackend } from './src/lib/backend';
    const info = await initBackend(${arg ? JSON.stringify(arg) : 'undefined'});
    console.log(JSON.stringify(info));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, ...env } });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return { status: r.status, out: line.startsWith('{') ? JSON.parse(line) : null, err: r.stderr };
}

describe('backend selection', () => {
  it('auto tries tensorflow first and says why it moved on', () => {
    const { out } = probe({ NST_BACKEND: '', NST_WASM_THREADS: '1' });
    let hasTfNode = true;
    try {
      createRequire(import.meta.url).resolve('@tensorflow/tfjs-node-gpu');
    } catch {
      hasTfNode = false;
    }
    if (hasTfNode) assert.equal(out.name, 'tensorflow');
    else {
      assert.equal(out.name, nativeSkip() ? 'wasm' : 'native');
      assert.match(out.skipped.join(';'), /^tensorflow: /);
    }
    assert.match(out.device, /CPU|GPU/);
  });

  it('without the native addon, auto moves on to wasm with the one-line reason, and a forced native says it', () => {
    const env = { NST_BACKEND: '', NST_WASM_THREADS: '1', NST_NATIVE_ADDON: '/nonexistent/nst_native.node' };
    const { out } = probe(env);
    if (out.name !== 'tensorflow') {
      assert.equal(out.name, 'wasm');
      assert.match(out.skipped.join(';'), /native: the native addon is not built \(\/nonexistent\/nst_native\.node is missing: npm run build:native/);
    }
    const forced = probe(env, 'native');
    assert.notEqual(forced.status, 0);
    assert.match(forced.err, /backend 'native' could not start: the native addon is not built/);
  });

  it('NST_BACKEND forces a backend, and the argument wins over it', () => {
    assert.equal(probe({ NST_BACKEND: 'cpu' }).out.name, 'cpu');
    assert.equal(probe({ NST_BACKEND: 'cpu' }, 'wasm').out.name, 'wasm');
    // A config's backend: auto (its default, as `npm start` has it) leaves the choice to NST_BACKEND.
    assert.equal(requestedBackend('auto'), process.env.NST_BACKEND || 'auto');
    assert.equal(probe({ NST_BACKEND: 'cpu' }, 'auto').out.name, 'cpu');
  });

  it('an unknown backend lists the allowed ones', () => {
    assert.throws(() => requestedBackend('cuda'), (e: unknown) => e instanceof NstError && /tensorflow, native, wasm, cpu/.test(e.hint ?? ''));
  });
});
