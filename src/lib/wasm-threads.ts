/**
 * Runs tfjs-backend-wasm's multi-threaded SIMD build under Node.
 *
 * The package ships a threaded SIMD build (XNNPACK on a pthreadpool) but never uses it in Node: its
 * WASM_HAS_MULTITHREAD_SUPPORT flag is hard-wired to false there, because its loader starts the pthread
 * workers from `blob:` URLs, which Node's worker_threads refuse. Setting the flag is not enough, so this
 * module builds the backend itself from the package's own emscripten glue (`wasm-out/`), with the
 * workers started from real files (`wasm/pthread-worker.cjs`), and registers it as `wasm` in place of the
 * stock single-threaded one. Everything else (kernels, memory layout) is the package's.
 *
 * Two further fixes: tfjs caps the pool at half the logical cores (it assumes two hyper-threads per
 * core; a 2-vCPU machine would get 1 thread), so the glue is shown a core count of twice the wanted
 * threads; and the pool's workers are unref'd, so they never keep Node alive at the end of a script.
 *
 * If the threaded build cannot start, the stock single-threaded SIMD backend stays registered and the
 * returned count (1) and a warning say so. NST_WASM_THREADS=N sets the thread count (1: single-threaded).
 * Either way the wasm Identity kernel is replaced by one that shares memory (wasm/identity.ts), and its
 * Slice and SplitV by ones that copy contiguous runs (wasm/slice.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { BackendWasm, getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { NstError } from './errors';
import { projectRoot } from './paths';
import { registerSharingIdentity } from './wasm/identity';
import { registerRunSlice } from './wasm/slice';

/** tfjs' own thread cap (the size of the worker pool its build pre-starts). */
const MAX_THREADS = 8;
const GLUE = '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
const START_TIMEOUT_MS = 30_000;

/** The emscripten module's parts used here. */
interface ThreadedModule {
  cwrap(name: string, returns: string | null, args: string[]): (...args: number[]) => number;
  PThread: { unusedWorkers: Worker[]; runningWorkers: Worker[] };
}

let configured: Promise<number> | undefined;

/** NST_WASM_THREADS, else every core this process may use (os.availableParallelism), at most 8. */
function requestedWasmThreads(): number {
  const env = process.env.NST_WASM_THREADS;
  if (env !== undefined && env.trim() !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) {
      throw new NstError(`NST_WASM_THREADS='${env}' is not a positive integer`, 'set NST_WASM_THREADS=1 to run single-threaded, or unset it to use every core');
    }
    return Math.min(n, MAX_THREADS);
  }
  return Math.min(os.availableParallelism(), MAX_THREADS);
}

/**
 * Called once before `tf.setBackend('wasm')`; returns the number of threads the wasm backend will use.
 * Later calls return the first answer.
 */
export function configureWasm(): Promise<number> {
  configured ??= setUp();
  return configured;
}

async function setUp(): Promise<number> {
  registerSharingIdentity();
  registerRunSlice();
  const requested = requestedWasmThreads();
  if (requested === 1) return 1;
  try {
    const backend = await createThreadedBackend(requested);
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', () => backend, 2);
    return getThreadsCount();
  } catch (e) {
    console.warn(`nst: wasm threads could not start (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); running single-threaded`);
    return 1;
  }
}

/**
 * Evaluates the emscripten glue as CommonJS, with a `require` whose `os` shows `2 × threads` cores
 * (tfjs' cap is half of them) and with `Worker` bound to the given class. Returns its module factory.
 */
