/**
 * Emscripten's pthread worker for tfjs-backend-wasm's threaded SIMD build, hosted from a real file.
 *
 * The package ships the worker only as a string (`wasmWorkerContents`) and starts it from a `blob:` URL,
 * which Node's worker_threads refuse (ERR_WORKER_PATH). This file is the worker Node starts instead
 * (see ../wasm-threads.ts); it runs the package's own worker code unchanged. That code was written for
 * a Blob: its "\n" escapes are real newlines inside the template string, so they are escaped back first,
 * as tfjs does before making its Blob.
 */
'use strict';
const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');

new Function('require', '__filename', wasmWorkerContents.replace(/\n/g, '\\n'))(require, __filename);
