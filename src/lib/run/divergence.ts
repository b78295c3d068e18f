/**
 * Why a run's loss became NaN or infinite, told from the objective at the point where it did: the
 * weighted sums overflowing float32 while every term is finite is the weights' doing; terms that are
 * not finite at the initial image are the inputs'; terms that blow up later are the optimizer's step.
 */
import type { RunConfig } from '../config';
import type { StepLogs } from './types';

const GROUP_OPTION = { content: '--content-weight', style: '--style-weight', tv: '--tv-weight' } as const;
const GROUP_WEIGHT = { content: 'contentWeight', style: 'styleWeight', tv: 'tvWeight' } as const;

/** A number as people write it in an option: 1e+30, 0.5, 1000. */
function option(n: number): string {
  const short = Number(n.toPrecision(3));
  return Math.abs(short) >= 1e6 || (short !== 0 && Math.abs(short) < 1e-4) ? short.toExponential() : String(short);
}

export interface DivergenceCause {
  /** What went wrong, for the error message. */
  cause: string;
  /** What to change. */
  hint: string;
}

/**
 * The cause of a divergence, from the objective's terms at the first non-finite point (`bad`) and
 * whether that point was the initial image.
 */
export function divergenceCause(cfg: RunConfig, bad: StepLogs, atInitialImage: boolean): DivergenceCause {
  const termsFinite = Object.values(bad.terms).every(Number.isFinite);
  const overflowing = (['content', 'style', 'tv'] as const).filter((g) => !Number.isFinite(bad[g]));
  if (termsFinite && overflowing.length > 0) {
    const weights = overflowing.map((g) => `${GROUP_OPTION[g]} (now ${option(cfg[GROUP_WEIGHT[g]])})`).join(', ');
    return {
      cause: `the weighted ${overflowing.join(' and ')} loss overflows float32 (above 3.4e38) while every term is finite`,
      hint: `lower ${weights}: only the ratio of the weights matters (e.g. --content-weight 1 --style-weight 1e3)`,
    };
  }
  if (atInitialImage) {
    const broken = Object.entries(bad.terms).filter(([, v]) => !Number.isFinite(v)).map(([k]) => k);
    return {
      cause: `the objective is not finite at the initial image (${broken.join(', ')})`,
      hint: 'check the images (decodable, not empty), --init, and --weights (a damaged weights file gives NaN features)',
    };
  }
  const [lr, lower] = [option(cfg.learningRate), option(cfg.learningRate / 10)];
  switch (cfg.optimizer) {
    case 'adam':
    case 'sgd':
      return { cause: `${cfg.optimizer}'s steps grew the image without bound`, hint: `lower --learning-rate (now ${lr}; try ${lower})` };
    case 'lbfgs':
      return cfg.lineSearch === 'strong_wolfe'
        ? {
            cause: 'a trial step of the strong-Wolfe line search left the range of float32',
            hint: `lower --learning-rate (L-BFGS's first trial step, now ${lr}; try ${lower}), or use --optimizer adam`,
          }
        : {
            cause: 'L-BFGS without a line search took a full step that left the range of float32',
            hint: `use --line-search strong_wolfe, or lower --learning-rate (now ${lr}; try ${lower})`,
          };
  }
}
