// Causal GQA attention over a KV cache: launchers over shaders/attention.wgsl.
import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { grid1d, params } from './grid.ts';

export interface AttentionShape {
  rows: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** positions per cache slot */
  maxLen: number;
}

/**
 * The uniform block of every attention entry point; rejects shapes the kernels do not handle. `slots` is
 * u32 [rows] (each row's cache slot) or [rows, 3]: (slot, prefix slot, prefix length), a row's keys below
 * the prefix length then coming from the prefix slot (the completions of a group reading one prompt).
 */
function attnParams(s: AttentionShape, slots: Tensor): ArrayBuffer {
  if (s.headDim > 256) throw new Error(`attention: head_dim ${s.headDim} > 256 is not supported`);
  if (s.heads % s.kvHeads !== 0) throw new Error(`attention: ${s.heads} heads not a multiple of ${s.kvHeads} kv heads`);
  const slotStride = slots.shape.length === 2 && slots.shape[1] === 3 ? 3 : 1;
  const qkvStride = (s.heads + 2 * s.kvHeads) * s.headDim;
  return params([s.rows, s.heads, s.kvHeads, s.headDim, s.maxLen, qkvStride, slotStride], [1 / Math.sqrt(s.headDim)]);
}

/**
 * Writes each row's k, v into its cache slot, then attends. `out` is [rows, heads·hd]; `lse` [rows, heads]
 * keeps each softmax's log-normaliser for the backward pass.
 */
export function attention(
  rt: GpuRuntime,
  s: AttentionShape,
  qkv: Tensor,
  slots: Tensor,
  positions: Tensor,
  cacheK: Tensor,
  cacheV: Tensor,
  out: Tensor,
  lse: Tensor,
): void {
  const p = attnParams(s, slots);
  const buffers = [qkv, slots, positions, cacheK, cacheV, out, lse];
  rt.dispatch({
    kernel: { shader: 'attention', entry: 'store_kv' },
    buffers: [qkv, slots, positions, cacheK, cacheV, null, null],
    params: p,
    workgroups: [Math.ceil((s.kvHeads * s.headDim) / 64), s.rows],
  });
  if (rt.info.subgroups) {
    // One (row, head) per subgroup: as many per workgroup as the largest subgroups make.
    const perWorkgroup = Math.max(1, Math.floor(64 / (rt.info.subgroupMaxSize || 64)));
    rt.dispatch({
      kernel: { shader: 'attention', entry: 'forward_subgroups', includes: ['attention_subgroups'], enables: ['subgroups'] },
      buffers,
      params: p,
      workgroups: grid1d(rt, Math.ceil((s.rows * s.heads) / perWorkgroup)),
    });
  } else rt.dispatch({ kernel: { shader: 'attention', entry: 'forward' }, buffers, params: p, workgroups: [s.heads, s.rows] });
}

/**
 * Backward of `attention` (RoPE'd qkv in, so the caller applies rope with `inverse` to dqkv's q and k
 * parts afterwards). Writes every column of dqkv [rows, (H + 2·KVH)·hd]: dq from the cache keys, and dk/dv
 * of the key/value each row stored, summed over the queries (and GQA heads) that attended to it.
 * Assumes the rows that see a row's key follow it contiguously: a slot's rows in increasing position order,
 * rows reading a shared prefix right after the rows that wrote it. Cache entries this batch did not write
 * (a cached prefix) are attended but receive no gradient.
 */
export function attentionBackward(
  rt: GpuRuntime,
  s: AttentionShape,
  qkv: Tensor,
  slots: Tensor,
  positions: Tensor,
  cacheK: Tensor,
  cacheV: Tensor,
  out: Tensor,
  lse: Tensor,
  dout: Tensor,
  dqkv: Tensor,
): void {
  const p = attnParams(s, slots);
  const stats = rt.empty([s.rows, s.heads, 2], 'f32', 'attn.stats');
  rt.dispatch({
    kernel: { shader: 'attention', entry: 'backward_delta' },
    buffers: [null, null, null, null, null, out, lse, dout, stats, null],
    params: p,
    workgroups: [Math.ceil((s.rows * s.heads) / 64)],
  });
  const buffers = [qkv, slots, positions, cacheK, cacheV, null, null, dout, stats, dqkv];
  rt.dispatch({ kernel: { shader: 'attention', entry: 'backward_dq' }, buffers, params: p, workgroups: [s.heads, s.rows] });
  rt.dispatch({ kernel: { shader: 'attention', entry: 'backward_dkv' }, buffers, params: p, workgroups: [s.kvHeads, s.rows] });
  stats.release(); // reusable after the submit that runs these dispatches
}
