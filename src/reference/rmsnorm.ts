// Plain TypeScript reference for RMSNorm and its backward (f64).

type Arr = ArrayLike<number>;

/** y = x / sqrt(mean(x²) + eps) · w per row of w.length, and 1/rms per row (what the backward reads) */
export function rmsnormRef(x: Arr, w: Arr, eps: number): { y: Float64Array; rstd: Float64Array } {
  const dim = w.length;
  const rows = x.length / dim;
  const y = new Float64Array(x.length);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = 0; i < dim; i++) s += x[r * dim + i] ** 2;
    rstd[r] = 1 / Math.sqrt(s / dim + eps);
    for (let i = 0; i < dim; i++) y[r * dim + i] = x[r * dim + i] * rstd[r] * w[i];
  }
  return { y, rstd };
}

/** dx = r·w⊙dy − r³/dim · x · Σ w⊙dy⊙x per row; dw = Σ_rows dy⊙x·r. */
export function rmsnormBackwardRef(x: Arr, w: Arr, rstd: Arr, dy: Arr): { dx: Float64Array; dw: Float64Array } {
  const dim = w.length;
  const rows = x.length / dim;
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const inv = rstd[r];
    let s = 0;
    for (let i = 0; i < dim; i++) s += w[i] * dy[r * dim + i] * x[r * dim + i];
    for (let i = 0; i < dim; i++) {
      const k = r * dim + i;
      dx[k] = inv * w[i] * dy[k] - (inv ** 3 / dim) * x[k] * s;
      dw[i] += dy[k] * x[k] * inv;
    }
  }
  return { dx, dw };
}
