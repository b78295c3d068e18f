/** `nst bench`: milliseconds per iteration of the paper's objective, by phase, and peak memory. */
import { availableParallelism } from 'node:os';
import { runBench, BENCH_CONFIG_KEYS, BENCH_DEFAULTS, type BenchOptions, type BenchResult } from '../../lib/bench/bench';
import { compare } from '../../lib/bench/compare';
import { formatBench, formatComparison } from '../../lib/bench/format';
import { loadNow, QUIET_LOAD } from '../../lib/bench/machine';
import { defaultReferenceScript, runReference } from '../../lib/bench/reference';
import { resolveConfig } from '../../lib/config';
import { NstError } from '../../lib/errors';
import type { Command } from '../command';
import { describeOptions, parseOptions, type ExtraOption } from '../options';

const EXTRA: Record<string, ExtraOption> = {
  size: { type: 'string', help: `image side in pixels (default ${BENCH_DEFAULTS.size})` },
  warmup: { type: 'string', help: `untimed iterations first (default ${BENCH_DEFAULTS.warmup})` },
  kernels: { type: 'boolean', help: 'then as many iterations again with every kernel timed: time per kernel, and the convolutions\' own GFLOP/s' },
  json: { type: 'boolean', help: 'print one JSON object (backend, size, ms_per_iter_median, phases, peak_rss_mb, …)' },
  reference: { type: 'boolean', help: 'alternate with the PyTorch reference\'s bench at the same size and print the median ratio' },
  pairs: { type: 'string', help: 'with --reference: alternating (workbench, reference) pairs (default 3)' },
  maxLoad: { type: 'string', help: `with --reference: the quiet threshold of the 1-minute load average (default ${QUIET_LOAD})` },
  force: { type: 'boolean', help: 'with --reference: print the ratio even on a loaded machine, marked LOADED' },
  referenceScript: { type: 'string', help: `gatys_torch.py (default ${defaultReferenceScript()})` },
};

const usage = [
  'usage: nst bench [--size N] [--network NAME] [--iterations K] [--backend B] [--optimizer adam|lbfgs|sgd] [--history-size H] [--kernels] [--json] [--reference]',
  '',
  'Times the Gatys et al. (2016) objective — content conv4_2, style conv1_1…conv5_1, β/α 1e3, average pooling —',
  'on VGG-19 with random weights (or --network NAME at its own style and content presets) at N×N pixels:',
  'K iterations after a warm-up, with the phases (forward, backward,',
  'optimizer step) and peak resident memory. The default optimizer (adam) evaluates once per iteration, like the',
  'reference\'s step; `--optimizer lbfgs --history-size 100 --size 512` measures a paper-sized run\'s memory.',
  `Defaults: ${BENCH_CONFIG_KEYS.map((k) => `--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} ${BENCH_DEFAULTS[k]}`).join(', ')}.`,
  'NST_WASM_THREADS=1 runs the wasm backend (and native\'s oneDNN) single-threaded;',
  'NST_NATIVE_CONV=direct|winograd fixes the native backend\'s convolution algorithm (default auto: Winograd on 3×3 stride-1 layers with ≥ 64 channels in and out on maps of ≥ 32×32, direct elsewhere).',
  '',
  describeOptions(EXTRA),
].join('\n');

function intOption(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new NstError(`--${name}: expected an integer, got '${String(value)}'`);
  return n;
}

export const command: Command = {
  summary: 'ms per iteration of the paper\'s objective by phase, peak memory, optionally against the PyTorch reference',
  usage,
  async run(argv) {
    const { config, extra, positionals } = parseOptions(argv, EXTRA, BENCH_CONFIG_KEYS);
    if (positionals.length > 0) throw new NstError(`unexpected argument '${positionals[0]}'`, 'see nst bench --help');
    // Bad option values fail here, before the network is built.
    const cfg = resolveConfig({ ...BENCH_DEFAULTS, ...config, size: undefined, warmup: undefined, content: 'random', style: ['random'] });
    const options: BenchOptions = {
      ...Object.fromEntries(BENCH_CONFIG_KEYS.map((k) => [k, cfg[k]])),
      size: intOption('size', extra.size),
      warmup: intOption('warmup', extra.warmup),
      kernels: Boolean(extra.kernels),
    };
    if (!extra.reference) {
      const result = await runBench(options);
      if (extra.json) console.log(JSON.stringify(result, null, 2));
      else for (const line of formatBench(result)) console.log(line);
      return 0;
    }
    const pairs = intOption('pairs', extra.pairs) ?? 3;
    if (pairs < 1) throw new NstError(`--pairs: expected at least 1, got ${pairs}`);
    const threshold = extra.maxLoad === undefined ? QUIET_LOAD : Number(extra.maxLoad);
    if (!(threshold >= 0)) throw new NstError(`--max-load: expected a non-negative number, got '${String(extra.maxLoad)}'`);
    // Taken before anything runs: the benchmark's own runs raise the load average afterwards.
    const loadAtStart = loadNow();
    let last: BenchResult | undefined;
    const outcome = await compare(
      async () => (last = await runBench(options)),
      () =>
        runReference({
          script: typeof extra.referenceScript === 'string' ? extra.referenceScript : undefined,
          size: last!.size,
          iterations: last!.iterations,
          threads: availableParallelism(),
          pooling: last!.pooling,
        }),
      { pairs, loadAtStart, threshold, force: Boolean(extra.force) },
    );
    if ('error' in outcome) {
      if (extra.json) console.log(JSON.stringify({ ...last, reference_error: outcome.error }, null, 2));
      else for (const line of [...formatBench(last!), `reference: ${outcome.error}`]) console.log(line);
      return 0;
    }
    if (extra.json) {
      console.log(JSON.stringify({ ...last, reference: outcome.referenceRuns.at(-1), comparison: { pairs: outcome.pairs, ratio: outcome.ratio, loadAtStart, threshold, loaded: outcome.loaded } }, null, 2));
    } else {
      for (const line of [...formatBench(last!), ...formatComparison(outcome)]) console.log(line);
    }
    return 0;
  },
};
