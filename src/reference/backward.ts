// Plain TypeScript references for the backward ops, in f64, with f64 forwards to check them against
// finite differences (the forward references in layers.ts round their outputs to f32).

type Arr = ArrayLike<number>;

/** dTable [vocab, dim] = Σ over rows r with ids[r] = v of dOut[r, :] */
export function embeddingBackwardRef(ids: Arr, dOut: Arr, vocab: number, dim: number): Float64Array {
  const dTable = new Float64Array(vocab * dim);
  for (let r = 0; r < ids.length; r++) for (let d = 0; d < dim; d++) dTable[ids[r] * dim + d] += dOut[r * dim + d];
  return dTable;
}

export function rmsnormForward64(x: Arr, w: Arr, eps: number): { y: Float64Array; rstd: Float64Array } {
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

export function swigluForward64(gu: Arr, rows: number, inter: number): Float64Array {
  const h = new Float64Array(rows * inter);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < inter; i++) {
      const g = gu[r * 2 * inter + i];
      h[r * inter + i] = (g / (1 + Math.exp(-g))) * gu[r * 2 * inter + inter + i];
    }
  }
  return h;
}

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

export interface AttentionDims {
  heads: number;
  kvHeads: number;
  headDim: number;
  /** positions per cache slot; caches are flat [slots, maxLen, kvHeads·hd] like the GPU's */
  maxLen: number;
}

/**
 * The training attention as the GPU runs it: every row stores its k, v (columns after q in qkv
 * [rows, (H + 2·KVH)·hd]) at (slots[r], positions[r]) of copies of the caches, then attends causally to
 * positions 0..positions[r]: those below its prefix length from its prefix slot (`prefix` [rows, 2] =
 * slot, length; absent = none), the rest from its own slot. f64 throughout.
 */
export function attentionTrainRef(
  qkv: Arr,
  slots: Arr,
  positions: Arr,
  cacheK: Arr,
  cacheV: Arr,
  a: AttentionDims,
  prefix?: Arr,
): { out: Float64Array; lse: Float64Array; cacheK: Float64Array; cacheV: Float64Array } {
  const { heads: H, kvHeads: KVH, headDim: hd, maxLen } = a;
  const rows = positions.length;
  const stride = (H + 2 * KVH) * hd;
  const kvw = KVH * hd;
  const K = Float64Array.from(cacheK);
  const V = Float64Array.from(cacheV);
  for (let r = 0; r < rows; r++) {
    const dst = (slots[r] * maxLen + positions[r]) * kvw;
    for (let i = 0; i < kvw; i++) {
      K[dst + i] = qkv[r * stride + H * hd + i];
      V[dst + i] = qkv[r * stride + (H + KVH) * hd + i];
    }
  }
  const out = new Float64Array(rows * H * hd);
  const lse = new Float64Array(rows * H);
  const scale = 1 / Math.sqrt(hd);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < H; h++) {
      const P = attnProbs(qkv, r, h, keySlots(slots, prefix, r), positions[r], K, a, scale);
      lse[r * H + h] = P.lse;
      const kvh = Math.floor(h / (H / KVH));
      for (let j = 0; j < P.p.length; j++) {
        const vb = (P.slotOf(j) * maxLen + j) * kvw + kvh * hd;
        for (let d = 0; d < hd; d++) out[(r * H + h) * hd + d] += P.p[j] * V[vb + d];
      }
    }
  }
  return { out, lse, cacheK: K, cacheV: V };
}

/** Row r's key j lives in this slot: its prefix slot below the prefix length, else its own. */
function keySlots(slots: Arr, prefix: Arr | undefined, r: number): (j: number) => number {
  return (j) => (prefix && j < prefix[2 * r + 1] ? prefix[2 * r] : slots[r]);
}

/** softmax over keys 0..pos (key j in slot slotOf(j)) for query (r, h), and its log-normaliser */
function attnProbs(
  qkv: Arr, r: number, h: number, slotOf: (j: number) => number, pos: number, K: Arr, a: AttentionDims, scale: number,
): { p: Float64Array; lse: number; slotOf: (j: number) => number } {
  const { heads: H, kvHeads: KVH, headDim: hd, maxLen } = a;
  const stride = (H + 2 * KVH) * hd;
  const kvh = Math.floor(h / (H / KVH));
  const s = new Float64Array(pos + 1);
  let m = -Infinity;
  for (let j = 0; j <= pos; j++) {
    const kb = (slotOf(j) * maxLen + j) * KVH * hd + kvh * hd;
    let dot = 0;
    for (let d = 0; d < hd; d++) dot += qkv[r * stride + h * hd + d] * K[kb + d];
    s[j] = dot * scale;
    m = Math.max(m, s[j]);
  }
  let z = 0;
  for (let j = 0; j <= pos; j++) z += Math.exp(s[j] - m);
  return { p: s.map((v) => Math.exp(v - m) / z), lse: m + Math.log(z), slotOf };
}

/**
 * dL/dqkv of attentionTrainRef given dL/dout: dq from every key attended; dk, dv of each cache entry summed
 * over all queries (and GQA heads) that attended to it, then routed to the row that stored it. Entries no
 * row stored (a cached prefix) keep their gradient out of qkv. `cacheK`/`cacheV` are after the stores;
 * `prefix` as in attentionTrainRef (a shared prefix's keys collect the gradient of every row reading them).
 */
export function attentionBackwardRef(
  qkv: Arr, slots: Arr, positions: Arr, cacheK: Arr, cacheV: Arr, dout: Arr, a: AttentionDims, prefix?: Arr,
): Float64Array {
  const { heads: H, kvHeads: KVH, headDim: hd, maxLen } = a;
  const rows = positions.length;
  const stride = (H + 2 * KVH) * hd;
  const kvw = KVH * hd;
  const scale = 1 / Math.sqrt(hd);
  const dqkv = new Float64Array(rows * stride);
  const dK = new Float64Array(cacheK.length);
  const dV = new Float64Array(cacheV.length);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / (H / KVH));
      const { p, slotOf } = attnProbs(qkv, r, h, keySlots(slots, prefix, r), positions[r], cacheK, a, scale);
      const ob = (r * H + h) * hd;
      const dp = new Float64Array(p.length);
      let delta = 0;
      for (let j = 0; j < p.length; j++) {
        const vb = (slotOf(j) * maxLen + j) * kvw + kvh * hd;
        for (let d = 0; d < hd; d++) dp[j] += dout[ob + d] * cacheV[vb + d];
        delta += p[j] * dp[j];
      }
      for (let j = 0; j < p.length; j++) {
        const ds = p[j] * (dp[j] - delta);
        const kb = (slotOf(j) * maxLen + j) * kvw + kvh * hd;
        for (let d = 0; d < hd; d++) {
          dqkv[r * stride + h * hd + d] += scale * ds * cacheK[kb + d];
          dK[kb + d] += scale * ds * qkv[r * stride + h * hd + d];
          dV[kb + d] += p[j] * dout[ob + d];
        }
      }
    }
  }
  for (let r = 0; r < rows; r++) {
    const src = (slots[r] * maxLen + positions[r]) * kvw;
    for (let i = 0; i < kvw; i++) {
      dqkv[r * stride + H * hd + i] = dK[src + i];
      dqkv[r * stride + (H + KVH) * hd + i] = dV[src + i];
    }
  }
  return dqkv;
}
