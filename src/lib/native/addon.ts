/**
 * The native kernel pack (native/src/addon.cc, built by `npm run build:native`): oneDNN convolutions
 * and matrix products, a reversal and the max-pooling gradient, reading and writing tfjs-backend-wasm's
 * heap in place. Loading it is the only thing that can fail here; the reason is one line, for `auto`
 * to report when it moves on.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, relative } from 'node:path';
import { projectRoot } from '../paths';

/** A convolution prepared once per filter and shape (oneDNN primitive + filter in its format). */
export interface ConvPlan {
  readonly __brand: 'ConvPlan';
}

/**
 * tfjs' conv geometry in oneDNN's terms; dilations as tfjs counts them (1 = none); g groups (1, or ci
 * for a depthwise convolution, whose filter is [kh, kw, ci, co / ci]).
 */
export interface ConvShape {
  n: number; h: number; w: number; ci: number; co: number; kh: number; kw: number;
  sh: number; sw: number; dh: number; dw: number;
  padT: number; padL: number; padB: number; padR: number; oh: number; ow: number; g: number;
  relu: boolean; bias: boolean;
}

/** Max pooling's geometry (NHWC): [n, h, w, c, oh, ow, kh, kw, sh, sw, padTop, padLeft]. */
export type PoolGeometry = [number, number, number, number, number, number, number, number, number, number, number, number];

/** 'auto': Winograd where a fixed rule says it pays (3×3 stride 1, ≥ 64 channels in and out, ≥ 32×32 maps), direct elsewhere. */
export type ConvChoice = 'auto' | 'direct' | 'winograd';

export interface NativeAddon {
  info(): { version: string; isa: string; winograd: boolean; threads: number };
  setThreads(n: number): void;
  convPlan(shape: ConvShape, filter: Float32Array, choice: ConvChoice): ConvPlan;
  convRun(plan: ConvPlan, x: Float32Array, bias: Float32Array | null, y: Float32Array): void;
  convInfo(plan: ConvPlan): { algorithm: 'direct' | 'winograd'; impl: string; weightBytes: number };
  /** Frees the plan now (otherwise when its handle is collected); using it afterwards throws. */
  convRelease(plan: ConvPlan): void;
  /** y = x reversed along `axes`, both of `shape` (row-major). */
  reverse(x: Float32Array, y: Float32Array, shape: number[], axes: number[]): void;
  /** dx = the max-pooling gradient, each window's dy at its first maximum (row-major), overlaps summed. */
  maxPoolGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, geometry: PoolGeometry): void;
  /** c[i] = op(a[i]) · op(b[i]) with op(a) m×k, op(b) k×n, row-major; a batch of 1 is broadcast. */
  matmul(a: Float32Array, b: Float32Array, c: Float32Array, batchA: number, batchB: number, m: number, n: number, k: number, transposeA: boolean, transposeB: boolean): void;
}

/** Where `npm run build:native` puts the addon, relative to the project; NST_NATIVE_ADDON overrides it. */
export const ADDON_PATH = join('native', 'build', 'Release', 'nst_native.node');

let loaded: NativeAddon | undefined;

/** Loads the addon once; throws an Error whose first line says why it is unavailable. */
export function loadNativeAddon(): NativeAddon {
  if (loaded) return loaded;
  const root = projectRoot();
  const file = process.env.NST_NATIVE_ADDON || join(root, ADDON_PATH);
  const inCwd = relative(process.cwd(), file);
  const shown = inCwd && !inCwd.startsWith('..') && !isAbsolute(inCwd) ? inCwd : file;
  if (!existsSync(file)) throw new Error(`the native addon is not built (${shown} is missing: npm run build:native, which needs libdnnl-dev, g++ and make)`);
  // OpenMP's idle threads spin for a while after each oneDNN call by default, taking the cores from
  // the wasm kernels that run between convolutions (~3× slower iterations, measured on a loaded 2-core machine).
  // libgomp reads this when it loads, so it is set first.
  process.env.OMP_WAIT_POLICY ??= 'passive';
  try {
    loaded = createRequire(join(root, 'package.json'))(file) as NativeAddon;
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    throw new Error(`${shown} does not load: ${why} (install libdnnl2, or rebuild with npm run build:native)`);
  }
  return loaded;
}
