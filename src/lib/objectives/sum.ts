/**
 * Weighted sums of objectives that keep their leaves, so every term can be reported each iteration
 * (`content/conv4_2`, `style/conv1_1`, `tv`) next to the weighted groups and the total.
 */
import * as tf from '@tensorflow/tfjs';
import { NstError } from '../errors';
import type { Objective, Taps } from './objective';

export interface WeightedPart {
  objective: Objective;
  weight: number;
}

export interface TermValues {
  /** Σ weight·value over the parts. */
  total: tf.Scalar;
  /** Each direct part's weighted contribution, by the part's name (e.g. `content`, `style`, `tv`). */
  groups: Record<string, tf.Scalar>;
  /** Every leaf, unweighted, by leaf name; nested sums contribute their leaves. */
  terms: Record<string, tf.Scalar>;
}

export interface WeightedSum extends Objective {
  readonly parts: readonly WeightedPart[];
  /** Leaf names in evaluation order. */
  readonly termNames: readonly string[];
  /** The total with its groups and leaves, from one evaluation. Call inside tf.tidy. */
  evaluateTerms(taps: Taps, image: tf.Tensor4D): TermValues;
}

export function isWeightedSum(o: Objective): o is WeightedSum {
  return typeof (o as Partial<WeightedSum>).evaluateTerms === 'function';
}

/** The taps a set of objectives reads, each once, in first-use order. */
export function unionLayers(objectives: readonly Objective[]): string[] {
  return [...new Set(objectives.flatMap((o) => o.layers))];
}

function leafNames(o: Objective): readonly string[] {
  return isWeightedSum(o) ? o.termNames : [o.name];
}

/** Σ w_i·o_i. An empty sum is 0. Leaf names must be unique across the whole tree. */
export function weightedSum(parts: readonly WeightedPart[], name = 'total'): WeightedSum {
  for (const { objective, weight } of parts) {
    if (!Number.isFinite(weight)) {
      throw new NstError(`${name}: the weight of '${objective.name}' is ${weight}`, 'give every part a finite weight');
    }
  }
  const termNames = parts.flatMap((p) => leafNames(p.objective));
  const duplicate = termNames.find((n, i) => termNames.indexOf(n) !== i);
  if (duplicate !== undefined) {
    throw new NstError(`${name}: two terms are named '${duplicate}'`, 'give each leaf objective its own name');
  }
  const frozen = parts.map((p) => ({ ...p }));

  function evaluateTerms(taps: Taps, image: tf.Tensor4D): TermValues {
    const groups: Record<string, tf.Scalar> = {};
    const terms: Record<string, tf.Scalar> = {};
    let total: tf.Scalar = tf.scalar(0);
    for (const { objective, weight } of frozen) {
      let value: tf.Scalar;
      if (isWeightedSum(objective)) {
        const inner = objective.evaluateTerms(taps, image);
        Object.assign(terms, inner.terms);
        value = inner.total;
      } else {
        value = objective.evaluate(taps, image);
        terms[objective.name] = value;
      }
      const weighted = tf.mul(value, weight) as tf.Scalar;
      // Two parts may share a name (e.g. two scaled copies): their contributions add up.
      groups[objective.name] = groups[objective.name] ? tf.add(groups[objective.name]!, weighted) : weighted;
      // A part of weight 0 is still reported, but kept out of the total so that the gradient tape,
      // which walks back only from the total, does not differentiate it (TV at --tv-weight 0: ~4%).
      if (weight !== 0) total = tf.add(total, weighted);
    }
    // With every weight 0 the total must still depend on the image (its gradient is then 0, and an
    // optimizer reports convergence) rather than be a constant tfjs refuses to differentiate.
    if (frozen.length > 0 && frozen.every((p) => p.weight === 0)) total = tf.add(total, groups[frozen[0]!.objective.name]!);
    return { total, groups, terms };
  }

  return {
    name,
    layers: unionLayers(frozen.map((p) => p.objective)),
    parts: frozen,
    termNames,
    evaluateTerms,
    evaluate: (taps, image) => evaluateTerms(taps, image).total,
  };
}

/** factor·objective, keeping the objective's leaves. */
export function scale(objective: Objective, factor: number, name = objective.name): WeightedSum {
  return weightedSum([{ objective, weight: factor }], name);
}
