/**
 * File-system failures in the user's words: a read-only or full disk, a missing folder, a path that is
 * a file, a permission problem — each named as such with the path and what to do, instead of a raw
 * ENOSPC / EROFS / ENOTDIR stack trace.
 */
import { NstError } from '../errors';

const WHAT: Record<string, [string, string]> = {
  ENOSPC: ['the disk is full', 'free some space there, or give --out a folder on another disk'],
  EDQUOT: ['the disk quota is used up', 'free some space there, or give --out a folder on another disk'],
  EFBIG: ['the file grew past the size this process may write (ulimit -f)', 'raise the limit, or give --out a folder on another file system'],
  EROFS: ['the file system is read-only', 'give --out a folder on a writable disk'],
  EACCES: ['permission denied', 'give --out a folder you may write to, or fix its permissions'],
  EPERM: ['the operation is not permitted', 'give --out a folder you may write to, or fix its permissions'],
  ENOTDIR: ['a part of the path is a file, not a folder', 'give --out a folder (or a path that does not exist yet)'],
  EISDIR: ['the path is a folder, not a file', 'remove or rename that folder'],
  ENOENT: ['a folder on the path does not exist (or was removed meanwhile)', 'check the path given to --out'],
  ENAMETOOLONG: ['the path is too long', 'give --out a shorter path'],
  EMFILE: ['this process has too many files open', 'raise the limit (ulimit -n)'],
  EIO: ['the disk reported an input/output error', 'check the disk or the network file system'],
};

/** The error code of a Node file-system error, if it is one. */
function fsErrorCode(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code in WHAT ? code : undefined;
}

/**
 * An NstError for a file-system error while doing `action` on `path` (e.g. 'cannot write metrics.csv');
 * other errors are returned unchanged.
 */
export function describeFsError(e: unknown, action: string, path: string): unknown {
  const code = fsErrorCode(e);
  if (!code) return e;
  const [what, hint] = WHAT[code]!;
  return new NstError(`${action}: ${what} (${code}): ${path}`, hint);
}

/** Runs `f`, turning a file-system error into the NstError of describeFsError. */
export async function withFsErrors<T>(action: string, path: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw describeFsError(e, action, path);
  }
}