function loadGlue(gluePath: string, requireHere: NodeJS.Require, threads: number, worker: typeof Worker): (config: object) => Promise<ThreadedModule> {
  const cpus = os.cpus();
  const glueOs = { ...os, cpus: () => Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]!) };
  const glueRequire = (id: string): unknown => (id === 'os' ? glueOs : requireHere(id));
  const glueModule: { exports: unknown } = { exports: {} };
  // The build pre-starts 8 workers, ~0.1 s each; the pool needs threads − 1 (the caller is the other).
  // Should a later build word this differently, the replace misses and only start-up is slower.
  const source = readFileSync(gluePath, 'utf8').replace('var pthreadPoolSize=8;', `var pthreadPoolSize=${threads - 1};`);
  // `global` is a private object so the glue's `global.Worker = …` does not leak into this process.
  new Function('require', 'module', 'exports', '__filename', '__dirname', 'global', 'Worker', `${source}\n//# sourceURL=${gluePath}`)(
    glueRequire, glueModule, glueModule.exports, gluePath, dirname(gluePath), {}, worker,
  );
  const factory = glueModule.exports as (config: object) => Promise<ThreadedModule>;
  return async (config) => {
    const events = ['uncaughtException', 'unhandledRejection'];
    const before = events.map((e) => process.listeners(e as 'uncaughtException'));
    try {
      return await factory(config);
    } finally {
      // The factory adds process-wide handlers that rethrow every later error from inside the glue's
      // one-line source, burying the real message under 30 kB of minified code: Node's own handling
      // is what we want.
      events.forEach((event, i) => {
        for (const listener of process.listeners(event as 'uncaughtException')) {
          if (!before[i]!.includes(listener)) process.removeListener(event, listener);
        }
      });
    }
  };
}

/**
 * Builds the threaded backend: loads the glue with pthread workers that start from a real file, waits
 * for its worker pool, and constructs BackendWasm, whose constructor creates the XNNPACK thread pool.
 */
async function createThreadedBackend(threads: number): Promise<BackendWasm> {
  if (typeof SharedArrayBuffer === 'undefined') throw new Error('this Node has no SharedArrayBuffer');
  const root = projectRoot();
  const requireHere = createRequire(join(root, 'package.json'));
  const gluePath = requireHere.resolve(GLUE);
  const workerPath = join(root, 'src', 'lib', 'wasm', 'pthread-worker.cjs');
  if (!existsSync(workerPath)) throw new Error(`missing ${workerPath}`);

  let started = false;
  let failStart: (e: unknown) => void = () => {};
  const startFailed = new Promise<never>((_, reject) => (failStart = reject));
  const workers: Worker[] = [];

  /** Emscripten's pthread worker; an error before the pool is up rejects the set-up instead of crashing. */
  class PthreadWorker extends Worker {
    #onerror?: (e: unknown) => void;
    constructor(_file: string) {
      // Plain CommonJS: none of the parent's flags (--import tsx, --input-type) apply to it.
      super(workerPath, { execArgv: [] });
      workers.push(this);
    }
    get onerror(): ((e: unknown) => void) | undefined {
      return this.#onerror;
    }
    set onerror(handler: ((e: unknown) => void) | undefined) {
      this.#onerror = handler && ((e) => (started ? handler(e) : failStart(e)));
    }
  }

  const factory = loadGlue(gluePath, requireHere, threads, PthreadWorker);

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no thread pool after ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    timer.unref();
  });
  try {
    const module = await Promise.race([
      factory({
        locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? join(dirname(gluePath), path) : prefix + path),
        // The script each worker evaluates to join the module: the glue itself, from its real path.
        mainScriptUrlOrBlob: gluePath,
        print: (s: string) => console.log(s),
        printErr: (s: string) => console.warn(s),
      }),
      startFailed,
      timedOut,
    ]);
    // The same bindings tfjs' own loader attaches (tfjs-backend-wasm backend_wasm.ts, init()).
    Object.assign(module, {
      tfjs: {
        init: module.cwrap('init', null, []),
        initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
        getThreadsCount: module.cwrap('get_threads_count', 'number', []),
        registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
        disposeData: module.cwrap('dispose_data', null, ['number']),
        dispose: module.cwrap('dispose', null, []),
      },
    });
    setThreadsCount(threads);
    const backend = new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
    started = true;
    // The pool's threads live as long as the process but must not hold it open; any idle pre-started
    // worker is never used (tfjs creates its one pool above) and costs memory.
    for (const w of module.PThread.runningWorkers) w.unref();
    for (const w of module.PThread.unusedWorkers.splice(0)) void w.terminate();
    return backend;
  } catch (e) {
    for (const w of workers) void w.terminate();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
