/** The benchmark's report for a terminal or notebook. */
import type { BenchResult } from './bench';
import type { Comparison } from './compare';

const ms = (v: number) => `${Math.round(v)} ms`;

export function formatBench(r: BenchResult): string[] {
  const lines = [
    `machine: ${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.cpuIsa}; kernels: ${r.machine.kernelIsa}`,
    `backend: ${r.backend} — ${r.device}`,
    `objective: Gatys 2016 on ${r.network} ${r.weights} (taps ${r.taps.join(', ')}${r.network.startsWith('vgg') ? `, ${r.pooling} pooling` : ''}), ${r.size}×${r.size} px`,
    `optimizer: ${r.optimizer}${r.optimizer === 'lbfgs' ? ` (history ${r.historySize})` : ''}; ${r.iterations} timed iterations after ${r.warmup} warm-up`,
    `per iteration: median ${ms(r.ms_per_iter_median)}, min ${ms(r.ms_per_iter_min)} (${r.evaluations_per_iter} evaluation${r.evaluations_per_iter === 1 ? '' : 's'}); ${r.gflop_per_evaluation.toFixed(2)} GFLOP per evaluation (convolutions, forward + input gradient), ${r.gflops.toFixed(1)} GFLOP/s`,
    `phases (median): forward ${ms(r.phases.forward)}, backward ${ms(r.phases.backward)}, optimizer step ${ms(r.phases.optimizer)}`,
    `memory: peak RSS ${Math.round(r.peak_rss_mb)} MB, tensors ${r.tensor_mb.toFixed(1)} MB; tensor count per iteration ${r.tensor_counts.join(' ')}`,
  ];
  if (r.lbfgs_full_history_mb !== undefined) lines.push(`L-BFGS history at full size (${r.historySize} pairs): ${Math.round(r.lbfgs_full_history_mb)} MB`);
  if (r.kernels) {
    const k = r.kernels;
    lines.push(`kernels (${r.iterations} more iterations, each kernel timed): ${ms(k.total_ms)} of ${ms(k.iteration_ms)} per iteration in kernels; convolutions ${ms(k.convolution_ms)}, ${k.convolution_gflops.toFixed(1)} GFLOP/s on the counted FLOPs`);
    for (const t of k.by_kernel.slice(0, 10)) lines.push(`  ${t.kernel.padEnd(24)} ${t.ms.toFixed(1).padStart(7)} ms  ${String(Math.round(t.calls)).padStart(4)} calls`);
  }
  lines.push(`load average: ${r.load.start.toFixed(2)} → ${r.load.end.toFixed(2)} on ${r.load.cores} cores`);
  return lines;
}

export function formatComparison(c: Comparison): string[] {
  const ref = c.referenceRuns[0]!;
  const lines = [
    `reference: ${ref.impl}, ${ref.threads} threads; ${c.pairs.length} alternating pairs (workbench, reference):`,
    ...c.pairs.map((p, i) => `  pair ${i + 1}: ${ms(p.workbench)} vs ${ms(p.reference)} → ${p.ratio.toFixed(2)}×`),
  ];
  if (c.ratio === null) {
    lines.push(`ratio: not printed — the load average was ${c.loadAtStart.toFixed(2)} before the first run, above ${c.threshold} (measure on a quiet machine, or --force to print it marked loaded)`);
  } else {
    lines.push(`ratio (median of pairs, workbench / reference): ${c.ratio.toFixed(2)}×${c.loaded ? ` — LOADED: load average ${c.loadAtStart.toFixed(2)} at start, above ${c.threshold}` : ` (quiet: load ${c.loadAtStart.toFixed(2)} at start)`}`);
  }
  return lines;
}
