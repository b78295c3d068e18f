/**
 * Picks the TensorFlow.js backend in one place: `auto` tries tensorflow (tfjs-node-gpu), then native
 * (wasm with oneDNN convolutions, native/), then wasm, then cpu; `--backend` or NST_BACKEND forces one.
 * Every command and notebook reports the result.
 */
import * as tf from '@tensorflow/tfjs';
import { BACKENDS, type BackendChoice } from './config';
import { NstError } from './errors';

export interface BackendInfo {
  /** The backend that runs: tensorflow, native, wasm or cpu. */
  name: 'tensorflow' | 'native' | 'wasm' | 'cpu';
  requested: BackendChoice;
  /**
   * The device actually used, e.g. 'GPU (CUDA)', 'CPU (libtensorflow)', 'CPU (WebAssembly SIMD, 2 threads)',
   * 'CPU (oneDNN 2.6.3 avx512_core Winograd + WebAssembly SIMD, 2 threads)'.
   */
  device: string;
  /** Why earlier choices of `auto` were skipped. */
  skipped: string[];
}

let current: BackendInfo | undefined;

/**
 * The backend asked for: the explicit argument, else NST_BACKEND, else auto. `auto` counts as no
 * choice (it is every config's default), so NST_BACKEND also decides for runs whose config leaves it.
 */
export function requestedBackend(explicit?: string): BackendChoice {
  const value = explicit && explicit !== 'auto' ? explicit : process.env.NST_BACKEND || 'auto';
  if (!(BACKENDS as readonly string[]).includes(value)) {
    throw new NstError(`unknown backend '${value}'`, `allowed: ${BACKENDS.join(', ')} (--backend or NST_BACKEND)`);
  }
  return value as BackendChoice;
}

async function tryTensorflow(): Promise<string> {
  // tfjs-node-gpu registers the 'tensorflow' backend on the shared tfjs-core when loaded.
  await import('@tensorflow/tfjs-node-gpu' as string);
  if (!(await tf.setBackend('tensorflow'))) throw new Error('backend tensorflow did not initialise');
  return tensorflowDevice();
}

/**
 * libtensorflow 2.9 silently runs on the CPU when the CUDA/cuDNN it was built for (11.2/8.1) is
 * missing, so ask the backend which device it really placed work on.
 */
function tensorflowDevice(): string {
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean; isGPUPackage?: boolean };
  if (backend.isUsingGpuDevice) return 'GPU (CUDA, libtensorflow 2.9.1)';
  const why = backend.isGPUPackage ? ' — the GPU package found no usable GPU: it needs CUDA 11.2 + cuDNN 8.1' : '';
  return `CPU (libtensorflow)${why}`;
}

async function tryWasm(): Promise<string> {
  const { configureWasm } = await import('./wasm-threads');
  const threads = await configureWasm();
  if (!(await tf.setBackend('wasm'))) throw new Error('backend wasm did not initialise');
  return `CPU (WebAssembly SIMD, ${threads} thread${threads === 1 ? '' : 's'})`;
}

async function tryNative(): Promise<string> {
  const { startNative } = await import('./native/backend');
  return startNative();
}

async function tryCpu(): Promise<string> {
  if (!(await tf.setBackend('cpu'))) throw new Error('backend cpu did not initialise');
  return 'CPU (plain JavaScript)';
}

const TRIES = { tensorflow: tryTensorflow, native: tryNative, wasm: tryWasm, cpu: tryCpu } as const;

/** Initialises the backend once per process; later calls return the same info unless a different one is forced. */
export async function initBackend(choice?: string): Promise<BackendInfo> {
  const requested = requestedBackend(choice);
  if (current && (requested === 'auto' || requested === current.name)) return current;
  const order: (keyof typeof TRIES)[] = requested === 'auto' ? ['tensorflow', 'native', 'wasm', 'cpu'] : [requested];
  const skipped: string[] = [];
  for (const name of order) {
    try {
      const device = await TRIES[name]();
      current = { name, requested, device, skipped };
      return current;
    } catch (e) {
      const reason = e instanceof Error ? e.message.split('\n')[0]! : String(e);
      if (requested !== 'auto') {
        throw new NstError(`backend '${name}' could not start: ${reason}`, 'use --backend auto, or install what it needs (see README, Backends)');
      }
      skipped.push(`${name}: ${reason}`);
    }
  }
  throw new NstError('no TensorFlow.js backend could start', skipped.join('; '));
}

/** One line for the top of every output: which backend and device run. */
export function describeBackend(info: BackendInfo): string {
  return `backend: ${info.name} — ${info.device}`;
}
