/**
 * The engine's per-layer losses, total and gradient norm agree with an independent PyTorch
 * implementation (../shared/reference/gatys_torch.py) on the same random VGG-19 weights, on each CPU
 * backend that runs here (wasm, and native when its addon is built).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nativeSkip } from './helpers/native';
import { reference, referenceSkip } from './helpers/reference';

const skip = referenceSkip();
const dir = mkdtempSync(join(tmpdir(), 'nst-ref-'));
const img = (name: string) => join('data', 'images', name);

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
}

function assertClose(actual: number, expected: number, what: string, tol = 1e-3): void {
  if (expected === 0) assert.ok(Math.abs(actual) < 1e-3, `${what}: ${actual} should be 0`);
  else assert.ok(relErr(actual, expected) < tol, `${what}: ${actual} vs reference ${expected} (relative error ${relErr(actual, expected).toExponential(2)})`);
}

function nstScore(backend: string, args: string[]): any {
  const out = execFileSync(process.execPath, ['bin/nst.mjs', 'score', '--json', '--backend', backend, ...args], { encoding: 'utf8' });
  return JSON.parse(out.slice(out.indexOf('{')));
}

const files: Record<string, string> = {};
let prepared = false;
/** The weights and images every backend scores, made once. */
function prepare(): void {
  if (prepared) return;
  prepared = true;
  for (const naming of ['keras1', 'keras2']) {
    files[naming] = join(dir, `vgg19-${naming}.h5`);
    reference('make-weights', files[naming]!, '--seed', '0', '--naming', naming);
  }
  files.content = join(dir, 'c.png');
  files.style = join(dir, 's.png');
  files.image = join(dir, 'x.png');
  const size = reference('resize', img('tubingen.jpg'), files.content, '--max-side', '64').size as [number, number];
  reference('resize', img('starry_night.jpg'), files.style, '--size', `${size[0]}x${size[1]}`);
  reference('resize', img('the_scream.jpg'), files.image, '--size', `${size[0]}x${size[1]}`);
}
after(() => rmSync(dir, { recursive: true, force: true }));

const cases = [
  { naming: 'keras1', pooling: 'max', at: 'content' },
  { naming: 'keras2', pooling: 'avg', at: 'style' },
  { naming: 'keras1', pooling: 'avg', at: 'image' },
  { naming: 'keras2', pooling: 'max', at: 'image' },
] as const;

/** The reference's answer per case, computed once for every backend. */
const answers = new Map<(typeof cases)[number], any>();
function referenceLosses(c: (typeof cases)[number]): any {
  if (!answers.has(c)) {
    const at = c.at === 'image' ? ['--image', files.image!] : ['--init', c.at];
    answers.set(c, reference('losses', '--weights', files[c.naming]!, '--content', files.content!, '--style', files.style!, '--pooling', c.pooling, ...at));
  }
  return answers.get(c);
}

for (const backend of ['wasm', 'native'] as const) {
  describe(`agreement with the PyTorch reference on ${backend}`, { skip: skip || (backend === 'native' && nativeSkip()) }, () => {
    before(prepare);

    for (const c of cases) {
      it(`${c.naming} weights, ${c.pooling} pooling, losses at the ${c.at} image`, () => {
        const ref = referenceLosses(c);
        const ours = nstScore(backend, [
          '--weights', files[c.naming]!, '--content', files.content!, '--style', files.style!, '--pooling', c.pooling,
          '--image', c.at === 'image' ? files.image! : files[c.at]!,
        ]);
        for (const [layer, v] of Object.entries(ref.content as Record<string, number>)) assertClose(ours.content[layer], v, `content/${layer}`);
        for (const [layer, v] of Object.entries(ref.style as Record<string, number>)) assertClose(ours.style[layer], v, `style/${layer}`);
        assertClose(ours.total, ref.total, 'total');
        assertClose(ours.grad_norm, ref.grad_norm, 'grad_norm');
      });
    }
  });
}
