/**
 * The memory estimate against the measured wasm heap (the thing wasm32 caps at 4 GiB): the paper's
 * layers, L-BFGS, three sizes, within ±25%. This file runs alone in its process, whose heap only grows,
 * so the sizes go up and each reading is that size's high-water mark.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initBackend } from '../src/lib/backend';
import { vggGeometry } from '../src/lib/net/vgg';
import { estimateMemory } from '../src/lib/run/limits';

const VGG19 = vggGeometry('vgg19');
import { createSession } from '../src/lib/run/session';

await initBackend('wasm');

const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;

describe('the memory estimate on wasm', () => {
  const styleLayers = ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'];
  const used = ['conv4_2', ...styleLayers];
  for (const imageSize of [64, 128, 192]) {
    it(`is within ±25% of the heap at ${imageSize} px`, async () => {
      const s = await createSession({ content: 'data/images/tubingen.jpg', style: ['data/images/starry_night.jpg'], weights: 'random:0', imageSize, backend: 'wasm', optimizer: 'lbfgs', historySize: 5, contentLayers: ['conv4_2'], styleLayers });
      try {
        // The first evaluation with its gradient is the peak; a second step adds the first history pair.
        s.step();
        s.step();
        const img = s.image();
        const [h, w] = img.shape.slice(1, 3) as [number, number];
        img.dispose();
        const estimate = estimateMemory({ size: [h, w], styles: [[h, w]], taps: VGG19.taps, used, weights: VGG19.weightBytes(used), optimizer: 'lbfgs', historySize: 5 }).total;
        const ratio = estimate / heapBytes();
        assert.ok(ratio > 0.75 && ratio < 1.25, `${w}×${h}: estimate ${(estimate / 2 ** 20).toFixed(0)} MiB, heap ${(heapBytes() / 2 ** 20).toFixed(0)} MiB (×${ratio.toFixed(2)})`);
      } finally {
        s.dispose();
      }
    });
  }
});
