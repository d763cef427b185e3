// Plain TypeScript reference for causal GQA attention over a KV cache and its backward (f64).

type Arr = ArrayLike<number>;

export interface AttentionDims {
  heads: number;
  kvHeads: number;
  headDim: number;
  /** positions per cache slot; caches are flat [slots, maxLen, kvHeads·hd] like the GPU's */
  maxLen: number;
}

/**
 * Attention as the GPU runs it (store_kv, then forward): every row stores its k, v (columns after q in qkv
 * [rows, (H + 2·KVH)·hd]) at (slots[r], positions[r]) of copies of the caches, then attends causally to
 * positions 0..positions[r]: those below its prefix length from its prefix slot (`prefix` [rows, 2] =
 * slot, length; absent = none), the rest from its own slot. Returns the caches after the stores.
 */
export function attentionRef(
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
 * dL/dqkv of attentionRef given dL/dout: dq from every key attended; dk, dv of each cache entry summed
 * over all queries (and GQA heads) that attended to it, then routed to the row that stored it. Entries no
 * row stored (a cached prefix) keep their gradient out of qkv. `cacheK`/`cacheV` are after the stores;
 * `prefix` as in attentionRef (a shared prefix's keys collect the gradient of every row reading them).
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
