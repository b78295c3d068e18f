/**
 * The run loop: one call for the common case. Writes `config.json` (fully resolved, with backend,
 * seed, library version, weights and checksum), `metrics.csv` row by row, snapshots, `summary.json`
 * and, last and atomically, `final.png` — so a killed run never leaves a final image that looks complete.
 *
 * One process writes a run folder at a time (`lock.json`). A run checkpoints itself (`checkpoint.bin`)
 * now and then and when interrupted; running the same config again continues from there, metrics.csv
 * included, and ends with the image an uninterrupted run would have made. Everything that can be
 * refused — the output folder, the image sizes, the memory — is refused before anything is computed.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../backend';
import { changesResult } from '../colour/control';
import { resolveConfig, stageOf, stagesOf, type RunConfig } from '../config';
import { NstError } from '../errors';
import { saveImage } from '../image/io';
import { LIBRARY_VERSION } from '../version';
import { readCheckpoint, writeCheckpoint, type CheckpointRecord } from './checkpoint';
import { divergenceCause } from './divergence';
import { withFsErrors } from './fs-errors';
import { checkRunLimits, outputSize, type SizedNetwork } from './limits';
import { staticVggArch } from '../net/taps-config';
import { vggGeometry } from '../net/vgg';
import { RunLock } from './lock';
import { checkFreeSpace, prepareRunFolder, runOutputBytes } from './output-folder';
import { ProgressBar } from './progress';
import { bindNetwork } from '../net/bind-network';
import type { FeatureNetwork } from '../net/network';
import { createSession, describeSession, DivergedError, openNetwork, type Session } from './session';
import { BOUND_KEYS, MetricsCsv, parseMetricsCsv, RUN_FILES, runDir, runIdFor, snapshotPath, storedConfigDifference, writeJson } from './store';
import { logGroups, type RunCallbacks, type RunOptions, type RunResult, type StepLogs, type StopReason } from './types';

/**
 * The progress line: the total and every group of the objective tree (`content`, `style`, a region's
 * `style/sky`, …), leaving out the groups that are 0 besides content and style (an unweighted TV).
 */
function formatLogs(l: StepLogs, total: number): string {
  const e = (v: number) => v.toExponential(3);
  const groups = Object.entries(logGroups(l)).filter(([name, v]) => v !== 0 || name === 'content' || name === 'style');
  const stage = l.stage === undefined ? '' : `stage ${l.stage + 1}  `;
  return `${stage}iter ${String(l.iteration).padStart(String(total).length)}/${total}  total ${e(l.total)}${groups.map(([name, v]) => `  ${name} ${e(v)}`).join('')}  (${l.evaluations} evals)`;
}

async function saveCurrent(session: Session, path: string): Promise<void> {
  const img = session.image();
  try {
    await withFsErrors('cannot write an image', path, () => saveImage(img, path));
  } finally {
    img.dispose();
  }
}

function write(path: string, value: unknown): Promise<void> {
  return withFsErrors('cannot write', path, () => writeJson(path, value));
}

/** Everything a reader of the results needs to reproduce the run. */
function configRecord(session: Session, resumedFrom: number | null) {
  const { info } = session;
  return {
    ...info.config,
    // As given: `network: auto` and presets such as `style`; the keys above are what ran.
    requested: Object.fromEntries(BOUND_KEYS.map((k) => [k, info.requested[k]])),
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
    resumedFrom,
  };
}

/** Image-sized vectors in a checkpoint: the image and the optimizer's state. */
function checkpointVectors(cfg: RunConfig): number {
  return 1 + (cfg.optimizer === 'lbfgs' ? 2 * cfg.historySize + 3 : 2);
}

/**
 * The checks that refuse a run before the network loads; returns the checkpoint to continue from.
 * `geometry` is the network's when it is known without loading it (VGG): then the sizes and the memory
 * are checked here too, before the disk space they imply.
 */
