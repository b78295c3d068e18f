/** The run loop's public shapes, shared by the CLI, notebooks, sweeps and callbacks. */
import type { RunConfig } from '../config';
import type { BackendInfo } from '../backend';
import type { Preprocessing, TapInfo, WeightsRecord } from '../net/network';
import type { RunLock } from './lock';

/**
 * One iteration's record. `groups` holds the weighted contributions to `total` of the objective tree's
 * sums, by name, in its order: `content`, `style` and `tv` (α·Σ content, β·Σ w_l E_l, tvWeight·tv),
 * and whatever else the objective nests (a region's `style/sky`); `content`, `style`, `tv` repeat
 * those three for the readers that name them. A session's added terms, such as video's `temporal`,
 * count in `total` besides the groups. `terms` holds every leaf unweighted, by name
 * (`content/conv4_2`, `style/conv1_1`, `style/sky/conv1_1`, `tv/image`). Values are taken at the
 * iterate the step started from.
 */
export interface StepLogs {
  iteration: number;
  /** Milliseconds since the run began. */
  elapsedMs: number;
  /** Objective evaluations so far (L-BFGS' line search may take several per iteration). */
  evaluations: number;
  total: number;
  content: number;
  style: number;
  tv: number;
  /** Absent in histories written before groups were data: then `content`, `style`, `tv` are all (logGroups). */
  groups?: Record<string, number>;
  terms: Record<string, number>;
  /** The coarse-to-fine stage (0, 1, …) of a run with a `schedule`; absent for a single-stage run. */
  stage?: number;
}

/** The weighted groups of a step, in the objective tree's order. */
export function logGroups(l: StepLogs): Record<string, number> {
  return l.groups ?? { content: l.content, style: l.style, tv: l.tv };
}

export interface RunInfo {
  /** The config as run: layer presets expanded to the network's tap names. */
  config: RunConfig;
  /** The config as given (resolved, but with presets such as `style` unexpanded): the run id's source. */
  requested: RunConfig;
  /** The network that ran, whatever `network: auto` chose. */
  network: { name: string; preprocessing: Preprocessing; weights: WeightsRecord; taps: TapInfo[] };
  runId: string;
  /** `<out>/<experiment>/<runId>` */
  dir: string;
  backend: BackendInfo;
  /** e.g. `vgg19, keras-h5 models/vgg19….h5 (sha256 …)` or `vgg19, random:0 — RANDOM WEIGHTS …`. */
  weightsLabel: string;
  randomWeights: boolean;
  /** Why `auto` fell back to another network or to random weights, if it did. */
  weightsNote?: string;
  /** What the session changed or suggests about the config (e.g. a network's recommended β). */
  notes: string[];
  /** sha256 of the weights file (absent for random weights). */
  weightsSha256?: string;
}

/**
 * `completed`: all iterations; `tolerance`: the config's tolerance (relative decrease per iteration);
 * `converged`: the optimizer's own tolerances (L-BFGS: gradient, step or loss change too small to go on);
 * `interrupted`: a signal (resumable); `diverged`: a non-finite loss.
 */
export type StopReason = 'completed' | 'tolerance' | 'converged' | 'interrupted' | 'diverged';

/** Stop reasons of a finished run (final.png written, nothing to resume). */
export const FINISHED: readonly StopReason[] = ['completed', 'tolerance', 'converged'];

export interface RunResult extends RunInfo {
  history: StepLogs[];
  stopReason: StopReason;
  /** Path of final.png. */
  finalImage: string;
  /** The objective at the final image. */
  final: StepLogs;
  /** The iteration this attempt continued from (its checkpoint), or null for a fresh start. */
  resumedFrom: number | null;
}

/** tfjs-layers-shaped callbacks; all optional, may be async. */
export interface RunCallbacks {
  onRunBegin?(info: RunInfo): void | Promise<void>;
  onStepEnd?(logs: StepLogs, info: RunInfo): void | Promise<void>;
  /** After a snapshot PNG was written. */
  onSnapshot?(iteration: number, path: string, info: RunInfo): void | Promise<void>;
  onRunEnd?(result: RunResult): void | Promise<void>;
}

export interface RunOptions {
  callbacks?: RunCallbacks | RunCallbacks[];
  /** Aborting stops the run at the next iteration, with a snapshot and the status written. */
  signal?: AbortSignal;
  /** Show a terminal progress bar (default: when stderr is a TTY). */
  progress?: boolean;
  /** Print `printEvery` lines and the header to this function (default console.log; null: silent). */
  log?: ((line: string) => void) | null;
  /**
   * `auto` (default): continue from the folder's checkpoint when it has one (an interrupted or killed
   * attempt), else start; `require`: continue or fail; `never`: start over, discarding the old files.
   */
  resume?: 'auto' | 'require' | 'never';
  /**
   * Least milliseconds between periodic checkpoints (default 60 000, and never more often than ten
   * times the time one takes to write; 0: after every iteration). One is also written on interruption.
   */
  checkpointEveryMs?: number;
  /** The folder's lock when the caller took it already (a sweep does, before its status.json). */
  lock?: RunLock;
}
