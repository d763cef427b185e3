// Plain TypeScript references for the forward ops (f64 arithmetic), used by the kernel tests.

export function embeddingRef(ids: ArrayLike<number>, table: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(ids.length * dim);
  for (let r = 0; r < ids.length; r++) out.set(table.subarray(ids[r] * dim, (ids[r] + 1) * dim), r * dim);
  return out;
}

export function rmsnormRef(x: Float32Array, w: Float32Array, eps: number): { y: Float32Array; rstd: Float32Array } {
  const dim = w.length;
  const rows = x.length / dim;
  const y = new Float32Array(x.length);
  const rstd = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = 0; i < dim; i++) s += x[r * dim + i] ** 2;
    const inv = 1 / Math.sqrt(s / dim + eps);
    rstd[r] = inv;
    for (let i = 0; i < dim; i++) y[r * dim + i] = x[r * dim + i] * inv * w[i];
  }
  return { y, rstd };
}

/** Rotate-half RoPE on [rows, heads, hd] vectors starting at colOff of each row of width rowStride. */
export function ropeRef(
  x: Float32Array,
  positions: ArrayLike<number>,
  heads: number,
  headDim: number,
  rowStride: number,
  colOff: number,
  theta: number,
): Float32Array {
  const out = x.slice();
  const half = headDim / 2;
  for (let r = 0; r < positions.length; r++) {
    for (let h = 0; h < heads; h++) {
      const base = r * rowStride + colOff + h * headDim;
      for (let j = 0; j < half; j++) {
        const angle = positions[r] * Math.pow(theta, (-2 * j) / headDim);
        const c = Math.cos(angle);
        const s = Math.sin(angle);
        const x1 = x[base + j];
        const x2 = x[base + j + half];
        out[base + j] = x1 * c - x2 * s;
        out[base + j + half] = x2 * c + x1 * s;
      }
    }
  }
  return out;
}

export function swigluRef(gu: Float32Array, rows: number, inter: number): Float32Array {
  const h = new Float32Array(rows * inter);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < inter; i++) {
      const g = gu[r * 2 * inter + i];
      h[r * inter + i] = (g / (1 + Math.exp(-g))) * gu[r * 2 * inter + inter + i];
    }
  }
  return h;
}

/**
 * Causal GQA attention where row r attends keys 0..positions[r] of its own sequence. `keys`/`values` are
 * per-slot arrays [maxLen, kvHeads·hd] holding every position the rows may see.
 */
export function attentionRef(
  q: Float32Array,
  slots: ArrayLike<number>,
  positions: ArrayLike<number>,
  keys: Float32Array[],
  values: Float32Array[],
  heads: number,
  kvHeads: number,
  hd: number,
): { out: Float32Array; lse: Float32Array } {
  const rows = positions.length;
  const out = new Float32Array(rows * heads * hd);
  const lse = new Float32Array(rows * heads);
  const group = heads / kvHeads;
  const scale = 1 / Math.sqrt(hd);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      const kvh = Math.floor(h / group);
      const K = keys[slots[r]];
      const V = values[slots[r]];
      const n = positions[r] + 1;
      const s = new Float64Array(n);
      let m = -Infinity;
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let d = 0; d < hd; d++) dot += q[(r * heads + h) * hd + d] * K[(j * kvHeads + kvh) * hd + d];
        s[j] = dot * scale;
        m = Math.max(m, s[j]);
      }
      let z = 0;
      for (let j = 0; j < n; j++) z += Math.exp(s[j] - m);
      lse[r * heads + h] = m + Math.log(z);
      for (let d = 0; d < hd; d++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += Math.exp(s[j] - m) * V[(j * kvHeads + kvh) * hd + d];
        out[(r * heads + h) * hd + d] = acc / z;
      }
    }
  }
  return { out, lse };
}

/** log softmax(x / T)[i] */
export function logSoftmaxAt(logits: ArrayLike<number>, i: number, temperature: number): number {
  let m = -Infinity;
  for (let j = 0; j < logits.length; j++) m = Math.max(m, logits[j] / temperature);
  let z = 0;
  for (let j = 0; j < logits.length; j++) z += Math.exp(logits[j] / temperature - m);
  return logits[i] / temperature - m - Math.log(z);
}
