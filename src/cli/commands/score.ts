/** `nst score`: the objective's terms and gradient norm at any image, so results of any tool compare. */
import sharp from 'sharp';
import { CONFIG_KEYS, resolveConfig, type RunConfig } from '../../lib/config';
import { NstError } from '../../lib/errors';
import { loadImage } from '../../lib/image/io';
import { TV_TERM } from '../../lib/objectives/gatys';
import { createSession } from '../../lib/run/session';
import type { Command } from '../command';
import { describeOptions, parseOptions, type ExtraOption } from '../options';

const EXTRA: Record<string, ExtraOption> = {
  image: { type: 'string', help: 'the image to score (resized to the content image\'s size if needed)' },
  json: { type: 'boolean', help: 'print JSON: {content: {layer: value}, style: {layer: E_l}, total, grad_norm, …}' },
};

/** Score options: what defines the objective, not how to optimise it. */
const SCORE_KEYS = CONFIG_KEYS.filter((k) => !['out', 'experiment', 'init', 'seed', 'optimizer', 'learningRate', 'momentum', 'iterations', 'historySize', 'lineSearch', 'tolerance', 'saveEvery', 'printEvery'].includes(k));

export const command: Command = {
  summary: 'the objective\'s terms per layer, total and gradient norm at a given image',
  usage: [
    'usage: nst score --image X --content C --style S [--weights W] [layer/weight/pooling options] [--json]',
    '',
    'Images are used at their own size unless --image-size is given. Values are unweighted per layer',
    '(content: 1/2 Σ(F−P)², style: E_l); total = α·Σcontent + β·Σ w_l E_l + tvWeight·tv; grad_norm is the L2 norm',
    'of the total\'s gradient with respect to the preprocessed (caffe BGR, mean-subtracted) image.',
    '',
    `objective options: ${SCORE_KEYS.map((k) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(' ')}`,
    describeOptions(EXTRA),
  ].join('\n'),
  async run(argv) {
    const { config, extra } = parseOptions(argv, EXTRA, SCORE_KEYS);
    if (typeof extra.image !== 'string') throw new NstError('--image is required', 'give the image to score: --image X.png');
    if (!config.content) throw new NstError('--content is required for scoring', 'give --content C.png');
    const partial: Partial<RunConfig> = { ...(config as Partial<RunConfig>), init: 'content', iterations: 1, optimizer: 'adam' };
    if (partial.imageSize === undefined) {
      const meta = await sharp(String(config.content)).metadata().catch(() => {
        throw new NstError(`cannot read image ${String(config.content)}`, 'give a JPEG, PNG or WebP file');
      });
      partial.imageSize = Math.max(meta.width ?? 0, meta.height ?? 0);
    }
    const cfg = resolveConfig(partial);
    const session = await createSession(cfg);
    try {
      const [h, w] = (() => {
        const img = session.image();
        const s = img.shape;
        img.dispose();
        return [s[1], s[2]];
      })();
      const image = await loadImage(extra.image, { size: [h, w] });
      const { logs, gradNorm } = session.score(image);
      image.dispose();
      const out = {
        content: Object.fromEntries(session.config.contentLayers.map((l) => [l, logs.terms[`content/${l}`]])),
        style: Object.fromEntries(session.config.styleLayers.map((l) => [l, logs.terms[`style/${l}`]])),
        tv: logs.terms[TV_TERM] ?? 0,
        total: logs.total,
        grad_norm: gradNorm,
        image_hw: [h, w],
        normalization: cfg.normalization,
        pooling: cfg.pooling,
        network: session.net.name,
        weights: session.info.weightsLabel,
        backend: session.info.backend.name,
      };
      if (extra.json) console.log(JSON.stringify(out, null, 2));
      else {
        console.log(`network: ${out.weights}\nbackend: ${out.backend}`);
        for (const [l, v] of Object.entries(out.content)) console.log(`content/${l}  ${v}`);
        for (const [l, v] of Object.entries(out.style)) console.log(`style/${l}  ${v}`);
        console.log(`total  ${out.total}\ngrad_norm  ${out.grad_norm}`);
      }
      return 0;
    } finally {
      session.dispose();
    }
  },
};
