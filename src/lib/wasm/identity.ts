/**
 * An Identity kernel for the wasm backend that shares its input's memory, as the cpu and webgl
 * backends' do, instead of copying it.
 *
 * tfjs saves every tensor a gradient will need by cloning it (Identity) when a gradient is being
 * recorded, and the stock wasm Identity copies the data: every activation of a style-transfer step was
 * held twice until the backward pass ended (at 512 px, ~1.2 GB live after the forward pass instead of
 * ~0.5 GB) and copied once more each step. Tensors are immutable, and the wasm backend counts
 * references per buffer (its Reshape already shares), so sharing is safe.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { replaceWasmKernel } from './replace';

let registered = false;

/** Replaces ('Identity', 'wasm') once per process; strings keep the stock kernel. */
export function registerSharingIdentity(): void {
  if (registered) return;
  replaceWasmKernel(tf.Identity, (stock) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return stock(args);
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
  registered = true;
}
