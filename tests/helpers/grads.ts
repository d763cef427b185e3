// Gradient-check helpers: central finite differences of f64 scalar functions, and a scale-relative error.

/** ∂f/∂x[i] by central differences (step h) for each i of `indices` (default: every coordinate). */
export function numericGrad(f: (x: Float64Array) => number, x: ArrayLike<number>, h = 1e-5, indices?: readonly number[]): Float64Array {
  const at = Float64Array.from(x);
  const idx = indices ?? Array.from({ length: at.length }, (_, i) => i);
  const g = new Float64Array(idx.length);
  idx.forEach((i, k) => {
    const x0 = at[i];
    at[i] = x0 + h;
    const up = f(at);
    at[i] = x0 - h;
    const down = f(at);
    at[i] = x0;
    g[k] = (up - down) / (2 * h);
  });
  return g;
}

/** max |a − b| divided by max |b|: the error relative to the gradient's own scale. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** f32 kernels against f64 references, relative to the largest entry (relErr) */
export const GPU_TOL = 1e-5;
/** f64 central differences (h = 1e-5) against analytic gradients (relErr) */
export const FD_TOL = 1e-6;

/** a + b elementwise: what a kernel that accumulates into `a` should leave there */
export function plus(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from(a, (v, i) => v + b[i]);
}
