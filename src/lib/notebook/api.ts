/**
 * What the notebooks import, from one module, so that a notebook's import cell is one line: the
 * parameters cell, setup, experiments from experiments/*.yaml, single runs with a live curve, figure
 * builders and labels. Specialised helpers (networks, statistics, video) are imported from their own.
 */
export { lossCurves, termCurves } from '../figures/charts';
export { RECOMMENDED_STYLE_WEIGHT } from '../net/presets';
export { run } from '../run/run';
export { RATIO_LABELS, ratioLabel } from '../sweep/figures';
export { liveLossCurve } from './display';
export { runExperiment } from './experiment';
export { inputsAndResult } from './figures';
export { configOf, notebookParams } from './params';
export { setupNotebook } from './setup';
