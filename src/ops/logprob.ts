// Token log-probabilities through the LM head, chunked: per chunk of rows the logits [chunk, V] are
// (re)computed by matmul into a scratch tensor, so no [rows × V] tensor ever exists. Over shaders/logprob.wgsl.
import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { params } from './grid.ts';
import { matmul } from './matmul.ts';

export const LOGPROB_CHUNK = 64;

const LOGPROB = { shader: 'logprob', includes: ['workgroup_reduce'] };

/** Rows [from, to) of hidden / targets / logprobs. */
export interface RowSpan {
  from: number;
  to: number;
}

export interface LogprobOut {
  /** [rows] log softmax(logits / T)[target] */
  logprobs: Tensor;
  /** [rows] entropy of softmax(logits / T), for logging */
  entropy: Tensor;
}

/** logits[0..count) = hidden[first..first+count) · lmHeadᵀ */
function chunkLogits(rt: GpuRuntime, hidden: Tensor, lmHead: Tensor, logits: Tensor, first: number, count: number): void {
  const [V, D] = lmHead.shape;
  matmul(rt, hidden, lmHead, logits, { M: count, N: V, K: D, aSm: D, aSk: 1, bSn: D, bSk: 1, aOff: first * D });
}

/**
 * Per row of the span of hidden [rows, D]: log-prob of targets[r] (u32) under lmHead [V, D] logits /
 * temperature, and the entropy (rows outside the span are left as they are).
 */
export function tokenLogprobs(
  rt: GpuRuntime,
  hidden: Tensor,
  lmHead: Tensor,
  targets: Tensor,
  rows: RowSpan,
  temperature: number,
  out: LogprobOut,
  chunk = LOGPROB_CHUNK,
): void {
  const V = lmHead.shape[0];
  const logits = rt.empty([Math.min(chunk, rows.to - rows.from), V], 'f32', 'logprob.logits');
  for (let first = rows.from; first < rows.to; first += chunk) {
    const count = Math.min(chunk, rows.to - first);
    chunkLogits(rt, hidden, lmHead, logits, first, count);
    rt.dispatch({
      kernel: { ...LOGPROB, entry: 'forward' },
      buffers: [logits, targets, out.logprobs, out.entropy],
      params: params([count, V, first, 0], [1 / temperature]),
      workgroups: [count],
    });
  }
  logits.release();
}

/**
 * Backward for an upstream coefficient dlogp[r] = dL/dlogp[r] over the span: its rows of dHidden [rows, D]
 * = Σ_v dlogits·lmHead, and dLmHead [V, D] += dlogitsᵀ·hidden (null for a frozen head; with tied
 * embeddings pass the embedding's gradient). Logits are recomputed chunk by chunk.
 */
export function tokenLogprobsBackward(
  rt: GpuRuntime,
  hidden: Tensor,
  lmHead: Tensor,
  targets: Tensor,
  rows: RowSpan,
  temperature: number,
  dlogp: Tensor,
  dHidden: Tensor,
  dLmHead: Tensor | null,
  chunk = LOGPROB_CHUNK,
): void {
  const [V, D] = lmHead.shape;
  const dlogits = rt.empty([Math.min(chunk, rows.to - rows.from), V], 'f32', 'logprob.dlogits');
  for (let first = rows.from; first < rows.to; first += chunk) {
    const count = Math.min(chunk, rows.to - first);
    chunkLogits(rt, hidden, lmHead, dlogits, first, count);
    rt.dispatch({
      kernel: { ...LOGPROB, entry: 'backward' },
      buffers: [dlogits, targets, dlogp],
      params: params([count, V, first, 0], [1 / temperature]),
      workgroups: [count],
    });
    // dHidden[first + c, k] = Σ_v dlogits[c, v] · W[v, k]
    matmul(rt, dlogits, lmHead, dHidden, { M: count, N: D, K: V, aSm: V, aSk: 1, bSn: 1, bSk: D, cOff: first * D });
    // dW[v, k] += Σ_c dlogits[c, v] · hidden[first + c, k]
    if (dLmHead) {
      matmul(rt, dlogits, hidden, dLmHead, { M: V, N: D, K: count, aSm: 1, aSk: V, bSn: 1, bSk: D, bOff: first * D }, { accumulate: true });
    }
  }
  dlogits.release();
}
