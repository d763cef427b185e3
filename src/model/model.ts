// Qwen2 (Qwen2.5) on our WebGPU kernels, readable top to bottom:
//   embed → N × [RMSNorm → QKV (fused, with bias) → RoPE → causal GQA attention → O (+ residual)
//                → RMSNorm → gate|up (fused) → SwiGLU → down (+ residual)] → RMSNorm → LM head.
// The residual adds are fused into the O and down projections (matmul accumulate).
// Every step works on "rows": tokens of any sequences, each with a cache slot and a position, so prefill,
// batched decode and training batches share one code path.

import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import type { Qwen2Config } from './config.ts';
import { embedding } from '../ops/embedding.ts';
import { rmsnorm } from '../ops/rmsnorm.ts';
import { linear, matmul } from '../ops/matmul.ts';
import { rope, ropeTables } from '../ops/rope.ts';
import { attention } from '../ops/attention.ts';
import { swiglu } from '../ops/swiglu.ts';
import { replicateWithin } from '../ops/elementwise.ts';

export interface LayerWeights {
  inputNorm: Tensor; // [D]
  qkv: Tensor; // [(H + 2·KVH)·hd, D]: q_proj, k_proj, v_proj rows stacked
  qkvBias: Tensor; // [(H + 2·KVH)·hd]
  o: Tensor; // [D, H·hd]
  postNorm: Tensor; // [D]
  gateUp: Tensor; // [2·I, D]: gate_proj then up_proj rows
  down: Tensor; // [D, I]
}

export interface ModelWeights {
  embed: Tensor; // [V, D]
  layers: LayerWeights[];
  norm: Tensor; // [D]
  lmHead: Tensor; // [V, D]; the embedding itself when tied
}

/** Rows to run: token ids and, per row, the cache slot and position it occupies. */
export interface RowBatch {
  rows: number;
  ids: Tensor; // u32 [rows]
  slots: Tensor; // u32 [rows]
  positions: Tensor; // u32 [rows]
}

/** Per-layer key/value storage: [slots, maxLen, KVH·hd] f32 for each layer. */
export class KvCache {
  readonly k: Tensor[];
  readonly v: Tensor[];

  constructor(private rt: GpuRuntime, cfg: Qwen2Config, readonly slots: number, readonly maxLen: number) {
    const width = cfg.numKvHeads * cfg.headDim;
    this.k = Array.from({ length: cfg.numLayers }, (_, l) => rt.empty([slots, maxLen, width], 'f32', `cache.k.${l}`));
    this.v = Array.from({ length: cfg.numLayers }, (_, l) => rt.empty([slots, maxLen, width], 'f32', `cache.v.${l}`));
  }

  /** Copies positions [0, length) of slot 0 into slots 1..copies (GRPO: one prompt, G continuations). */
  forkFirstSlot(copies: number, length: number): void {
    const width = this.k[0].shape[2];
    const slotSize = this.maxLen * width;
    for (const t of [...this.k, ...this.v]) replicateWithin(this.rt, t, 0, length * width, slotSize, slotSize, copies);
  }

  release(): void {
    for (const t of [...this.k, ...this.v]) t.release();
  }
}

/**
 * Where the forward keeps its intermediates. Inference reuses one scratch tensor per name across layers;
 * training keeps one per layer for the backward pass. The residual stream is named "x" at each layer's
 * input (layer numLayers = the final one): in inference every layer shares it and updates it in place.
 */
export interface Activations {
  get(layer: number, name: string, shape: number[], dtype?: 'f32'): Tensor;
}

export class ScratchActivations implements Activations {
  private tensors = new Map<string, Tensor>();

  constructor(private rt: GpuRuntime) {}

  get(_layer: number, name: string, shape: number[]): Tensor {
    if (name === 'xmid') name = 'x'; // the residual stream is updated in place: no copy between blocks
    const need = shape.reduce((a, b) => a * b, 1);
    const have = this.tensors.get(name);
    if (have && have.size >= need) return have;
    have?.release();
    const t = this.rt.empty(shape, 'f32', `act.${name}`);
    this.tensors.set(name, t);
    return t;
  }

  release(): void {
    for (const t of this.tensors.values()) t.release();
    this.tensors.clear();
  }
}

export class Qwen2Model {
  readonly ropeCos: Tensor;
  readonly ropeSin: Tensor;

