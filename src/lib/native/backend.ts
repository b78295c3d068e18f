/**
 * The `native` backend: the wasm backend itself — the same instance, heap and tensors — registered a
 * second time under its own name, with its convolutions and matrix products run by oneDNN on the heap
 * (kernels.ts). Everything else (losses, statistics, pooling, optimizers) is the wasm kernels', so no
 * objective has a second implementation. oneDNN's OpenMP team gets as many threads as the wasm pool.
 *
 * Why oneDNN: PyTorch's CPU convolutions are oneDNN's direct ones (Debian's PyTorch 1.13 runs on the
 * same oneDNN 2.6.3), and oneDNN's Winograd convolution (avx512_core, 3×3 stride 1) does the same
 * work in ~0.5–0.7 of the time on VGG's layers (docs/performance.md).
 *
 * NST_NATIVE_CONV=direct|winograd forces one convolution algorithm (default auto: a fixed
 * rule per shape, native/src/addon.cc winogradPays, so that every process computes the same).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { loadNativeAddon, type ConvChoice } from './addon';
import { registerNativeKernels, releasePlans } from './kernels';
import { NstError } from '../errors';
import { configureWasm } from '../wasm-threads';

const CHOICES: readonly ConvChoice[] = ['auto', 'direct', 'winograd'];

function convChoice(): ConvChoice {
  const value = process.env.NST_NATIVE_CONV?.trim() || 'auto';
  if (!(CHOICES as readonly string[]).includes(value)) {
    throw new NstError(`NST_NATIVE_CONV='${value}' is not a convolution algorithm`, `use ${CHOICES.join(', ')} (or unset it)`);
  }
  return value as ConvChoice;
}

let registered = false;

/** Starts the native backend (once per process) and returns its device line. */
export async function startNative(): Promise<string> {
  const choice = convChoice();
  const addon = loadNativeAddon();
  const threads = await configureWasm();
  if (!registered) {
    if (!(await tf.setBackend('wasm'))) throw new Error('backend wasm (under native) did not initialise');
    const wasm = tf.findBackend('wasm') as BackendWasm;
    registerNativeKernels('native', addon, choice);
    // A filter's plans go with its data, not when the garbage collector gets to its dataId: networks
    // rebuilt in one process (benchmark pairs, notebooks) would otherwise hold several sets.
    const disposeData = wasm.disposeData.bind(wasm);
    wasm.disposeData = (dataId, force) => {
      const released = disposeData(dataId, force);
      if (released) releasePlans(addon, dataId);
      return released;
    };
    tf.registerBackend('native', () => wasm, 1);
    registered = true;
  }
  addon.setThreads(threads);
  if (!(await tf.setBackend('native'))) throw new Error('backend native did not initialise');
  const { version, isa, winograd } = addon.info();
  const conv = choice === 'direct' || !winograd ? ' direct' : choice === 'winograd' ? ' Winograd (forced)' : ' Winograd';
  return `CPU (oneDNN ${version} ${isa}${conv} + WebAssembly SIMD, ${threads} thread${threads === 1 ? '' : 's'})`;
}
