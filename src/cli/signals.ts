/**
 * SIGTERM (Slurm preemption, scancel, kubectl delete) and Ctrl-C stop a run at its next iteration, with
 * a snapshot, a checkpoint and the summary written; a second signal exits at once. The exit status is
 * the shell's for the signal: 130 for SIGINT, 143 for SIGTERM.
 */

export function exitCodeOf(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}

export function stopOnSignals(controller: AbortController, what: string): { received: () => NodeJS.Signals | undefined; release: () => void } {
  let received: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (received) process.exit(exitCodeOf(signal));
    received = signal;
    console.error(`\n${signal}: stopping at the next iteration (${what})`);
    controller.abort();
  };
  // A child of `nst sweep --jobs` stops when its parent is gone, even if the parent was killed outright.
  const orphaned = () => controller.abort();
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  if (process.connected) {
    process.on('disconnect', orphaned);
    process.channel?.unref();
  }
  return {
    received: () => received,
    release: () => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
      process.off('disconnect', orphaned);
    },
  };
}
