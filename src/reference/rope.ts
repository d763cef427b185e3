// Plain TypeScript reference for rotary embedding (f64). The rotation is orthogonal, so its backward is
// the inverse rotation: ropeRef with `inverse`, as the kernel's INVERSE.

/** Rotate-half RoPE on [rows, heads, hd] vectors starting at colOff of each row of width rowStride. */
export function ropeRef(
  x: ArrayLike<number>,
  positions: ArrayLike<number>,
  heads: number,
  headDim: number,
  rowStride: number,
  colOff: number,
  theta: number,
  inverse = false,
): Float64Array {
  const out = Float64Array.from(x);
  const half = headDim / 2;
  for (let r = 0; r < positions.length; r++) {
    for (let h = 0; h < heads; h++) {
      const base = r * rowStride + colOff + h * headDim;
      for (let j = 0; j < half; j++) {
        const angle = positions[r] * Math.pow(theta, (-2 * j) / headDim);
        const c = Math.cos(angle);
        const s = inverse ? -Math.sin(angle) : Math.sin(angle);
        const x1 = x[base + j];
        const x2 = x[base + j + half];
        out[base + j] = x1 * c - x2 * s;
        out[base + j + half] = x2 * c + x1 * s;
      }
    }
  }
  return out;
}
