/**
 * Frames in and out: a folder of PNG/JPEG frames, or a video file decoded by ffmpeg into one; and a
 * list of frames encoded to an H.264 mp4. ffmpeg runs as a child process (Debian's `ffmpeg` package,
 * or the binary NST_FFMPEG names); image files go through sharp like every other image.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import sharp from 'sharp';
import { NstError } from '../errors';

export const FRAME_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** The ffmpeg binary: NST_FFMPEG, else `ffmpeg` on the PATH; ffprobe is its sibling. */
function binary(tool: 'ffmpeg' | 'ffprobe'): string {
  const ffmpeg = process.env.NST_FFMPEG || 'ffmpeg';
  return tool === 'ffmpeg' ? ffmpeg : join(dirname(ffmpeg), basename(ffmpeg).replace(/ffmpeg/, 'ffprobe'));
}

const INSTALL_HINT = 'install it (Debian/Ubuntu: apt-get install ffmpeg), or point NST_FFMPEG at the binary';

/**
 * Runs ffmpeg or ffprobe with `args`, writing `input` chunks to its stdin one by one (respecting
 * back-pressure), and returns its stdout. A missing binary and a failed run become NstErrors; `what`
 * names the file in the message.
 */
function runTool(tool: 'ffmpeg' | 'ffprobe', args: readonly string[], what: string, input?: AsyncIterable<Buffer>): Promise<string> {
  const bin = binary(tool);
  const common = tool === 'ffmpeg' ? ['-hide_banner', '-nostdin', '-v', 'error'] : ['-v', 'error'];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [...common, ...args], { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let failed = false;
    const fail = (e: Error) => {
      if (!failed) reject(e);
      failed = true;
    };
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('error', (e: NodeJS.ErrnoException) =>
      fail(e.code === 'ENOENT' ? new NstError(`${tool} not found (looked for '${bin}')`, INSTALL_HINT) : new NstError(`${tool} could not start: ${e.message}`, INSTALL_HINT)),
    );
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else {
        const detail = stderr.trim().split('\n').slice(-3).join('; ') || `exit code ${code}`;
        fail(new NstError(`${tool} failed on ${what}: ${detail}`, 'check that the file is a readable video (ffmpeg -i FILE shows its streams)'));
      }
    });
    if (input) {
      const stdin = child.stdin!;
      stdin.on('error', () => undefined); // a failing ffmpeg closes its stdin; its exit reports why
      (async () => {
        for await (const chunk of input) {
          if (failed) return;
          if (!stdin.write(chunk)) await new Promise<void>((r) => stdin.once('drain', () => r()));
        }
        stdin.end();
      })().catch((e: Error) => {
        fail(e);
        child.kill();
      });
    }
  });
}

/**
 * Throws the NstError of a missing ffmpeg (or ffprobe) now, so that a clip that will need it at the
 * end (decoding, clip.mp4) fails before any compute rather than after.
 */
export async function checkFfmpeg(tools: readonly ('ffmpeg' | 'ffprobe')[] = ['ffmpeg']): Promise<void> {
  for (const tool of tools) await runTool(tool, ['-version'], `${tool} -version`);
}

/** Numeric-aware ordering, so that frame_9.png comes before frame_10.png. */
const byName = new Intl.Collator('en', { numeric: true }).compare;

/** The frame files of a folder (PNG/JPEG, by name, numbers in names ordered numerically). */
export function listFrames(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new NstError(`frames folder not found: ${dir}`, 'give a folder of PNG/JPEG frames or a video file');
  }
  const names = readdirSync(dir).filter((n) => (FRAME_EXTENSIONS as readonly string[]).includes(extname(n).toLowerCase()));
  if (names.length === 0) {
    throw new NstError(`no frames in ${dir}`, `the folder must hold ${FRAME_EXTENSIONS.join('/')} files (frame_00001.png, …), or give a video file`);
  }
  return names.sort(byName).map((n) => join(dir, n));
}

export interface DecodeOptions {
  /** Resample to this many frames per second (ffmpeg's fps filter); default: every frame as stored. */
  fps?: number;
  /** Stop after this many frames. */
  maxFrames?: number;
}

