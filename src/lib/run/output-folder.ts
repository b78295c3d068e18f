/**
 * The run folder, checked before the network loads: that it can be created and written (not under a
 * file, not on a read-only mount, not without permission) and that its disk has room for what the run
 * writes. Each problem is reported as what it is, with the path.
 */
import { accessSync, constants, existsSync, lstatSync, mkdirSync, readlinkSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { NstError } from '../errors';
import { describeFsError } from './fs-errors';
import { formatBytes } from './limits';

function isSymbolicLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The nearest folder on the path that exists (the one a mkdir -p starts from). */
function nearestExisting(path: string): string {
  let p = resolve(path);
  while (!existsSync(p) && dirname(p) !== p) {
    // A symbolic link whose target is gone: mkdir would only say ENOENT.
    if (isSymbolicLink(p)) {
      throw new NstError(`cannot create the run folder under ${p}: it is a symbolic link to ${readlinkSync(p)}, which does not exist`, 'create the link\'s target, or give --out another folder');
    }
    p = dirname(p);
  }
  return p;
}

/** Creates `dir` (and its parents) for a run, or throws an NstError that says why it cannot. */
export function prepareRunFolder(dir: string): void {
  const base = nearestExisting(dir);
  try {
    if (!statSync(base).isDirectory()) {
      throw new NstError(`cannot create the run folder ${dir}: ${base} is a file, not a folder`, 'give --out a folder (or a path that does not exist yet)');
    }
    // access(2) names a read-only mount (EROFS) where mkdir would only say ENOENT or EACCES.
    accessSync(base, constants.W_OK | constants.X_OK);
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw describeFsError(e, 'cannot create the run folder', dir);
  }
}

/** Throws an NstError when the disk holding `dir` has less than `bytes` free. */
export function checkFreeSpace(dir: string, bytes: number): void {
  let free: number;
  try {
    const fs = statfsSync(dir);
    free = fs.bavail * fs.bsize;
  } catch {
    return; // a file system that does not say: the writes will tell
  }
  if (free < bytes) {
    throw new NstError(
      `not enough space for the run in ${dir}: ${formatBytes(free)} free, the run writes about ${formatBytes(bytes)} (checkpoint, snapshots, metrics)`,
      'free some space there, give --out a folder on another disk, or lower --image-size / --history-size',
    );
  }
}

/**
 * Bytes a run writes at most at once: its checkpoint twice (the new one is written beside the old),
 * the PNGs (≤ 3 bytes a pixel each: final.png and every snapshot) and metrics.csv (~40 bytes a value).
 */
export function runOutputBytes(opts: { pixels: number; checkpointVectors: number; images: number; iterations: number; columns: number }): number {
  const checkpoint = 2 * opts.checkpointVectors * 12 * opts.pixels;
  return checkpoint + opts.images * 3 * opts.pixels + opts.iterations * opts.columns * 40 + 64 * 1024;
}
