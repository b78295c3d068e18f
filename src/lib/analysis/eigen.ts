/**
 * Eigenvalues of a real symmetric matrix (a Gram matrix), which tfjs does not provide: Householder
 * reduction to tridiagonal form, then the QL algorithm with implicit shifts (Numerical Recipes,
 * tred2/tqli, eigenvalues only). O(n³) with a small constant: a 512×512 conv5_1 Gram takes well under
 * a second in plain JavaScript, in float64.
 */
import { NstError } from '../errors';


/** Reduces the row-major n×n `a` (overwritten) to tridiagonal form: diagonal d, off-diagonal e[1..n-1]. */
function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  const at = (i: number, j: number) => i * n + j;
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    let h = 0;
    if (l > 0) {
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(a[at(i, k)]!);
      if (scale === 0) {
        e[i] = a[at(i, l)]!;
      } else {
        for (let k = 0; k <= l; k++) {
          a[at(i, k)]! /= scale;
          h += a[at(i, k)]! * a[at(i, k)]!;
        }
        let f = a[at(i, l)]!;
        let g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scale * g;
        h -= f * g;
        a[at(i, l)] = f - g;
        f = 0;
        for (let j = 0; j <= l; j++) {
          g = 0;
          for (let k = 0; k <= j; k++) g += a[at(j, k)]! * a[at(i, k)]!;
          for (let k = j + 1; k <= l; k++) g += a[at(k, j)]! * a[at(i, k)]!;
          e[j] = g / h;
          f += e[j]! * a[at(i, j)]!;
        }
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          f = a[at(i, j)]!;
          g = e[j]! - hh * f;
          e[j] = g;
          for (let k = 0; k <= j; k++) a[at(j, k)]! -= f * e[k]! + g * a[at(i, k)]!;
        }
      }
    } else {
      e[i] = a[at(i, l)]!;
    }
    d[i] = h;
  }
  e[0] = 0;
  for (let i = 0; i < n; i++) d[i] = a[at(i, i)]!;
}

/** Eigenvalues of the tridiagonal (d, e) into d, by QL with implicit shifts. */
function tridiagonalQl(d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    let m: number;
    do {
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= Number.EPSILON * dd) break;
      }
      if (m !== l) {
        if (iterations++ === 60) throw new NstError('eigenvalues did not converge in 60 QL iterations', 'the matrix has NaN or infinite entries, or is far from symmetric');
        let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
        let r = Math.hypot(g, 1);
        g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
        let s = 1;
        let c = 1;
        let p = 0;
        let i: number;
        let underflow = false;
        for (i = m - 1; i >= l; i--) {
          const f = s * e[i]!;
          const b = c * e[i]!;
          r = Math.hypot(f, g);
          e[i + 1] = r;
          if (r === 0) {
            d[i + 1]! -= p;
            e[m] = 0;
            underflow = true;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1]! - p;
          r = (d[i]! - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
        }
        if (underflow) continue;
        d[l]! -= p;
        e[l] = g;
        e[m] = 0;
      }
    } while (m !== l);
  }
}

/**
 * Eigenvalues of the symmetric n×n matrix `a` (row-major; only symmetric input is meaningful),
 * largest first. `a` is not modified.
 */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): Float64Array {
  if (a.length !== n * n) throw new NstError(`expected an ${n}×${n} matrix (${n * n} values), got ${a.length} values`);
  if (n === 0) return new Float64Array(0);
  const work = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(work, n, d, e);
  tridiagonalQl(d, e, n);
  return d.sort().reverse();
}
