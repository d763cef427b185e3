// Where LoRA adapters sit in a Qwen2 layer: the seven projections, their Hugging Face / PEFT module names,
// and each one's place inside the engine's fused matrices. Shared by training (Policy) and adapter loading.
import type { Qwen2Config } from './config.ts';
import type { LinearSite } from './model.ts';

export type LoraTarget = 'q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down';

/** The fused engine matrix each target adds into. */
export const SITE_OF: Record<LoraTarget, LinearSite> = { q: 'qkv', k: 'qkv', v: 'qkv', o: 'o', gate: 'gateUp', up: 'gateUp', down: 'down' };

/** Hugging Face module path of each LoRA target inside a layer. */
export const PEFT_MODULE: Record<LoraTarget, string> = {
  q: 'self_attn.q_proj', k: 'self_attn.k_proj', v: 'self_attn.v_proj', o: 'self_attn.o_proj',
  gate: 'mlp.gate_proj', up: 'mlp.up_proj', down: 'mlp.down_proj',
};

export interface LoraGeometry {
  /** input width: A is [rank, inWidth] */
  inWidth: number;
  /** output rows: B is [outRows, rank] */
  outRows: number;
  /** where the target's rows begin inside the fused output */
  colOff: number;
}

export function loraGeometry(c: Qwen2Config): Record<LoraTarget, LoraGeometry> {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const I = c.intermediateSize;
  const D = c.hiddenSize;
  const g = (inWidth: number, outRows: number, colOff: number): LoraGeometry => ({ inWidth, outRows, colOff });
  return { q: g(D, q, 0), k: g(D, kv, q), v: g(D, kv, q + kv), o: g(q, D, 0), gate: g(D, I, 0), up: g(D, I, I), down: g(I, D, 0) };
}

/** W [outRows, inWidth] += scale · B [outRows, rank] · A [rank, inWidth]: a LoRA update merged into its weight. */
export function addLowRank(W: Float32Array, A: Float32Array, B: Float32Array, scale: number, rank: number, inWidth: number, outRows: number): void {
  for (let o = 0; o < outRows; o++) {
    for (let r = 0; r < rank; r++) {
      const b = scale * B[o * rank + r];
      if (b === 0) continue;
      for (let i = 0; i < inWidth; i++) W[o * inWidth + i] += b * A[r * inWidth + i];
    }
  }
}
