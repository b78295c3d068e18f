/** `nst video`: a clip stylised frame by frame with temporal coherence (Ruder et al. 2016). */
import { CONFIG_KEYS, DEFAULT_CONFIG, optionName } from '../../lib/config';
import { readConfigFile } from '../../lib/config-file';
import { NstError } from '../../lib/errors';
import { CLIP_INITS } from '../../lib/video/clip';
import { FLOW_METHODS } from '../../lib/video/flow';
import { VIDEO_DEFAULTS, VIDEO_KEYS, type VideoConfig } from '../../lib/video/video-config';
import { runVideo } from '../../lib/video/video-run';
import type { Command } from '../command';
import { describeOptions, parseOptions, type ExtraOption } from '../options';

const VIDEO_HELP: Record<keyof VideoConfig, string> = {
  temporalWeight: 'γ: weight of the temporal term (§3.2)',
  temporalOffsets: '1: short-term loss; 1,2,4: long-term (§3.3); none: per-frame baseline',
  frameInit: `how frames after the first start (§3.1): ${CLIP_INITS.join(' | ')} (session: as --init says)`,
  flow: `optical flow: ${FLOW_METHODS.join(' | ')}`,
  fps: 'decode at this rate (ffmpeg fps filter) and encode clip.mp4 at it; 0: the source\'s rate',
  maxFrames: 'only the first N frames; 0: all',
  passes: 'passes over the clip (§3.4): 1 forward; more alternate backward, forward, … from blended starts',
  passIterations: 'iterations per frame in passes 2 and later; 0: --iterations',
  passBlend: 'δ of the multi-pass blend: weight of a frame\'s own previous-pass output (vs its warped neighbour)',
};

const EXTRA: Record<string, ExtraOption> = {
  ...Object.fromEntries(VIDEO_KEYS.map((k) => [k, { type: 'string' as const, help: `${VIDEO_HELP[k]} (default ${JSON.stringify(VIDEO_DEFAULTS[k])})` }])),
  noVideo: { type: 'boolean', help: 'do not encode clip.mp4 (no ffmpeg needed for a folder of frames)' },
  config: { type: 'string', help: 'JSON or YAML file of config keys (run and video keys, camelCase); command-line options win' },
  json: { type: 'boolean', help: 'print the clip record (clip.json) at the end' },
};

const usage = [
  'usage: nst video --content CLIP.mp4|FRAMES/ --style S [video options] [run options]',
  '',
  'Style transfer for videos (Ruder, Dosovitskiy & Brox 2016): each frame starts from the previous result',
  'warped by the optical flow, and a temporal loss keeps it close to it where the flow is reliable.',
  'Results: <out>/<experiment>/<clip-id>/ with frames/, clip.mp4, metrics.csv (a frame column), clip.json',
  '(warping error, frames per minute), config.json and, for video files, the decoded input/. Rerunning the',
  'same command resumes at the first unfinished frame. Every run option applies to each frame (docs/video.md).',
  '',
  'video options:',
  describeOptions(EXTRA),
  '',
  'run options (default):',
  ...CONFIG_KEYS.map((k) => `  ${(optionName(k) + ' VALUE').padEnd(28)} ${JSON.stringify(DEFAULT_CONFIG[k])}`),
].join('\n');

export const command: Command = {
  summary: 'video style transfer with temporal coherence: clip + style → stylised frames, mp4, measures',
  usage,
  async run(argv) {
    const { config, extra, positionals } = parseOptions(argv, EXTRA);
    if (positionals.length > 0) throw new NstError(`unexpected argument '${positionals[0]}'`, 'see nst video --help');
    const fromFile = typeof extra.config === 'string' ? readConfigFile(extra.config) : {};
    const video = Object.fromEntries(VIDEO_KEYS.filter((k) => extra[k] !== undefined).map((k) => [k, extra[k]]));
    const { record, dir } = await runVideo({ experiment: 'video', ...fromFile, ...config, ...video }, { encode: !extra.noVideo });
    if (extra.json) console.log(JSON.stringify({ dir, ...record, options: undefined }, null, 2));
    return 0;
  },
};
