/**
 * Slice and SplitV kernels for the wasm backend that copy contiguous runs instead of single elements.
 *
 * The stock wasm Slice copies a non-contiguous slice one element at a time in JavaScript (its
 * slice4d loop), on the heap's typed arrays: at 256 px that was ~20% of an InceptionV3 iteration on
 * `native` (the max-pooling gradient's window slices, the TV term's shifted images), running at
 * 40–200 M elements/s. A slice is a set of runs, each the innermost axes it keeps whole plus the one
 * before them; those are memmoves within the heap (copyWithin). The stock SplitV calls the stock slice
 * directly, so it is replaced too (the concatenation gradient splits channels).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { replaceWasmKernel } from './replace';

type Numeric = Float32Array | Int32Array | Uint8Array;

/** Below this many elements per run a plain loop beats copyWithin's call. */
const SHORT_RUN = 16;

/**
 * Copies the slice [begin, begin + size) of a row-major array of `shape`, starting at element `from` of
 * `heap`, to element `to` of it (the regions must not overlap).
 */
function copySlice(heap: Numeric, from: number, to: number, shape: readonly number[], begin: readonly number[], size: readonly number[]): void {
  const rank = shape.length;
  if (size.some((s) => s === 0)) return;
  if (rank === 0) {
    heap[to] = heap[from]!;
    return;
  }
  const strides = new Array<number>(rank);
  for (let a = rank - 1, s = 1; a >= 0; a--) {
    strides[a] = s;
    s *= shape[a]!;
  }
  // The run: axis k and every axis after it, which the slice keeps whole.
  let k = rank - 1;
  while (k > 0 && begin[k] === 0 && size[k] === shape[k]) k--;
  const run = size[k]! * strides[k]!;
  let start = from;
  for (let a = 0; a < rank; a++) start += begin[a]! * strides[a]!;
  // An odometer over the axes before k.
  const index = new Array<number>(k).fill(0);
  for (let out = to, source = start; ; out += run) {
    if (run < SHORT_RUN) for (let i = 0; i < run; i++) heap[out + i] = heap[source + i]!;
    else heap.copyWithin(out, source, source + run);
    let a = k - 1;
    while (a >= 0 && ++index[a]! === size[a]) {
      source -= (size[a]! - 1) * strides[a]!;
      index[a] = 0;
      a--;
    }
    if (a < 0) return;
    source += strides[a]!;
  }
}

/** The whole heap as the dtype's array, and where `t` starts in it. */
function onHeap(backend: BackendWasm, t: tf.TensorInfo): [Numeric, number] {
  const view = backend.typedArrayFromHeap(t) as Numeric;
  const whole = new (view.constructor as new (b: ArrayBufferLike) => Numeric)(view.buffer);
  return [whole, view.byteOffset / view.BYTES_PER_ELEMENT];
}

function sliceInto(backend: BackendWasm, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  // The output first: allocating may grow the heap, and views are taken after.
  const out = backend.makeOutput(size, x.dtype);
  if (tf.util.sizeFromShape(size) === 0) return out;
  const [heap, from] = onHeap(backend, x);
  copySlice(heap, from, onHeap(backend, out)[1], x.shape, begin, size);
  return out;
}

let registered = false;

/** Replaces ('Slice', 'wasm') and ('SplitV', 'wasm') once per process; strings keep the stock kernels. */
export function registerRunSlice(): void {
  if (registered) return;
  replaceWasmKernel(tf.Slice, (stock) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string' || x.dtype === 'complex64') return stock(args);
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    return sliceInto(args.backend as BackendWasm, x, b, s);
  });
  replaceWasmKernel(tf.SplitV, (stock) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string' || x.dtype === 'complex64') return stock(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
    const $axis = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const splits = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, $axis);
    const begin = x.shape.map(() => 0);
    return splits.map((length) => {
      const size = [...x.shape];
      size[$axis] = length;
      const piece = sliceInto(args.backend as BackendWasm, x, [...begin], size);
      begin[$axis]! += length;
      return piece;
    });
  });
  registered = true;
}
