// Plain TypeScript references for the matmul family (f64 accumulation).

/** c[M,N] = a[M,K] · b[N,K]ᵀ + bias[N] */
export function linearRef(a: Float32Array, b: Float32Array, M: number, N: number, K: number, bias?: Float32Array): Float32Array {
  const c = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[m * K + k] * b[n * K + k];
      c[m * N + n] = s + (bias ? bias[n] : 0);
    }
  }
  return c;
}

export function addRef(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => v + b[i]);
}
