/**
 * 3×3 linear algebra on the host in float64, for colour transforms: the matrices are tiny, so there is
 * nothing to gain from tensors and much to lose in float32 (a covariance's square root inverted in
 * float32 keeps about four digits).
 *
 * Matrices are row-major arrays of nine numbers.
 */
import { NstError } from '../errors';

export type Matrix3 = readonly number[];

export const IDENTITY3: Matrix3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

function checkShape(m: Matrix3): void {
  if (m.length !== 9) throw new Error(`expected a 3×3 matrix (9 values), got ${m.length}`);
}

export function multiply3(a: Matrix3, b: Matrix3): number[] {
  checkShape(a);
  checkShape(b);
  const out = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) out[i * 3 + j]! += a[i * 3 + k]! * b[k * 3 + j]!;
  return out;
}

export function transpose3(m: Matrix3): number[] {
  checkShape(m);
  return [m[0]!, m[3]!, m[6]!, m[1]!, m[4]!, m[7]!, m[2]!, m[5]!, m[8]!];
}

/** A·v for a 3-vector. */
export function apply3(m: Matrix3, v: readonly number[]): number[] {
  checkShape(m);
  return [0, 1, 2].map((i) => m[i * 3]! * v[0]! + m[i * 3 + 1]! * v[1]! + m[i * 3 + 2]! * v[2]!);
}

/** m + s·I. */
export function addIdentity3(m: Matrix3, s: number): number[] {
  checkShape(m);
  return m.map((x, k) => (k % 4 === 0 ? x + s : x));
}

/** The inverse by the adjugate; a singular matrix is a bug of the caller (add ε·I first). */
export function inverse3(m: Matrix3): number[] {
  checkShape(m);
  const [a, b, c, d, e, f, g, h, i] = m as [number, number, number, number, number, number, number, number, number];
  const co = [e * i - f * h, c * h - b * i, b * f - c * e, f * g - d * i, a * i - c * g, c * d - a * f, d * h - e * g, b * g - a * h, a * e - b * d];
  const det = a * co[0]! + b * co[3]! + c * co[6]!;
  if (det === 0 || !Number.isFinite(det)) throw new Error(`3×3 matrix is singular (determinant ${det})`);
  return co.map((x) => x / det);
}

/**
 * The lower-triangular L with L·Lᵀ = m, for a symmetric positive-definite m. A covariance that is not
 * positive definite (a flat or two-colour image) throws: callers regularise with ε·I first.
 */
export function cholesky3(m: Matrix3): number[] {
  checkShape(m);
  const l = new Array<number>(9).fill(0);
  for (let j = 0; j < 3; j++) {
    let diag = m[j * 4]!;
    for (let k = 0; k < j; k++) diag -= l[j * 3 + k]! ** 2;
    if (!(diag > 0)) {
      throw new NstError('colour covariance is not positive definite', 'the image has (almost) no colour variation: raise the ε added to the covariances');
    }
    l[j * 4] = Math.sqrt(diag);
    for (let i = j + 1; i < 3; i++) {
      let s = m[i * 3 + j]!;
      for (let k = 0; k < j; k++) s -= l[i * 3 + k]! * l[j * 3 + k]!;
      l[i * 3 + j] = s / l[j * 4]!;
    }
  }
  return l;
}

export interface SymmetricEigen3 {
  /** Eigenvalues, in no particular order. */
  readonly values: readonly number[];
  /** Eigenvectors as the columns of a row-major matrix V: m = V·diag(values)·Vᵀ. */
  readonly vectors: Matrix3;
}

/** Sweeps of the cyclic Jacobi method; 3×3 matrices converge to float64 precision in 4–6. */
const JACOBI_MAX_SWEEPS = 50;

/**
 * Eigen-decomposition of a symmetric 3×3 matrix by cyclic Jacobi rotations (Golub & Van Loan, §8.5).
 * analysis/eigen.ts gives eigenvalues only (tred2/tqli without the vectors); Jacobi is the simplest
 * method that returns orthonormal eigenvectors accurately even for repeated eigenvalues (a grey image's
 * covariance has three nearly equal ones).
 */
export function symmetricEigen3(m: Matrix3): SymmetricEigen3 {
  checkShape(m);
  const a = [...m];
  const v = [...IDENTITY3];
  const scale = Math.max(...a.map(Math.abs));
  for (let sweep = 0; sweep < JACOBI_MAX_SWEEPS; sweep++) {
    const off = Math.hypot(a[1]!, a[2]!, a[5]!);
    if (off <= Number.EPSILON * 1e-3 * scale) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]] as const) {
      const apq = a[p * 3 + q]!;
      if (apq === 0) continue;
      // The rotation that zeroes a_pq: tan θ = t, the smaller root of t² + 2τt − 1 = 0.
      const tau = (a[q * 4]! - a[p * 4]!) / (2 * apq);
      const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.hypot(1, tau));
      const c = 1 / Math.hypot(1, t);
      const s = t * c;
      for (let k = 0; k < 3; k++) {
        // A ← A·J (columns p, q), then A ← Jᵀ·A (rows p, q); V ← V·J.
        const akp = a[k * 3 + p]!;
        const akq = a[k * 3 + q]!;
        a[k * 3 + p] = c * akp - s * akq;
        a[k * 3 + q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[p * 3 + k]!;
        const aqk = a[q * 3 + k]!;
        a[p * 3 + k] = c * apk - s * aqk;
        a[q * 3 + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k * 3 + p]!;
        const vkq = v[k * 3 + q]!;
        v[k * 3 + p] = c * vkp - s * vkq;
        v[k * 3 + q] = s * vkp + c * vkq;
      }
    }
  }
  return { values: [a[0]!, a[4]!, a[8]!], vectors: v };
}

/**
 * m^p = V·diag(λ^p)·Vᵀ for a symmetric positive-definite m: the symmetric square root (p = ½) and its
 * inverse (p = −½) that colour matching by eigen-decomposition uses.
 */
export function symmetricPower3(m: Matrix3, p: number): number[] {
  const { values, vectors } = symmetricEigen3(m);
  if (values.some((l) => !(l > 0))) {
    throw new NstError('colour covariance is not positive definite', 'the image has (almost) no colour variation: raise the ε added to the covariances');
  }
  const scaled = vectors.map((x, k) => x * values[k % 3]! ** p);
  return multiply3(scaled, transpose3(vectors));
}
