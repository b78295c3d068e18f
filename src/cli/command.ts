/** The shape every `nst` subcommand module exports. */
export interface Command {
  /** One line for `nst --help`. */
  summary: string;
  /** Full usage text for `nst <command> --help`. */
  usage: string;
  /** Runs the command; returns the process exit code. Throw NstError for user mistakes. */
  run(argv: string[]): Promise<number>;
}
