/**
 * A mistake in the user's input (a file, an option, a config key). The CLI prints `message` and `hint`
 * without a stack trace; anything else that escapes is a bug and keeps its stack.
 */
export class NstError extends Error {
  constructor(
    message: string,
    /** What to do about it: the fix, the allowed values, where to put a file. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'NstError';
  }

  override toString(): string {
    return this.hint ? `${this.message}\n  ${this.hint}` : this.message;
  }
}

/** Formats any thrown value for a terminal or notebook: user errors plainly, bugs with their stack. */
export function describeError(err: unknown): string {
  if (err instanceof NstError) return `error: ${err.toString()}`;
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}
