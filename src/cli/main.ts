/** `nst`: dispatches to one module per subcommand, loaded only when used. */
import { describeError } from '../lib/errors';
import type { Command } from './command';

const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  run: () => import('./commands/run'),
  score: () => import('./commands/score'),
  models: () => import('./commands/models'),
  bench: () => import('./commands/bench'),
  video: () => import('./commands/video'),
  sweep: () => import('./commands/sweep'),
  report: () => import('./commands/report'),
  presets: () => import('./commands/presets'),
  kernel: () => import('./commands/kernel'),
};

async function help(): Promise<string> {
  const lines = ['usage: nst <command> [options]   (nst <command> --help for its options)', '', 'commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const { command } = await load();
    lines.push(`  ${name.padEnd(8)} ${command.summary}`);
  }
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  // `nst … | head` closes stdout early: that is the reader's choice, not an error worth a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const [name, ...rest] = argv;
  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      console.log(await help());
      return name ? 0 : 1;
    }
    const load = COMMANDS[name];
    if (!load) {
      console.error(`nst: unknown command '${name}'\n\n${await help()}`);
      return 2;
    }
    const { command } = await load();
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(command.usage);
      return 0;
    }
    return await command.run(rest);
  } catch (err) {
    console.error(describeError(err));
    return err instanceof Error && err.name === 'NstError' ? 2 : 1;
  }
}