async function preflight(cfg: RunConfig, dir: string, resume: NonNullable<RunOptions['resume']>, geometry: SizedNetwork | null): Promise<CheckpointRecord | undefined> {
  const difference = storedConfigDifference(dir, cfg);
  if (difference && resume !== 'never') {
    throw new NstError(`${dir} holds the results of another config (${difference})`, 'rerun with --restart to replace them, or give another --out or --experiment');
  }
  const backend = await initBackend(cfg.backend);
  const [h, w] = geometry ? await checkRunLimits(cfg, { net: geometry, backend }) : await outputSize(cfg);
  // Presets name several layers: the columns are counted generously (a metrics.csv row is small); regions add a group and a term per style layer each.
  const columns = 8 + 8 * (cfg.contentLayers.length + cfg.styleLayers.length * Math.max(1, cfg.regions.length)) + 1 + cfg.regions.length;
  // Every stage of a coarse-to-fine run logs rows and snapshots; the last is the largest.
  const iterations = stagesOf(cfg).reduce((sum, s) => sum + s.iterations, 0);
  const images = 2 + (cfg.saveEvery > 0 ? Math.floor(iterations / cfg.saveEvery) : 1);
  checkFreeSpace(dir, runOutputBytes({ pixels: h * w, checkpointVectors: checkpointVectors(cfg), images, iterations, columns }));
  if (resume === 'never') return undefined;
  const saved = await withFsErrors('cannot read the checkpoint', dir, () => readCheckpoint(join(dir, RUN_FILES.checkpoint)));
  if (!saved) {
    if (resume === 'require') throw new NstError(`--resume: ${dir} has no checkpoint to continue from`, 'the run finished, or was stopped before its first checkpoint: run it without --resume');
    return undefined;
  }
  if (saved.runId !== runIdFor(cfg)) throw new NstError(`the checkpoint in ${dir} is of run ${saved.runId}, not ${runIdFor(cfg)}`, 'rerun with --restart');
  if (saved.backend !== backend.name) {
    throw new NstError(
      `the checkpoint in ${dir} was computed on the ${saved.backend} backend, this process runs ${backend.name}`,
      `rerun with --backend ${saved.backend} to continue it exactly, or --restart to start over on ${backend.name}`,
    );
  }
  const stages = stagesOf(cfg);
  const stage = saved.stage ?? 0;
  if (stage >= stages.length || (saved.stage === undefined) !== (cfg.schedule.length === 0)) {
    throw new NstError(`the checkpoint in ${dir} is of stage ${stage + 1}, the run has ${stages.length} stage(s)`, 'rerun with --restart');
  }
  if (saved.checkpoint.iteration > stages[stage]!.iterations) {
    throw new NstError(`the checkpoint in ${dir} is at iteration ${saved.checkpoint.iteration}, past --iterations ${stages[stage]!.iterations}`, 'rerun with --restart');
  }
  return saved;
}

/**
 * Runs style transfer (Gatys et al. 2016) with the given config and returns its history.
 * Aborting `options.signal` stops at the next iteration with a snapshot, a checkpoint and
 * `stopReason: 'interrupted'`; calling run() again with the same config continues from there.
 */
export async function run(config: Partial<RunConfig> | RunConfig, options: RunOptions = {}): Promise<RunResult> {
  const cfg = resolveConfig(config);
  const dir = runDir(cfg);
  prepareRunFolder(dir);
  const lock = options.lock ?? RunLock.acquire(dir, { what: 'nst run' });
  try {
    const arch = staticVggArch(cfg);
    const saved = await preflight(cfg, dir, options.resume ?? 'auto', arch ? vggGeometry(arch) : null);
    const net = await openNetwork(cfg);
    try {
      // Other networks' taps are known once loaded: their sizes and memory are checked then, before any compute.
      if (!arch) await checkRunLimits(bindNetwork(cfg, net).config, { net, backend: await initBackend(cfg.backend) });
      return await runLocked(cfg, net, dir, lock, saved, options);
    } finally {
      net.dispose();
    }
  } finally {
    if (!options.lock) await lock.release();
  }
}

/** What a run carries from stage to stage: its files, history and callbacks. */
interface RunState {
  cfg: RunConfig;
  dir: string;
  lock: RunLock;
  options: RunOptions;
  callbacks: RunCallbacks[];
  log: ((line: string) => void) | null;
  checkpointPath: string;
  csv: MetricsCsv;
  history: StepLogs[];
  resumedFrom: number | null;
  /** Milliseconds of earlier attempts (from the checkpoint). */
  earlierMs: number;
  started: number;
}

/** How one stage's loop ended, and the objective at its final iterate (whose row it logged). */
interface StageEnd {
  stopReason: StopReason;
  final: StepLogs;
}

/** Iterations of the stages before `stage`: a run's snapshots are one series across its stages. */
function iterationsBefore(cfg: RunConfig, stage: number): number {
  return stagesOf(cfg).slice(0, stage).reduce((sum, s) => sum + s.iterations, 0);
}

/**
 * The run's header lines, a clean folder (or the interrupted attempt's metrics.csv cut back to its
 * checkpoint), config.json and onRunBegin: once per run, with the first stage's session.
 */
