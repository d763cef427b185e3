// Plain TypeScript reference for the matmul family: a linear layer and its backward (f64).

type Arr = ArrayLike<number>;

/** c[M,N] = a[M,K] · b[N,K]ᵀ + bias[N] */
export function linearRef(a: Arr, b: Arr, M: number, N: number, K: number, bias?: Arr): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[m * K + k] * b[n * K + k];
      c[m * N + n] = s + (bias ? bias[n] : 0);
    }
  }
  return c;
}

/** For y = linearRef(x, w) and dy = dL/dy [M, N]: dx [M, K] = dy·w, dw [N, K] = dyᵀ·x, dbias [N] = Σ_m dy. */
export function linearBackwardRef(x: Arr, w: Arr, dy: Arr, M: number, N: number, K: number): { dx: Float64Array; dw: Float64Array; dbias: Float64Array } {
  const dx = new Float64Array(M * K);
  const dw = new Float64Array(N * K);
  const dbias = new Float64Array(N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const g = dy[m * N + n];
      dbias[n] += g;
      for (let k = 0; k < K; k++) {
        dx[m * K + k] += g * w[n * K + k];
        dw[n * K + k] += g * x[m * K + k];
      }
    }
  }
  return { dx, dw, dbias };
}
