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
  /**
   * Each direct part's weighted contribution, by the part's name (e.g. `content`, `style`, `tv`), and
   * that of every sum nested deeper (`style/sky` inside `style`), weighted into this total.
   */
  groups: Record<string, tf.Scalar>;
  /** Every leaf, unweighted, by leaf name; nested sums contribute their leaves. */
  terms: Record<string, tf.Scalar>;
}

export interface WeightedSum extends Objective {
  readonly parts: readonly WeightedPart[];
  /** Leaf names in evaluation order. */
  readonly termNames: readonly string[];
  /** The names TermValues.groups holds, in tree order (pre-order): the direct parts and the sums below them. */
  readonly groupNames: readonly string[];
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

/** The sums strictly below `o`, in pre-order (none for a leaf). */
function nestedSums(o: Objective): string[] {
  return isWeightedSum(o) ? o.parts.flatMap((p) => (isWeightedSum(p.objective) ? [p.objective.name, ...nestedSums(p.objective)] : [])) : [];
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
  const frozen = parts.map((p) => ({ ...p, nested: nestedSums(p.objective) }));

  function evaluateTerms(taps: Taps, image: tf.Tensor4D): TermValues {
    const groups: Record<string, tf.Scalar> = {};
    const terms: Record<string, tf.Scalar> = {};
    let total: tf.Scalar = tf.scalar(0);
    // Two parts may share a name (e.g. two scaled copies): their contributions add up.
    const add = (n: string, v: tf.Scalar) => (groups[n] = groups[n] ? tf.add(groups[n]!, v) : v);
    for (const { objective, weight, nested } of frozen) {
      let value: tf.Scalar;
      if (isWeightedSum(objective)) {
        const inner = objective.evaluateTerms(taps, image);
        Object.assign(terms, inner.terms);
        value = inner.total;
        for (const n of nested) add(n, tf.mul(inner.groups[n]!, weight) as tf.Scalar);
      } else {
        value = objective.evaluate(taps, image);
        terms[objective.name] = value;
      }
      const weighted = tf.mul(value, weight) as tf.Scalar;
      add(objective.name, weighted);
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
    parts: frozen.map(({ objective, weight }) => ({ objective, weight })),
    termNames,
    groupNames: [...new Set(frozen.flatMap((p) => [p.objective.name, ...p.nested]))],
    evaluateTerms,
    evaluate: (taps, image) => evaluateTerms(taps, image).total,
  };
}

/** factor·objective, keeping the objective's leaves. */
export function scale(objective: Objective, factor: number, name = objective.name): WeightedSum {
  return weightedSum([{ objective, weight: factor }], name);
}