async function beginRun(session: Session, cfg: RunConfig, dir: string, saved: CheckpointRecord | undefined, options: RunOptions): Promise<Omit<RunState, 'lock'>> {
  const callbacks: RunCallbacks[] = [options.callbacks ?? []].flat();
  const log = options.log === undefined ? (s: string) => console.log(s) : options.log;
  const { info } = session;
  for (const line of describeSession(session)) log?.(line);
  log?.(`run: ${info.dir}`);
  const checkpointPath = join(dir, RUN_FILES.checkpoint);
  const resumedFrom = saved ? saved.checkpoint.iteration : null;
  const columns = { groups: session.groupNames, terms: session.termNames, staged: cfg.schedule.length > 0 };
  let history: StepLogs[] = [];
  let csv: MetricsCsv;
  // summary.json always describes the latest attempt: none while it runs.
  await withFsErrors('cannot clear the previous attempt', dir, async () => {
    await rm(join(dir, RUN_FILES.final), { force: true });
    await rm(join(dir, RUN_FILES.finalRaw), { force: true });
    await rm(join(dir, RUN_FILES.summary), { force: true });
    if (!saved) {
      await rm(join(dir, RUN_FILES.snapshots), { recursive: true, force: true });
      await rm(checkpointPath, { force: true });
    }
  });
  if (saved) {
    csv = await withFsErrors('cannot continue metrics.csv', dir, () => MetricsCsv.resume(dir, columns, { iteration: saved.checkpoint.iteration, stage: saved.stage }));
    history = parseMetricsCsv(readFileSync(csv.path, 'utf8'));
    const where = saved.stage === undefined ? '' : ` of stage ${saved.stage + 1}/${cfg.schedule.length}`;
    log?.(`resuming from the checkpoint at iteration ${resumedFrom}${where} (rerun with --restart to start over)`);
  } else {
    csv = await withFsErrors('cannot create metrics.csv', dir, () => MetricsCsv.create(dir, columns));
  }
  await write(join(dir, RUN_FILES.config), configRecord(session, resumedFrom));
  for (const cb of callbacks) await cb.onRunBegin?.(info);
  return { cfg, dir, options, callbacks, log, checkpointPath, csv, history, resumedFrom, earlierMs: saved?.checkpoint.elapsedMs ?? 0, started: performance.now() };
}

async function runLocked(cfg: RunConfig, net: FeatureNetwork, dir: string, lock: RunLock, saved: CheckpointRecord | undefined, options: RunOptions): Promise<RunResult> {
  const stages = stagesOf(cfg);
  const staged = cfg.schedule.length > 0;
  const firstStage = saved?.stage ?? 0;
  let state: RunState | undefined;
  // Coarse-to-fine: each stage starts from the previous stage's image, upsampled by the session.
  let carried: tf.Tensor4D | undefined;
  try {
    for (let stage = firstStage; stage < stages.length; stage++) {
      const session = await createSession(cfg, { net, ...(staged ? { stage, initImage: carried } : {}) });
      carried?.dispose();
      carried = undefined;
      try {
        state ??= { ...(await beginRun(session, cfg, dir, saved, options)), lock };
        if (saved && stage === firstStage) session.restore(saved.checkpoint);
        if (staged) state.log?.(`stage ${stage + 1}/${stages.length}: ${stages[stage]!.imageSize} px, ${stages[stage]!.iterations} iterations`);
        const end = await runStage(state, session, staged ? stage : undefined);
        if (end.stopReason === 'interrupted' || stage === stages.length - 1) return await endRun(state, session, end, staged ? stage : undefined);
        carried = session.image();
      } finally {
        session.dispose();
      }
    }
  } finally {
    carried?.dispose();
  }
  throw new Error(`a run of ${stages.length} stage(s) ended without its last`);
}

/** The checkpoint of a session (of `stage`), with what it belongs to. */
async function writeRunCheckpoint(state: RunState, session: Session, stage: number | undefined): Promise<void> {
  const { info } = session;
  const record: CheckpointRecord = { runId: info.runId, backend: info.backend.name, ...(stage === undefined ? {} : { stage }), checkpoint: session.checkpoint() };
  await withFsErrors('cannot write the checkpoint', state.checkpointPath, () => writeCheckpoint(state.checkpointPath, record));
}

