/** The benchmark's report for a terminal or notebook. */
import type { BenchResult } from './bench';
import type { ReferenceOutcome } from './reference';

const ms = (v: number) => `${Math.round(v)} ms`;

export function formatBench(r: BenchResult, reference?: ReferenceOutcome): string[] {
  const lines = [
    `backend: ${r.backend} — ${r.device}`,
    `objective: Gatys 2016 on ${r.network} ${r.weights} (taps ${r.taps.join(', ')}${r.network.startsWith('vgg') ? `, ${r.pooling} pooling` : ''}), ${r.size}×${r.size} px`,
    `optimizer: ${r.optimizer}${r.optimizer === 'lbfgs' ? ` (history ${r.historySize})` : ''}; ${r.iterations} timed iterations after ${r.warmup} warm-up`,
    `per iteration: median ${ms(r.ms_per_iter_median)}, min ${ms(r.ms_per_iter_min)} (${r.evaluations_per_iter} evaluation${r.evaluations_per_iter === 1 ? '' : 's'})`,
    `phases (median): forward ${ms(r.phases.forward)}, backward ${ms(r.phases.backward)}, optimizer step ${ms(r.phases.optimizer)}`,
    `memory: peak RSS ${Math.round(r.peak_rss_mb)} MB, tensors ${r.tensor_mb.toFixed(1)} MB; tensor count per iteration ${r.tensor_counts.join(' ')}`,
  ];
  if (r.lbfgs_full_history_mb !== undefined) lines.push(`L-BFGS history at full size (${r.historySize} pairs): ${Math.round(r.lbfgs_full_history_mb)} MB`);
  lines.push(`load average: ${r.load.start.toFixed(2)} → ${r.load.end.toFixed(2)} on ${r.load.cores} cores`);
  if (reference) {
    if (reference.ok) {
      const ref = reference.result;
      lines.push(`reference (${ref.impl}, ${ref.threads} threads): median ${ms(ref.ms_per_iter_median)}, min ${ms(ref.ms_per_iter_min)}`);
      lines.push(`ratio (median, workbench / reference): ${(r.ms_per_iter_median / ref.ms_per_iter_median).toFixed(2)}×`);
    } else {
      lines.push(`reference: ${reference.reason}`);
    }
  }
  return lines;
}
