/**
 * Farnebäck's polynomial expansion: around every pixel, the weighted least-squares fit
 *   f(x, y) ≈ c + bx·x + by·y + axx·x² + ayy·y² + axy·x·y
 * over a (2n+1)² neighbourhood with separable Gaussian weights (σ = polySigma), border replicated. The fit is the
 * normal equations' exact solution (the 6×6 Gram matrix G inverted once); OpenCV drops G⁻¹'s small x²–y² cross term,
 * this keeps it. Output: interleaved [H,W,5] = (bx, by, axx, ayy, axy) — the constant c is never needed.
 */
import type { Tensor } from '../tensor.js';

export const POLY_COEFFS = 5;

/** Rows 1..5 of G⁻¹ over the projections (Σwf, Σwxf, Σwyf, Σwx²f, Σwy²f, Σwxyf): the fit's non-constant terms. */
function inverseGram(n: number, sigma: number): { g: Float64Array; fit: Float64Array[] } {
  const g = new Float64Array(2 * n + 1);
  let sum = 0;
  for (let k = -n; k <= n; k++) {
    g[k + n] = Math.exp((-k * k) / (2 * sigma * sigma));
    sum += g[k + n];
  }
  for (let k = 0; k < g.length; k++) g[k] /= sum;
  const G = Array.from({ length: 6 }, () => new Float64Array(6));
  for (let y = -n; y <= n; y++) {
    for (let x = -n; x <= n; x++) {
      const w = g[y + n] * g[x + n];
      const basis = [1, x, y, x * x, y * y, x * y];
      for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) G[i][j] += w * basis[i] * basis[j];
    }
  }
  const inv = invert(G);
  return { g, fit: inv.slice(1) };
}

/** Gauss–Jordan inverse with partial pivoting (G is small and well conditioned). */
function invert(m: Float64Array[]): Float64Array[] {
  const n = m.length;
  const a = m.map((row) => Float64Array.from(row));
  const inv = Array.from({ length: n }, (_, i) => {
    const r = new Float64Array(n);
    r[i] = 1;
    return r;
  });
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    [inv[c], inv[p]] = [inv[p], inv[c]];
    const d = a[c][c];
    if (d === 0) throw new Error('polyExpansion: singular Gram matrix');
    for (let j = 0; j < n; j++) {
      a[c][j] /= d;
      inv[c][j] /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c || a[r][c] === 0) continue;
      const f = a[r][c];
      for (let j = 0; j < n; j++) {
        a[r][j] -= f * a[c][j];
        inv[r][j] -= f * inv[c][j];
      }
    }
  }
  return inv;
}

/** The expansion of a [H,W] image: Float32Array [H·W·5] of (bx, by, axx, ayy, axy). */
export function polyExpansion(img: Tensor, n: number, sigma: number): Float32Array {
  const [height, width] = img.dims;
  const { g, fit } = inverseGram(n, sigma);
  const taps = 2 * n + 1;
  const src = img.data;
  // Vertical pass: Σ g f, Σ k g f, Σ k² g f along the column, rows clamped; padded by n replicated columns.
  const padW = width + 2 * n;
  const v0 = new Float64Array(padW);
  const v1 = new Float64Array(padW);
  const v2 = new Float64Array(padW);
  const out = new Float32Array(height * width * POLY_COEFFS);
  const [f1, f2, f3, f4, f5] = fit;
  const xg = g.map((gk, j) => (j - n) * gk);
  const xxg = g.map((gk, j) => (j - n) * (j - n) * gk);
  for (let y = 0; y < height; y++) {
    v0.fill(0);
    v1.fill(0);
    v2.fill(0);
    for (let k = -n; k <= n; k++) {
      const row = Math.min(Math.max(y + k, 0), height - 1) * width;
      const gk = g[k + n];
      const kg = k * gk;
      const kkg = k * kg;
      for (let x = 0; x < width; x++) {
        const f = src[row + x];
        v0[x + n] += gk * f;
        v1[x + n] += kg * f;
        v2[x + n] += kkg * f;
      }
    }
    for (let j = 0; j < n; j++) {
      v0[j] = v0[n]; v1[j] = v1[n]; v2[j] = v2[n];
      v0[width + n + j] = v0[width + n - 1]; v1[width + n + j] = v1[width + n - 1]; v2[width + n + j] = v2[width + n - 1];
    }
    // Horizontal pass: the six projections, then the fit.
    for (let x = 0; x < width; x++) {
      let p1 = 0, px = 0, pxx = 0, py = 0, pxy = 0, pyy = 0;
      for (let j = 0; j < taps; j++) {
        const gk = g[j];
        const a = v0[x + j];
        const b = v1[x + j];
        p1 += gk * a;
        px += xg[j] * a;
        pxx += xxg[j] * a;
        py += gk * b;
        pxy += xg[j] * b;
        pyy += gk * v2[x + j];
      }
      const o = (y * width + x) * POLY_COEFFS;
      out[o] = f1[0] * p1 + f1[1] * px + f1[2] * py + f1[3] * pxx + f1[4] * pyy + f1[5] * pxy;
      out[o + 1] = f2[0] * p1 + f2[1] * px + f2[2] * py + f2[3] * pxx + f2[4] * pyy + f2[5] * pxy;
      out[o + 2] = f3[0] * p1 + f3[1] * px + f3[2] * py + f3[3] * pxx + f3[4] * pyy + f3[5] * pxy;
      out[o + 3] = f4[0] * p1 + f4[1] * px + f4[2] * py + f4[3] * pxx + f4[4] * pyy + f4[5] * pxy;
      out[o + 4] = f5[0] * p1 + f5[1] * px + f5[2] * py + f5[3] * pxx + f5[4] * pyy + f5[5] * pxy;
    }
  }
  return out;
}