/** One stage's optimisation loop (the whole run's, without a schedule): rows, snapshots, checkpoints, stop tests. */
async function runStage(state: RunState, session: Session, stage: number | undefined): Promise<StageEnd> {
  const { cfg, options, callbacks, log, csv, history, lock, dir } = state;
  const { info } = session;
  const iterations = stageOf(cfg, stage ?? 0).iterations;
  const offset = iterationsBefore(cfg, stage ?? 0);
  const tagged = (l: StepLogs): StepLogs => (stage === undefined ? l : { ...l, stage });
  const everyMs = options.checkpointEveryMs ?? 60_000;
  let checkpointedAt = performance.now();
  let checkpointMs = 0;
  let checkpointIteration = session.iteration > 0 ? session.iteration : -1;
  const checkpoint = async () => {
    const t = performance.now();
    await writeRunCheckpoint(state, session, stage);
    checkpointIteration = session.iteration;
    checkpointedAt = performance.now();
    checkpointMs = checkpointedAt - t;
  };
  // A later stage is checkpointed as it starts: a run killed between stages continues from its exact start.
  if (stage !== undefined && stage > 0 && session.iteration === 0) await checkpoint();

  const showBar = options.progress ?? Boolean(process.stderr.isTTY);
  const bar = showBar ? new ProgressBar(iterations) : undefined;
  const started = performance.now();
  const stageHistory = history.filter((l) => l.stage === stage);
  // One row per iterate, 0 (the start) to the final one: history, metrics.csv and every callback.
  const record = async (logs: StepLogs) => {
    history.push(logs);
    stageHistory.push(logs);
    csv.append(logs);
    bar?.update(logs.iteration, `loss ${logs.total.toExponential(3)}`, started);
    if (cfg.printEvery > 0 && logs.iteration % cfg.printEvery === 0 && !bar) log?.(formatLogs(logs, iterations));
    for (const cb of callbacks) await cb.onStepEnd?.(logs, info);
  };
  let stopReason: StopReason = 'completed';
  // The last iterate whose loss was seen finite (the start of the last step that succeeded).
  let lastGood: { image: tf.Tensor4D; iteration: number } | null = null;
  try {
    while (session.iteration < iterations) {
      if (options.signal?.aborted) {
        stopReason = 'interrupted';
        break;
      }
      if (lock.lost) throw new NstError(`another process took over ${dir} (this run's lock was judged stale)`, 'two processes were writing one run folder; rerun it once the other has ended');
      const before = { image: session.image(), iteration: session.iteration };
      let logs: StepLogs;
      try {
        logs = tagged(session.step());
      } catch (e) {
        if (!(e instanceof DivergedError)) {
          before.image.dispose();
          throw e;
        }
        const good = lastGood;
        lastGood = null;
        throw await diverged(session, e, good, before, state.checkpointPath, offset);
      }
      lastGood?.image.dispose();
      lastGood = before;
      await record(logs);
      const done = session.iteration;
      if (cfg.saveEvery > 0 && done % cfg.saveEvery === 0) {
        const path = snapshotPath(info.dir, offset + done);
        await saveCurrent(session, path);
        for (const cb of callbacks) await cb.onSnapshot?.(offset + done, path, info);
      }
      // At most a tenth of the run goes into checkpoints (0: after every iteration).
      if (performance.now() - checkpointedAt >= (everyMs > 0 ? Math.max(everyMs, 10 * checkpointMs) : 0)) await checkpoint();
      const prev = stageHistory[stageHistory.length - 2];
      if (session.converged) {
        stopReason = 'converged';
        break;
      }
      if (cfg.tolerance > 0 && prev && Math.abs(prev.total - logs.total) <= cfg.tolerance * Math.abs(prev.total)) {
        stopReason = 'tolerance';
        break;
      }
      // The steps are synchronous; this turn of the event loop is where a signal gets noticed.
      if (options.signal) await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    lastGood?.image.dispose();
    bar?.end();
  }
  if (stopReason === 'interrupted' && checkpointIteration !== session.iteration) await checkpoint();
  const final = tagged(session.score().logs);
  // The final iterate's row; a resumed run drops it and logs that iterate again as its first step's start.
  await record(final);
  return { stopReason, final };
}

/** summary.json, final.png (and final-raw.png) or the interrupted run's snapshot, onRunEnd. */
async function endRun(state: RunState, session: Session, { stopReason, final }: StageEnd, stage: number | undefined): Promise<RunResult> {
  const { cfg, callbacks, log, history, resumedFrom } = state;
  const { info } = session;
  const offset = iterationsBefore(cfg, stage ?? 0);
  const interrupted = stopReason === 'interrupted';
  const finalImage = interrupted ? snapshotPath(info.dir, offset + session.iteration) : join(info.dir, RUN_FILES.final);
  // An interrupted run's snapshot is the image as it runs, like every snapshot; a finished run's final.png has the colour controls applied.
  const result = interrupted ? session.image() : session.result();
  let colours: { chromaError?: number | null; rawChromaError?: number | null } = {};
  try {
    if (cfg.content) {
      const raw = changesResult(cfg) && !interrupted ? session.image() : null;
      colours = { chromaError: session.chromaError(result), ...(raw ? { rawChromaError: session.chromaError(raw) } : {}) };
      raw?.dispose();
    }
    const summary = {
      stopReason,
      ...(stopReason === 'converged' ? { reason: `${cfg.optimizer}'s own convergence test (its gradient, step or loss change is below tolerance; not --tolerance)` } : {}),
      iterations: offset + session.iteration,
      ...(stage === undefined ? {} : { stage, stages: stagesOf(cfg) }),
      evaluations: session.evaluations,
      wallMs: state.earlierMs + (performance.now() - state.started),
      resumedFrom,
      final,
      ...colours,
      backend: info.backend.name,
      randomWeights: info.randomWeights,
    };
    await write(join(info.dir, RUN_FILES.summary), summary);
    // The result as it ran, beside a final.png that the colour controls changed.
    if (!interrupted && changesResult(cfg)) await saveCurrent(session, join(info.dir, RUN_FILES.finalRaw));
    // final.png is written last: its presence means the run finished. A finished run has nothing to resume.
    await withFsErrors('cannot write an image', finalImage, () => saveImage(result, finalImage));
  } finally {
    result.dispose();
  }
  if (interrupted) {
    for (const cb of callbacks) await cb.onSnapshot?.(offset + session.iteration, finalImage, info);
  } else {
    await withFsErrors('cannot remove the checkpoint', state.checkpointPath, () => rm(state.checkpointPath, { force: true }));
  }
  const how = stopReason === 'converged' ? `converged (${cfg.optimizer} can go no further)` : stopReason;
  log?.(`${how} after ${offset + session.iteration} iterations: total ${final.total.toExponential(4)} → ${finalImage}`);
  if (interrupted) log?.(`to continue: run the same command again (checkpoint at iteration ${session.iteration}${stage === undefined ? '' : ` of stage ${stage + 1}`}; --restart starts over)`);
  const runResult: RunResult = { ...info, history, stopReason, finalImage, final, resumedFrom };
  for (const cb of callbacks) await cb.onRunEnd?.(runResult);
  return runResult;
}


/**
 * After a non-finite loss: keeps the last iterate whose loss was finite as the snapshot, writes the
 * summary, drops the checkpoint (a rerun would diverge the same way) and returns the error to throw,
 * with a hint that fits the cause.
 */
async function diverged(
  session: Session,
  e: DivergedError,
  lastGood: { image: tf.Tensor4D; iteration: number } | null,
  current: { image: tf.Tensor4D; iteration: number },
  checkpointPath: string,
  /** Iterations of earlier coarse-to-fine stages: the snapshot series runs across them. */
  offset: number,
): Promise<NstError> {
  const { info, config: cfg } = session;
  const atInitialImage = session.evaluations === 1;
  const here = session.score().logs;
  const bad = e.logs ?? here;
  // L-BFGS puts x back where the failed step began, which may still be finite; Adam and SGD leave it.
  let kept: number | null = null;
  if (Number.isFinite(here.total)) kept = current.iteration;
  else if (lastGood) {
    session.setImage(lastGood.image);
    kept = lastGood.iteration;
  }
  current.image.dispose();
  lastGood?.image.dispose();
  const snapshot = kept === null ? null : snapshotPath(info.dir, offset + kept);
  if (snapshot) await saveCurrent(session, snapshot);
  const { cause, hint } = divergenceCause(cfg, bad, atInitialImage);
  await write(join(info.dir, RUN_FILES.summary), { stopReason: 'diverged', iterations: kept ?? 0, evaluations: session.evaluations, error: `${e.message}: ${cause}`, hint, lastFinite: snapshot, backend: info.backend.name });
  await rm(checkpointPath, { force: true });
  const where = snapshot ? `the last image with a finite loss (iteration ${kept}) is ${snapshot}` : 'no iterate had a finite loss';
  return new NstError(`${e.message}: ${cause}`, `${hint}; ${where}`);
}
