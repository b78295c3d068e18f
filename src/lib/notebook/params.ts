/**
 * A notebook's parameters cell: the full-scale values of the experiment, and the smoke-scale ones
 * that replace them when NST_SMOKE is set — tiny images, few iterations and grid points, the same
 * code path — so the test suite can execute every notebook in minutes.
 */

/** NST_SMOKE=1 (any value but empty or 0) asks for smoke scale. */
export function isSmoke(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.NST_SMOKE;
  return v !== undefined && v !== '' && v !== '0';
}

/** `full`, or `full` with `smoke`'s values over it when NST_SMOKE is set; frozen, with the scale recorded. */
export function notebookParams<T extends object>(full: T, smoke: Partial<T>, env: NodeJS.ProcessEnv = process.env): Readonly<T & { smoke: boolean }> {
  const scaled = isSmoke(env);
  return Object.freeze({ ...full, ...(scaled ? smoke : {}), smoke: scaled });
}
