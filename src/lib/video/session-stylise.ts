/**
 * `stylise` for runClip over the workbench's session: each frame is one session of the clip's run
 * config, with the frame as its content, started from the runner's init, and the temporal loss of
 * Ruder, Dosovitskiy & Brox (2016, eq. 4–5) added with weight γ. The network and the style targets are
 * made once per clip; every iteration of every frame becomes a row of the clip's metrics.csv.
 */
import type * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../config';
import { bindNetwork } from '../net/bind-network';
import type { FeatureNetwork } from '../net/network';
import type { GatysTargets } from '../objectives/gatys';
import { computeStyleTargets, createSession } from '../run/session';
import type { StepLogs } from '../run/types';
import type { Stylise } from './clip';
import { ClipMetricsCsv } from './clip-metrics';

/** The name of the temporal term, as temporalLoss names it by default and metrics.csv logs it. */
export const TEMPORAL_TERM = 'temporal';

export interface SessionStyliseOptions {
  /** The run config of every frame; its `content` is replaced by each frame's file. */
  config: RunConfig;
  /** Opened once for the clip; borrowed. */
  net: FeatureNetwork;
  /** γ, the weight of the temporal term. */
  temporalWeight: number;
  /** The clip's metrics.csv (rows appended; created with its header on the first frame). */
  metricsPath: string;
  /** After every iteration, e.g. for a progress line. */
  onStep?: (frame: number, logs: StepLogs) => void;
  /** Aborting stops the frame at its next iteration with a ClipInterrupted (the frame is redone on resume). */
  signal?: AbortSignal;
}

/** A clip stopped by its signal: its finished frames are kept, and rerunning it continues at the next. */
export class ClipInterrupted extends Error {
  constructor(readonly frame: number) {
    super(`the clip was stopped during frame ${frame + 1}`);
  }
}

export interface SessionStylise {
  stylise: Stylise;
  /** Frees the style targets (the network stays the caller's). */
  dispose(): void;
}

/**
 * A `stylise` that runs `config.iterations` iterations of a session per frame (fewer when the config's
 * tolerance or the optimizer's own says it has converged), returning the session's final image. The
 * style targets are computed for the first frame's size and reused by every session of the clip
 * (`SessionOptions.styleTargets`): all frames of a clip have one size.
 */
export function sessionStylise(opts: SessionStyliseOptions): SessionStylise {
  const bound = bindNetwork(opts.config, opts.net).config;
  let styleTargets: GatysTargets | undefined;
  let csv: ClipMetricsCsv | undefined;

  const stylise: Stylise = async ({ index, frame, content, init, temporal }) => {
    styleTargets ??= await computeStyleTargets(bound, opts.net, [content.shape[1], content.shape[2]]);
    const terms = temporal ? [{ objective: temporal, weight: opts.temporalWeight }] : [];
    const session = await createSession({ ...opts.config, content: frame }, { net: opts.net, initImage: init ?? undefined, terms, styleTargets });
    try {
      // One column set for the whole clip: the first frame has no temporal term, later ones do.
      csv ??= await ClipMetricsCsv.open(opts.metricsPath, [...session.termNames.filter((n) => n !== TEMPORAL_TERM), TEMPORAL_TERM]);
      const { iterations, tolerance } = session.config;
      let previous: StepLogs | undefined;
      while (session.iteration < iterations) {
        if (opts.signal?.aborted) throw new ClipInterrupted(index);
        const logs = session.step();
        csv.append(index, logs);
        opts.onStep?.(index, logs);
        if (session.converged || (tolerance > 0 && previous && Math.abs(previous.total - logs.total) <= tolerance * Math.abs(previous.total))) break;
        previous = logs;
      }
      // The frame's final iterate gets its row too, as a run's does.
      const final = session.score().logs;
      csv.append(index, final);
      opts.onStep?.(index, final);
      return session.image() as tf.Tensor4D;
    } finally {
      session.dispose();
    }
  };

  return {
    stylise,
    dispose() {
      styleTargets?.dispose();
      styleTargets = undefined;
    },
  };
}