/**
 * Decodes a video file into `outDir/frame_00001.png, …` and lists them. The folder appears complete or
 * not at all: ffmpeg writes into a sibling temporary folder that is renamed when it succeeds, so a
 * killed decode is redone, never half-used.
 */
export async function decodeVideo(file: string, outDir: string, opts: DecodeOptions = {}): Promise<string[]> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new NstError(`video not found: ${file}`, 'check the path (relative paths are from the current directory)');
  if (opts.fps !== undefined && !(opts.fps > 0)) throw new NstError(`fps must be positive (got ${opts.fps})`);
  if (opts.maxFrames !== undefined && !(Number.isInteger(opts.maxFrames) && opts.maxFrames > 0)) throw new NstError(`the frame limit must be a whole number ≥ 1 (got ${opts.maxFrames})`);
  const tmp = `${outDir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const args = ['-i', file, '-an', '-vsync', 'passthrough'];
  if (opts.fps !== undefined) args.push('-vf', `fps=${opts.fps}`);
  if (opts.maxFrames !== undefined) args.push('-frames:v', String(opts.maxFrames));
  try {
    await runTool('ffmpeg', [...args, join(tmp, 'frame_%05d.png')], file);
    if (readdirSync(tmp).length === 0) throw new NstError(`no frames in ${file}`, 'the file has no video stream ffmpeg can decode');
    await mkdir(dirname(outDir), { recursive: true });
    await rm(outDir, { recursive: true, force: true });
    await rename(tmp, outDir);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return listFrames(outDir);
}

/** The average frame rate of a video's first video stream (ffprobe), or undefined if it states none. */
export async function videoFrameRate(file: string): Promise<number | undefined> {
  if (!existsSync(file)) throw new NstError(`video not found: ${file}`, 'check the path (relative paths are from the current directory)');
  const out = await runTool('ffprobe', ['-select_streams', 'v:0', '-show_entries', 'stream=avg_frame_rate', '-of', 'csv=p=0', file], file);
  const [num, den] = out.trim().split('/').map(Number);
  const fps = den ? num! / den : num;
  return fps !== undefined && Number.isFinite(fps) && fps > 0 ? fps : undefined;
}

export interface EncodeOptions {
  /** Frames per second of the output. */
  fps: number;
  /** x264's constant rate factor, 0 (lossless) … 51; 18 is visually lossless. */
  crf?: number;
}

/**
 * Encodes frames (PNG/JPEG files of one size, in order) into an H.264 mp4 (libx264, yuv420p, so that
 * every player shows it), written atomically. 4:2:0 chroma needs even dimensions: an odd last row or
 * column is cropped away.
 */
export async function encodeVideo(frames: readonly string[], outFile: string, opts: EncodeOptions): Promise<void> {
  if (frames.length === 0) throw new NstError(`no frames to encode into ${outFile}`, 'stylise at least one frame first');
  if (!(opts.fps > 0)) throw new NstError(`fps must be positive (got ${opts.fps})`);
  const first = await sharp(frames[0]!).metadata();
  const [w, h] = [first.width!, first.height!];
  async function* raw(): AsyncIterable<Buffer> {
    for (const path of frames) {
      const { data, info } = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      if (info.width !== w || info.height !== h) {
        throw new NstError(`frame ${path} is ${info.width}×${info.height}, the first frame ${w}×${h}`, 'every frame of a clip must have one size');
      }
      yield data;
    }
  }
  await mkdir(dirname(outFile), { recursive: true });
  const tmp = `${outFile}.tmp-${process.pid}.mp4`;
  const args = ['-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${w}x${h}`, '-framerate', String(opts.fps), '-i', '-'];
  args.push('-vf', 'crop=trunc(iw/2)*2:trunc(ih/2)*2', '-c:v', 'libx264', '-crf', String(opts.crf ?? 18), '-pix_fmt', 'yuv420p', '-movflags', '+faststart', tmp);
  try {
    await runTool('ffmpeg', args, outFile, raw());
    await rename(tmp, outFile);
  } finally {
    await rm(tmp, { force: true });
  }
}
