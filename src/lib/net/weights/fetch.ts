/**
 * Downloads pretrained weights listed in models/manifest.json, verified against the pinned md5 and
 * installed atomically: the bytes go to `<file>.part`, which is renamed only after the checksum
 * matches and deleted on any failure, so a file under the final name is always complete.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NstError } from '../../errors';
import { modelsDir } from '../../paths';
import { formatDuration } from '../../run/progress';
import { digestFiles } from './digest';

export interface ModelEntry {
  file: string;
  url: string;
  md5: string;
  /** Bytes, when known: the progress total if the server sends no Content-Length. */
  size?: number;
  description?: string;
  licence?: string;
}

/** The models nst knows how to fetch, from models/manifest.json. */
export function readManifest(): Record<string, ModelEntry> {
  const path = join(modelsDir(), 'manifest.json');
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, ModelEntry>;
}

/** A manifest entry; NST_<NAME>_URL (e.g. NST_VGG19_URL) overrides its URL, explicit `overrides` win over both. */
export function modelEntry(name: string, overrides: Partial<ModelEntry> = {}): ModelEntry {
  const manifest = readManifest();
  const entry = manifest[name];
  if (!entry) throw new NstError(`unknown model '${name}'`, `known models: ${Object.keys(manifest).join(', ')}`);
  const envUrl = process.env[`NST_${name.toUpperCase()}_URL`];
  return { ...entry, ...(envUrl ? { url: envUrl } : {}), ...overrides };
}

export type Progress = (received: number, total: number | undefined) => void;

const MB = 1024 * 1024;

/**
 * Download progress on a stream (stderr by default): a bar redrawn in place on a terminal, one line
 * per 10 % elsewhere (notebook cells and logs would otherwise collect every redraw).
 */
export function downloadProgress(stream: NodeJS.WriteStream = process.stderr): { update: Progress; end(): void } {
  const started = performance.now();
  let lastDraw = 0;
  let lastDecile = -1;
  let drew = false;
  return {
    update(received, total) {
      const now = performance.now();
      const rate = received / Math.max(1e-3, (now - started) / 1000);
      const amount = `${(received / MB).toFixed(1)}${total ? `/${(total / MB).toFixed(1)}` : ''} MB  ${(rate / MB).toFixed(1)} MB/s`;
      const eta = total && rate > 0 ? `  ETA ${formatDuration(((total - received) / rate) * 1000)}` : '';
      if (stream.isTTY) {
        if (now - lastDraw < 100 && received !== total) return;
        lastDraw = now;
        const width = 24;
        const filled = total ? Math.min(width, Math.round((received / total) * width)) : 0;
        stream.write(`\r${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${amount}${eta}\x1b[K`);
        drew = true;
        return;
      }
      const decile = total ? Math.floor((received / total) * 10) : Math.floor(received / (10 * MB));
      if (decile === lastDecile) return;
      lastDecile = decile;
      stream.write(`download: ${total ? `${Math.min(100, decile * 10)}%  ` : ''}${amount}\n`);
    },
    end() {
      if (drew) stream.write('\n');
    },
  };
}

export interface FetchOptions {
  /** Destination folder (default: the project's models/). */
  dir?: string;
  /** Replaces manifest fields, e.g. `{ url, md5 }` to serve a test file. */
  entry?: Partial<ModelEntry>;
  /** Give up when no response has arrived after this long (default 10 s): offline machines fail fast. */
  connectTimeoutMs?: number;
  /** Give up when the body stalls this long (default 60 s). */
  stallTimeoutMs?: number;
  progress?: Progress;
}

export interface Fetched {
  path: string;
  md5: string;
  sha256: string;
  bytes: number;
  /** False when a verified copy was already in place. */
  downloaded: boolean;
}

function networkReason(e: unknown, timedOut: string | undefined): string {
  if (timedOut) return timedOut;
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  return err.cause?.message ?? err.message ?? String(e);
}

/** Downloads a manifest model into `dir`, verifies its md5 and installs it atomically. */
export async function fetchModel(name: string, opts: FetchOptions = {}): Promise<Fetched> {
  const entry = modelEntry(name, opts.entry);
  const dir = resolve(opts.dir ?? modelsDir());
  const target = join(dir, entry.file);
  if (existsSync(target)) {
    const d = await digestFiles([target]);
    if (d.md5 === entry.md5) return { path: target, ...d, bytes: (await stat(target)).size, downloaded: false };
  }
  const byHand = `to install it by hand, download ${entry.url} and save it as ${target}`;
  const part = `${target}.part`;
  await mkdir(dir, { recursive: true });
  const controller = new AbortController();
  let timedOut: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number, why: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = why;
      controller.abort();
    }, ms);
  };
  const connectMs = opts.connectTimeoutMs ?? 10_000;
  const stallMs = opts.stallTimeoutMs ?? 60_000;
  try {
    arm(connectMs, `no response within ${connectMs / 1000} s`);
    let response: Response;
    try {
      response = await fetch(entry.url, { signal: controller.signal });
    } catch (e) {
      throw new NstError(`cannot download ${entry.url} (${networkReason(e, timedOut)}); ${byHand}`, `its md5 must be ${entry.md5}; see models/README.md`);
    }
    if (!response.ok || !response.body) {
      throw new NstError(`cannot download ${entry.url}: HTTP ${response.status} ${response.statusText}; ${byHand}`, `its md5 must be ${entry.md5}; see models/README.md`);
    }
    const total = Number(response.headers.get('content-length')) || entry.size;
    let received = 0;
    const out = await open(part, 'w');
    try {
      arm(stallMs, `the download stalled for ${stallMs / 1000} s`);
      const reader = response.body.getReader();
      for (;;) {
        const { done, value: chunk } = await reader.read();
        if (done) break;
        arm(stallMs, `the download stalled for ${stallMs / 1000} s`);
        await out.write(chunk);
        received += chunk.byteLength;
        opts.progress?.(received, total);
      }
    } catch (e) {
      throw new NstError(`download of ${entry.url} broke off after ${received} bytes (${networkReason(e, timedOut)}); nothing was installed`, `retry, or ${byHand}`);
    } finally {
      await out.close();
    }
    clearTimeout(timer);
    const d = await digestFiles([part]);
    if (d.md5 !== entry.md5) {
      throw new NstError(
        `the file downloaded from ${entry.url} (${received} bytes) has md5 ${d.md5}, expected ${entry.md5}; it was deleted and nothing was installed at ${target}`,
        `a corrupted download or a changed upstream file: retry, or ${byHand} and check its md5`,
      );
    }
    await rename(part, target);
    return { path: target, ...d, bytes: received, downloaded: true };
  } finally {
    clearTimeout(timer);
    await rm(part, { force: true });
  }
}
