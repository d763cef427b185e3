// Plain TypeScript reference for SwiGLU on the fused gate|up tensor [rows, 2·I] and its backward (f64).

type Arr = ArrayLike<number>;

/** h[r, i] = silu(gu[r, i]) · gu[r, I + i] */
export function swigluRef(gu: Arr, rows: number, inter: number): Float64Array {
  const h = new Float64Array(rows * inter);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < inter; i++) {
      const g = gu[r * 2 * inter + i];
      h[r * inter + i] = (g / (1 + Math.exp(-g))) * gu[r * 2 * inter + inter + i];
    }
  }
  return h;
}

/** With s = sigmoid(g): dgate = dh · u · s · (1 + g · (1 − s)), dup = dh · g · s. */
export function swigluBackwardRef(gu: Arr, dh: Arr, rows: number, inter: number): Float64Array {
  const dgu = new Float64Array(rows * 2 * inter);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < inter; i++) {
      const gi = r * 2 * inter + i;
      const g = gu[gi];
      const u = gu[gi + inter];
      const s = 1 / (1 + Math.exp(-g));
      const d = dh[r * inter + i];
      dgu[gi] = d * u * s * (1 + g * (1 - s));
      dgu[gi + inter] = d * g * s;
    }
  }
  return dgu;
}
