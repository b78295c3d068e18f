/**
 * The context every timing needs beside it (issue: figures measured on a loaded machine once made wasm
 * look faster than PyTorch): the CPU model, its cores, the instruction set the kernels actually use, and
 * the load average. A ratio measured under load is not printed unless forced, and then says "loaded".
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import type { BackendInfo } from '../backend';

/** 1-minute load average above which a machine is not quiet enough to compare timings (2 cores here). */
export const QUIET_LOAD = 0.5;

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  /** The vector ISA the CPU offers (from /proc/cpuinfo): AVX-512, AVX2, SSE4.2, or unknown. */
  cpuIsa: string;
  /** What the backend's kernels run on: wasm SIMD128 whatever the CPU, native code the CPU's ISA. */
  kernelIsa: string;
}

function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
    return new Set((line?.split(':')[1] ?? '').trim().split(/\s+/));
  } catch {
    return new Set();
  }
}

export function cpuIsa(flags: ReadonlySet<string> = cpuFlags()): string {
  if (flags.has('avx512f')) return 'AVX-512';
  if (flags.has('avx2')) return 'AVX2';
  if (flags.has('sse4_2')) return 'SSE4.2';
  if (flags.has('asimd')) return 'NEON';
  return 'unknown';
}

export function machineInfo(backend: Pick<BackendInfo, 'name' | 'device'>): MachineInfo {
  const isa = cpuIsa();
  const threads = /\d+ threads?/.exec(backend.device)?.[0] ?? '1 thread';
  const kernelIsa =
    backend.name === 'wasm'
      ? `wasm SIMD128 (${threads}; no FMA)`
      : backend.name === 'native'
        ? `oneDNN ${/oneDNN \S+ (\S+)/.exec(backend.device)?.[1] ?? isa} convolutions and products, wasm SIMD128 elsewhere (${threads})`
        : backend.name === 'cpu'
          ? 'scalar JavaScript'
          : `native (${isa} CPU${/GPU/.test(backend.device) ? '; GPU' : ''})`;
  return { cpuModel: cpus()[0]?.model.trim() ?? 'unknown', cores: availableParallelism(), cpuIsa: isa, kernelIsa };
}

export function loadNow(): number {
  return loadavg()[0]!;
}

/** True when the machine was quiet enough at the start for a ratio to mean something. */
export function isQuiet(loadAtStart: number, threshold = QUIET_LOAD): boolean {
  return loadAtStart <= threshold;
}
