/**
 * The run loop: one call for the common case. Writes `config.json` (fully resolved, with backend,
 * seed, library version, weights and checksum), `metrics.csv` row by row, snapshots, `summary.json`
 * and, last and atomically, `final.png` — so a killed run never leaves a final image that looks complete.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RunConfig } from '../config';
import { saveImage } from '../image/io';
import { LIBRARY_VERSION } from '../version';
import { ProgressBar } from './progress';
import { createSession, describeSession, DivergedError, type Session } from './session';
import { MetricsCsv, RUN_FILES, snapshotPath, writeJson } from './store';
import type { RunCallbacks, RunOptions, RunResult, StepLogs, StopReason } from './types';

function formatLogs(l: StepLogs, total: number): string {
  const e = (v: number) => v.toExponential(3);
  return `iter ${String(l.iteration).padStart(String(total).length)}/${total}  total ${e(l.total)}  content ${e(l.content)}  style ${e(l.style)}${l.tv ? `  tv ${e(l.tv)}` : ''}  (${l.evaluations} evals)`;
}

async function saveCurrent(session: Session, path: string): Promise<void> {
  const img = session.image();
  try {
    await saveImage(img, path);
  } finally {
    img.dispose();
  }
}

/** Everything a reader of the results needs to reproduce the run. */
function configRecord(session: Session) {
  const { info } = session;
  return {
    ...info.config,
    // As given: `network: auto` and presets such as `style`; the keys above are what ran.
    requested: { network: info.requested.network, contentLayers: info.requested.contentLayers, styleLayers: info.requested.styleLayers },
    networkResolved: {
      name: info.network.name,
      preprocessing: info.network.preprocessing,
      weights: info.network.weights,
      taps: info.network.taps,
    },
    runId: info.runId,
    libraryVersion: LIBRARY_VERSION,
    backend: { name: info.backend.name, device: info.backend.device, requested: info.backend.requested },
    weightsResolved: info.weightsLabel,
    weightsSha256: info.weightsSha256 ?? null,
    weightsNote: info.weightsNote ?? null,
    randomWeights: info.randomWeights,
    tfjsVersion: tf.version.tfjs,
    node: process.version,
    host: hostname(),
    startedAt: new Date().toISOString(),
  };
}

/**
 * Runs style transfer (Gatys et al. 2016) with the given config and returns its history.
 * Aborting `options.signal` stops at the next iteration with a snapshot and `stopReason: 'interrupted'`.
 */
export async function run(config: Partial<RunConfig> | RunConfig, options: RunOptions = {}): Promise<RunResult> {
  const callbacks: RunCallbacks[] = [options.callbacks ?? []].flat();
  const log = options.log === undefined ? (s: string) => console.log(s) : options.log;
  const session = await createSession(config);
  try {
    const { info, config: cfg } = session;
    for (const line of describeSession(session)) log?.(line);
    log?.(`run: ${info.dir}`);
    // A rerun of the same config starts clean: no stale final.png or snapshots from an earlier attempt.
    await rm(join(info.dir, RUN_FILES.final), { force: true });
    await rm(join(info.dir, RUN_FILES.snapshots), { recursive: true, force: true });
    await mkdir(info.dir, { recursive: true });
    const record = configRecord(session);
    await writeJson(join(info.dir, RUN_FILES.config), record);
    const csv = await MetricsCsv.create(info.dir, session.termNames);
    for (const cb of callbacks) await cb.onRunBegin?.(info);

    const showBar = options.progress ?? Boolean(process.stderr.isTTY);
    const bar = showBar ? new ProgressBar(cfg.iterations) : undefined;
    const started = performance.now();
    const history: StepLogs[] = [];
    let stopReason: StopReason = 'completed';
    let lastGood = session.image();
    try {
      while (session.iteration < cfg.iterations) {
        if (options.signal?.aborted) {
          stopReason = 'interrupted';
          break;
        }
        let logs: StepLogs;
        try {
          logs = session.step();
        } catch (e) {
          if (!(e instanceof DivergedError)) throw e;
          session.setImage(lastGood);
          await saveCurrent(session, snapshotPath(info.dir, session.iteration - 1));
          await writeJson(join(info.dir, RUN_FILES.summary), { stopReason: 'diverged', iterations: session.iteration - 1, error: e.message });
          throw e;
        }
        history.push(logs);
        csv.append(logs);
        lastGood.dispose();
        lastGood = session.image();
        bar?.update(logs.iteration, `loss ${logs.total.toExponential(3)}`, started);
        if (cfg.printEvery > 0 && logs.iteration % cfg.printEvery === 0 && !bar) log?.(formatLogs(logs, cfg.iterations));
        for (const cb of callbacks) await cb.onStepEnd?.(logs, info);
        if (cfg.saveEvery > 0 && logs.iteration % cfg.saveEvery === 0) {
          const path = snapshotPath(info.dir, logs.iteration);
          await saveCurrent(session, path);
          for (const cb of callbacks) await cb.onSnapshot?.(logs.iteration, path, info);
        }
        const prev = history[history.length - 2];
        if (session.converged || (cfg.tolerance > 0 && prev && Math.abs(prev.total - logs.total) <= cfg.tolerance * Math.abs(prev.total))) {
          stopReason = 'tolerance';
          break;
        }
      }
    } finally {
      lastGood.dispose();
      bar?.end();
    }

    const final = session.score().logs;
    const finalImage = stopReason === 'interrupted' ? snapshotPath(info.dir, session.iteration) : join(info.dir, RUN_FILES.final);
    const summary = {
      stopReason,
      iterations: session.iteration,
      evaluations: session.evaluations,
      wallMs: performance.now() - started,
      final,
      backend: info.backend.name,
      randomWeights: info.randomWeights,
    };
    await writeJson(join(info.dir, RUN_FILES.summary), summary);
    // final.png is written last: its presence means the run finished.
    await saveCurrent(session, finalImage);
    if (stopReason === 'interrupted') {
      for (const cb of callbacks) await cb.onSnapshot?.(session.iteration, finalImage, info);
    }
    log?.(`${stopReason} after ${session.iteration} iterations: total ${final.total.toExponential(4)} → ${finalImage}`);
    const result: RunResult = { ...info, history, stopReason, finalImage, final };
    for (const cb of callbacks) await cb.onRunEnd?.(result);
    return result;
  } finally {
    session.dispose();
  }
}
