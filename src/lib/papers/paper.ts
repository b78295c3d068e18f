/**
 * Papers as data (pystiche_papers' `hyper_parameters(impl_params)`): each paper's recipe as run-config
 * values, every value with its source — the paper's section, equation or figure, or the reference
 * code's file, line or notebook cell — and, where the authors' code did something else, the code's
 * values beside the paper's. A value no source states is marked "assumed" and says why it was chosen.
 * Layer names are the VGG-19 paper names (`conv4_2` is the ReLU output relu4_2).
 */
import type { RunConfig } from '../config';

export interface Sourced<T> {
  readonly value: T;
  /** Where the value comes from: `§3`, `eq. 4`, `fig. 2`, `cnnmrf.lua L26`, or `assumed: why`. */
  readonly source: string;
}

export type SourcedValues = { readonly [K in keyof RunConfig]?: Sourced<RunConfig[K]> };

export const VARIANTS = ['paper', 'code'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface Paper {
  /** The preset's name: `gatys2016`. */
  readonly id: string;
  readonly title: string;
  /** Authors, venue and year. */
  readonly citation: string;
  /** The authors' reference code, where there is one: repository and file. */
  readonly code?: string;
  /** What the paper says. */
  readonly paper: SourcedValues;
  /** Where the authors' code differs from the paper (`<id>:code`): only those values. */
  readonly codeDiffers?: SourcedValues;
  /** What the preset does not reproduce, and where the taps sit relative to the activations. */
  readonly notes: readonly string[];
}

export function sourced<T>(value: T, source: string): Sourced<T> {
  return { value, source };
}
