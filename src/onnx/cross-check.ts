// Our engine against onnxruntime-web on the same weights: logits of one sequence through ORT's prefill and
// cached decode steps, and the measure both are compared by (the tests and the studio's GPU self-test).
import type { OrtCausalLm } from './ort-model.ts';

/** The pass mark: max |ours − ORT| within 1e-4 of the largest logit. */
export const CROSS_CHECK_TOLERANCE = 1e-4;

/** max |a − b| relative to the largest |b| */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relDiff: ${a.length} values against ${b.length}`);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    worst = Math.max(worst, d);
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale > 0 ? worst / scale : worst;
}

/**
 * Full-vocabulary logits at every position of `ids` [T, V]: a prefill of the first `prefill` tokens, then
 * one cached decode step per remaining token, so the KV cache path is checked too.
 */
export async function sequenceLogits(lm: OrtCausalLm, ids: number[], prefill: number): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  let out = await lm.forward(lm.emptyState(1), ids.slice(0, prefill), Array(prefill).fill(1), 0);
  parts.push(out.logits);
  try {
    for (const id of ids.slice(prefill)) {
      out = await lm.forward(out.state, [id], [1], 1);
      parts.push(out.logits);
    }
  } finally {
    lm.releaseState(out.state);
  }
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
  return all;
}
