/**
 * Time per kernel: every kernel of the active backend wrapped with a clock while a function runs, then
 * restored. The backends here (wasm, native, cpu, tensorflow) run each kernel synchronously, so a
 * kernel's wall time is its work; the rest of an iteration is tfjs' own bookkeeping (the tape, tidy).
 */
import * as tf from '@tensorflow/tfjs';

export interface KernelTime {
  kernel: string;
  ms: number;
  calls: number;
}

/** Kernels that run the network's convolutions (and the transposed ones of their gradients). */
export const CONVOLUTION_KERNELS: ReadonlySet<string> = new Set([tf.Conv2D, tf.FusedConv2D, tf.DepthwiseConv2dNative, tf.FusedDepthwiseConv2D, tf.Conv2DBackpropInput]);

/** f's result and the time and calls of each kernel it ran, slowest first. */
export function profileKernels<T>(f: () => T): [T, KernelTime[]] {
  const backend = tf.getBackend();
  const configs = tf.getKernelsForBackend(backend);
  const times: KernelTime[] = [];
  for (const config of configs) {
    const run = config.kernelFunc;
    const entry: KernelTime = { kernel: config.kernelName, ms: 0, calls: 0 };
    times.push(entry);
    tf.unregisterKernel(config.kernelName, backend);
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        const start = performance.now();
        try {
          return run(args);
        } finally {
          entry.ms += performance.now() - start;
          entry.calls++;
        }
      },
    });
  }
  try {
    const result = f();
    return [result, times.filter((t) => t.calls > 0).sort((a, b) => b.ms - a.ms)];
  } finally {
    for (const config of configs) {
      tf.unregisterKernel(config.kernelName, backend);
      tf.registerKernel(config);
    }
  }
}
