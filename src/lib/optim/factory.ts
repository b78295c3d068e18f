/** The optimizer a run config names, with its options. */
import type { RunConfig } from '../config';
import { Adam } from './adam';
import { Lbfgs, type LbfgsOptions } from './lbfgs';
import type { Optimizer } from './optimizer';
import { Sgd } from './sgd';

export type OptimizerConfig = Pick<RunConfig, 'optimizer' | 'learningRate' | 'momentum' | 'historySize' | 'lineSearch'>;

/**
 * `lbfgs` (history size, line search, lr as PyTorch's), `adam` (lr), `sgd` (lr, momentum). The L-BFGS
 * tolerances default to PyTorch's; the config's `tolerance` (relative decrease per iteration) is the
 * run loop's, not the optimizer's.
 */
export function createOptimizer(
  cfg: OptimizerConfig,
  tolerances: Pick<LbfgsOptions, 'toleranceGrad' | 'toleranceChange'> = {},
): Optimizer {
  switch (cfg.optimizer) {
    case 'lbfgs':
      return new Lbfgs({ learningRate: cfg.learningRate, historySize: cfg.historySize, lineSearch: cfg.lineSearch, ...tolerances });
    case 'adam':
      return new Adam({ learningRate: cfg.learningRate });
    case 'sgd':
      return new Sgd({ learningRate: cfg.learningRate, momentum: cfg.momentum });
  }
}