  constructor(
    readonly rt: GpuRuntime,
    readonly config: Qwen2Config,
    readonly weights: ModelWeights,
    /** longest position the rope tables cover */
    readonly maxPositions: number,
  ) {
    const { cos, sin } = ropeTables(config.headDim, config.ropeTheta, maxPositions);
    this.ropeCos = rt.upload([cos.length], cos, 'f32', 'rope.cos');
    this.ropeSin = rt.upload([sin.length], sin, 'f32', 'rope.sin');
  }

  /** Runs the decoder over the rows, writing their keys/values into the cache; returns the final-normed hidden [rows, D]. */
  forward(batch: RowBatch, cache: KvCache, acts: Activations): Tensor {
    const { rt, config: c, weights: w } = this;
    const R = batch.rows;
    const D = c.hiddenSize;
    embedding(rt, batch.ids, w.embed, acts.get(0, 'x', [R, D]), R);
    for (let l = 0; l < c.numLayers; l++) this.layer(l, batch, cache, acts);
    const x = acts.get(c.numLayers, 'x', [R, D]);
    const out = acts.get(c.numLayers, 'final', [R, D]);
    rmsnorm(rt, x, w.norm, out, acts.get(c.numLayers, 'rstd', [R]), R, c.rmsNormEps);
    return out;
  }

  private layer(l: number, batch: RowBatch, cache: KvCache, acts: Activations): void {
    const { rt, config: c } = this;
    const w = this.weights.layers[l];
    const R = batch.rows;
    const D = c.hiddenSize;
    const qDim = c.numHeads * c.headDim;
    const kvDim = c.numKvHeads * c.headDim;
    const qkvDim = qDim + 2 * kvDim;
    const I = c.intermediateSize;

    // Attention block.
    const x = acts.get(l, 'x', [R, D]);
    const xn1 = acts.get(l, 'xn1', [R, D]);
    rmsnorm(rt, x, w.inputNorm, xn1, acts.get(l, 'rstd1', [R]), R, c.rmsNormEps);
    const qkv = acts.get(l, 'qkv', [R, qkvDim]);
    linear(rt, xn1, w.qkv, qkv, R, w.qkvBias);
    const ropeView = { rows: R, headDim: c.headDim, rowStride: qkvDim };
    rope(rt, qkv, batch.positions, this.ropeCos, this.ropeSin, { ...ropeView, heads: c.numHeads, colOff: 0 });
    rope(rt, qkv, batch.positions, this.ropeCos, this.ropeSin, { ...ropeView, heads: c.numKvHeads, colOff: qDim });
    const attn = acts.get(l, 'attn', [R, qDim]);
    attention(
      rt,
      { rows: R, heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim, maxLen: cache.maxLen },
      qkv, batch.slots, batch.positions, cache.k[l], cache.v[l], attn, acts.get(l, 'lse', [R, c.numHeads]),
    );
    const xMid = acts.get(l, 'xmid', [R, D]);
    if (xMid !== x) rt.copy(x, xMid, 0, 0, R * D);
    linear(rt, attn, w.o, xMid, R, undefined, true); // xMid = x + attn·Woᵀ

    // MLP block.
    const xn2 = acts.get(l, 'xn2', [R, D]);
    rmsnorm(rt, xMid, w.postNorm, xn2, acts.get(l, 'rstd2', [R]), R, c.rmsNormEps);
    const gu = acts.get(l, 'gu', [R, 2 * I]);
    linear(rt, xn2, w.gateUp, gu, R);
    const h = acts.get(l, 'h', [R, I]);
    swiglu(rt, gu, h, R, I);
    const xOut = acts.get(l + 1, 'x', [R, D]);
    if (xOut !== xMid) rt.copy(xMid, xOut, 0, 0, R * D);
    linear(rt, h, w.down, xOut, R, undefined, true); // xOut = xMid + h·Wdownᵀ
  }

  /** logits[r, :] for `count` rows of hidden starting at row `first`: [count, V]. */
  logits(hidden: Tensor, first: number, count: number, out: Tensor): void {
    const [V, D] = this.weights.lmHead.shape;
    matmul(this.rt, hidden, this.weights.lmHead, out, { M: count, N: V, K: D, aSm: D, aSk: 1, bSn: D, bSk: 1, aOff: first * D });
  }
}
