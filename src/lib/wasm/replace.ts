/** Replacing one of the wasm backend's stock kernels, keeping the stock one for the cases it declines. */
import * as tf from '@tensorflow/tfjs';

/** Registers make(stock) as (kernelName, 'wasm') in place of the stock kernel. */
export function replaceWasmKernel(kernelName: string, make: (stock: tf.KernelFunc) => tf.KernelFunc): void {
  const stock = tf.getKernel(kernelName, 'wasm');
  if (!stock) throw new Error(`the wasm backend has no ${kernelName} kernel to replace`);
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...stock, kernelFunc: make(stock.kernelFunc) });
}
