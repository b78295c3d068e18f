/**
 * `checkpoint.bin`: what a run needs to continue exactly where it stopped — the optimised variable, the
 * optimizer's state (L-BFGS history, Adam moments, SGD momentum), the iteration and evaluation counts and
 * the clock. Nothing random is drawn after the initial image, so no generator state is needed.
 *
 * Layout: the 8 bytes `NSTCKPT1`, a little-endian u32 header length, the header as UTF-8 JSON, zero
 * padding to a multiple of 4 bytes, then the float32 arrays (little-endian) back to back in the
 * header's order. Written to a temporary file, synced and renamed, so a killed process leaves either
 * the previous checkpoint or the new one, never half of one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { endianness } from 'node:os';
import { dirname } from 'node:path';
import { NstError } from '../errors';
import type { HostTensor, OptimizerState } from '../optim/optimizer';

/** Host copies of a session's state (see Session.checkpoint). */
export interface SessionCheckpoint {
  iteration: number;
  evaluations: number;
  /** Milliseconds the run had been going: a resumed run's logs continue the clock. */
  elapsedMs: number;
  /** The optimised variable as it is: opaque floats in whatever space the session optimises. */
  variable: HostTensor;
  optimizer: OptimizerState;
}

/** A checkpoint with what it belongs to, checked before a resume. */
export interface CheckpointRecord {
  runId: string;
  /** The backend that computed it: resuming elsewhere would not reproduce the uninterrupted run. */
  backend: string;
  /** The coarse-to-fine stage the session ran (absent: a single-stage run). */
  stage?: number;
  checkpoint: SessionCheckpoint;
}

const MAGIC = Buffer.from('NSTCKPT1', 'latin1');
const VERSION = 1;

interface Header {
  version: number;
  runId: string;
  backend: string;
  stage?: number;
  iteration: number;
  evaluations: number;
  elapsedMs: number;
  optimizer: { name: string; scalars: Record<string, unknown> };
  /** In file order; `variable`, then `optimizer.<name>` for each optimizer tensor. */
  arrays: { name: string; shape: number[] }[];
}

function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function checkEndianness(): void {
  // Checkpoints stay on the machines of one cluster; a big-endian host would misread the floats.
  if (endianness() !== 'LE') throw new NstError('checkpoints need a little-endian machine', 'use --restart');
}

/** Writes the checkpoint atomically; returns the bytes written. */
export async function writeCheckpoint(path: string, record: CheckpointRecord): Promise<number> {
  checkEndianness();
  const { checkpoint: cp } = record;
  const arrays: [string, HostTensor][] = [['variable', cp.variable], ...Object.entries(cp.optimizer.tensors).map(([k, t]): [string, HostTensor] => [`optimizer.${k}`, t])];
  const header: Header = {
    version: VERSION,
    runId: record.runId,
    backend: record.backend,
    ...(record.stage === undefined ? {} : { stage: record.stage }),
    iteration: cp.iteration,
    evaluations: cp.evaluations,
    elapsedMs: cp.elapsedMs,
    optimizer: { name: cp.optimizer.name, scalars: cp.optimizer.scalars },
    arrays: arrays.map(([name, t]) => ({ name, shape: t.shape })),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  const padding = Buffer.alloc((4 - ((MAGIC.length + 4 + json.length) % 4)) % 4);

  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let bytes = 0;
  const file = await open(tmp, 'w');
  try {
    for (const chunk of [MAGIC, length, json, padding, ...arrays.map(([, t]) => bytesOf(t.data))]) {
      // FileHandle.write may write less than asked; loop until the chunk is out.
      for (let at = 0; at < chunk.length; ) at += (await file.write(chunk, at, chunk.length - at)).bytesWritten;
      bytes += chunk.length;
    }
    await file.sync();
    await file.close();
    await rename(tmp, path);
  } catch (e) {
    await file.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  return bytes;
}

function corrupt(path: string, why: string): NstError {
  return new NstError(`the checkpoint ${path} is unreadable (${why})`, 'rerun with --restart to start the run over');
}

/** Reads a checkpoint; undefined when there is none. */
export async function readCheckpoint(path: string): Promise<CheckpointRecord | undefined> {
  if (!existsSync(path)) return undefined;
  checkEndianness();
  const buf = await readFile(path);
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt(path, 'not a checkpoint file');
  const headerLength = buf.readUInt32LE(MAGIC.length);
  let header: Header;
  try {
    header = JSON.parse(buf.subarray(MAGIC.length + 4, MAGIC.length + 4 + headerLength).toString('utf8')) as Header;
  } catch {
    throw corrupt(path, 'bad header');
  }
  if (header.version !== VERSION) throw corrupt(path, `version ${header.version}, this workbench reads ${VERSION}`);
  let at = MAGIC.length + 4 + headerLength;
  at += (4 - (at % 4)) % 4;
  const tensors: Record<string, HostTensor> = {};
  for (const { name, shape } of header.arrays) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (at + 4 * n > buf.length) throw corrupt(path, 'truncated');
    // A copy: the file buffer need not be 4-byte aligned.
    tensors[name] = { shape, data: new Float32Array(buf.buffer.slice(buf.byteOffset + at, buf.byteOffset + at + 4 * n)) };
    at += 4 * n;
  }
  if (at !== buf.length || !tensors.variable) throw corrupt(path, 'wrong length');
  const optimizerTensors = Object.fromEntries(
    Object.entries(tensors)
      .filter(([k]) => k.startsWith('optimizer.'))
      .map(([k, t]) => [k.slice('optimizer.'.length), t]),
  );
  return {
    runId: header.runId,
    backend: header.backend,
    ...(header.stage === undefined ? {} : { stage: header.stage }),
    checkpoint: {
      iteration: header.iteration,
      evaluations: header.evaluations,
      elapsedMs: header.elapsedMs,
      variable: tensors.variable,
      optimizer: { ...header.optimizer, tensors: optimizerTensors },
    },
  };
}
