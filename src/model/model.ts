// Qwen2 (Qwen2.5) on our WebGPU kernels, readable top to bottom:
//   embed → N × [RMSNorm → QKV (fused, with bias) → RoPE → causal GQA attention → O (+ residual)
//                → RMSNorm → gate|up (fused) → SwiGLU → down (+ residual)] → RMSNorm → LM head.
// The residual adds are fused into the O and down projections (matmul accumulate).
// Every step works on "rows": tokens of any sequences, each with a cache slot and a position, so prefill,
// batched decode and training batches share one code path.

import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import type { Qwen2Config } from './config.ts';
import { embedding, embeddingBackward } from '../ops/embedding.ts';
import { rmsnorm, rmsnormBackward } from '../ops/rmsnorm.ts';
import { linear, linearBackwardInput, linearBackwardWeight, matmul } from '../ops/matmul.ts';
import { rope, ropeTables, type RopeView } from '../ops/rope.ts';
import { attention, attentionBackward, type AttentionShape } from '../ops/attention.ts';
import { swiglu, swigluBackward } from '../ops/swiglu.ts';
import { replicateWithin } from '../ops/elementwise.ts';
import type { Activations, ScratchActivations } from './activations.ts';

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

/** A LoRA adapter on one projection: y[:, colOff .. colOff + outRows) += scale · (x·Aᵀ)·Bᵀ. */
export interface LoraAdapter {
  target: string; // q, k, v, o, gate, up, down
  A: Tensor; // [rank, in]
  B: Tensor; // [outRows, rank]
  scale: number; // alpha / rank
  colOff: number;
}

/** The four projections of a layer, as fused in LayerWeights. */
export type LinearSite = 'qkv' | 'o' | 'gateUp' | 'down';
export type LayerAdapters = Record<LinearSite, LoraAdapter[]>;

/** Gradients, shaped like the weights; null where a tensor is frozen. */
export interface LayerGrads {
  inputNorm: Tensor | null;
  qkv: Tensor | null;
  qkvBias: Tensor | null;
  o: Tensor | null;
  postNorm: Tensor | null;
  gateUp: Tensor | null;
  down: Tensor | null;
}

export interface ModelGrads {
  embed: Tensor | null;
  layers: LayerGrads[];
  norm: Tensor | null;
  /** the embedding's gradient when tied */
  lmHead: Tensor | null;
  /** dA, dB per adapter, parallel to the model's adapters */
  adapters: Record<LinearSite, { A: Tensor; B: Tensor }[]>[] | null;
}

/** Rows to run: token ids and, per row, the cache slot and position it occupies. */
export interface RowBatch {
  rows: number;
  ids: Tensor; // u32 [rows]
  /**
   * u32 [rows]: each row's cache slot; or [rows, 3]: (slot, prefix slot, prefix length), the row's keys
   * below the prefix length read from the prefix slot (the completions of a GRPO group sharing one prompt)
   */
  slots: Tensor;
  positions: Tensor; // u32 [rows]
}

/** Per-layer key/value storage: [slots, maxLen, KVH·hd] f32 for each layer. */
export class KvCache {
  readonly k: Tensor[];
  readonly v: Tensor[];

  constructor(private rt: GpuRuntime, cfg: Qwen2Config, readonly slots: number, readonly maxLen: number, label = 'cache') {
    const width = cfg.numKvHeads * cfg.headDim;
    this.k = Array.from({ length: cfg.numLayers }, (_, l) => rt.empty([slots, maxLen, width], 'f32', `${label}.k.${l}`));
    this.v = Array.from({ length: cfg.numLayers }, (_, l) => rt.empty([slots, maxLen, width], 'f32', `${label}.v.${l}`));
  }

  /** Copies positions [0, length) of slot `from` into the `copies` slots after it (one prompt, G continuations). */
  forkSlot(from: number, copies: number, length: number): void {
    const width = this.k[0].shape[2];
    const slotSize = this.maxLen * width;
    for (const t of [...this.k, ...this.v]) replicateWithin(this.rt, t, from * slotSize, length * width, (from + 1) * slotSize, slotSize, copies);
  }

  release(): void {
    for (const t of [...this.k, ...this.v]) t.release();
  }
}

export class Qwen2Model {
  readonly ropeCos: Tensor;
  readonly ropeSin: Tensor;
  /** LoRA adapters per layer (null: none); `adaptersOn = false` gives the base policy (the KL reference). */
  adapters: LayerAdapters[] | null = null;
  adaptersOn = true;
  private ones: Tensor | null = null;

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
    this.lora(l, 'qkv', xn1, qkv, qkvDim, R, acts);
    const ropeView = { rows: R, headDim: c.headDim, rowStride: qkvDim };
    rope(rt, qkv, batch.positions, this.ropeCos, this.ropeSin, { ...ropeView, heads: c.numHeads, colOff: 0 });
    rope(rt, qkv, batch.positions, this.ropeCos, this.ropeSin, { ...ropeView, heads: c.numKvHeads, colOff: qDim });
    const attn = acts.get(l, 'attn', [R, qDim]);
    attention(
      rt,
      this.attentionShape(R, cache),
      qkv, batch.slots, batch.positions, cache.k[l], cache.v[l], attn, acts.get(l, 'lse', [R, c.numHeads]),
    );
    const xMid = acts.get(l, 'xmid', [R, D]);
    if (xMid !== x) rt.copy(x, xMid, 0, 0, R * D);
    linear(rt, attn, w.o, xMid, R, undefined, true); // xMid = x + attn·Woᵀ
    this.lora(l, 'o', attn, xMid, D, R, acts);

    // MLP block.
    const xn2 = acts.get(l, 'xn2', [R, D]);
    rmsnorm(rt, xMid, w.postNorm, xn2, acts.get(l, 'rstd2', [R]), R, c.rmsNormEps);
    const gu = acts.get(l, 'gu', [R, 2 * I]);
    linear(rt, xn2, w.gateUp, gu, R);
    this.lora(l, 'gateUp', xn2, gu, 2 * I, R, acts);
    const h = acts.get(l, 'h', [R, I]);
    swiglu(rt, gu, h, R, I);
    const xOut = acts.get(l + 1, 'x', [R, D]);
    if (xOut !== xMid) rt.copy(xMid, xOut, 0, 0, R * D);
    linear(rt, h, w.down, xOut, R, undefined, true); // xOut = xMid + h·Wdownᵀ
    this.lora(l, 'down', h, xOut, D, R, acts);
  }

  private siteAdapters(l: number, site: LinearSite): LoraAdapter[] {
    return this.adapters && this.adaptersOn ? this.adapters[l][site] : [];
  }

  /** Adds each adapter's low-rank update into its column slice of y (row width `width`). */
  private lora(l: number, site: LinearSite, x: Tensor, y: Tensor, width: number, R: number, acts: Activations): void {
    this.siteAdapters(l, site).forEach((a, i) => {
      const rank = a.A.shape[0];
      const xa = acts.get(l, `lora.${site}.${i}`, [R, rank]);
      linear(this.rt, x, a.A, xa, R);
      matmul(
        this.rt, xa, a.B, y,
        { M: R, N: a.B.shape[0], K: rank, aSm: rank, aSk: 1, bSn: rank, bSk: 1, cOff: a.colOff, cSm: width, alpha: a.scale },
        { accumulate: true },
      );
    });
  }

  /**
   * Backward of the LoRA updates at one site, given dy (row width `width`): dA, dB accumulate into
   * `grads`, and dx += the input gradient through the adapters.
   */
  private loraBackward(
    l: number, site: LinearSite, x: Tensor, dy: Tensor, dx: Tensor, width: number, R: number,
    acts: Activations, scratch: ScratchActivations, grads: ModelGrads,
  ): void {
    this.siteAdapters(l, site).forEach((a, i) => {
      const [rank, K] = a.A.shape;
      const out = a.B.shape[0];
      const g = grads.adapters![l][site][i];
      const xa = acts.get(l, `lora.${site}.${i}`, [R, rank]);
      const dxa = scratch.get(l, 'dlora', [R, rank]);
      const rt = this.rt;
      // dB += scale · dy_sliceᵀ · xa
      matmul(rt, dy, xa, g.B, { M: out, N: rank, K: R, aSm: 1, aSk: width, aOff: a.colOff, bSn: 1, bSk: rank, alpha: a.scale }, { accumulate: true });
      // dxa = scale · dy_slice · B
      matmul(rt, dy, a.B, dxa, { M: R, N: rank, K: out, aSm: width, aSk: 1, aOff: a.colOff, bSn: 1, bSk: rank, alpha: a.scale });
      // dA += dxaᵀ · x ; dx += dxa · A
      matmul(rt, dxa, x, g.A, { M: rank, N: K, K: R, aSm: 1, aSk: rank, bSn: 1, bSk: K }, { accumulate: true });
      matmul(rt, dxa, a.A, dx, { M: R, N: K, K: rank, aSm: rank, aSk: 1, bSn: 1, bSk: K }, { accumulate: true });
    });
  }

  /** A [n] tensor of ones (column sums as a matmul), grown on demand. */
  private onesOf(n: number): Tensor {
    if (!this.ones || this.ones.size < n) {
      this.ones?.release();
      this.ones = this.rt.upload([n], new Float32Array(n).fill(1), 'f32', 'ones');
    }
    return this.ones;
  }

  /**
   * Backward through the whole decoder for the rows of the last forward (whose intermediates `acts` kept
   * per layer), from dFinal = dL/d(final-normed hidden) [rows, D]. Weight gradients accumulate (+=) into
   * `grads` (zero them once per optimiser step); frozen weights (null grads) only pass gradients through.
   */
  backward(batch: RowBatch, cache: KvCache, acts: Activations, scratch: ScratchActivations, dFinal: Tensor, grads: ModelGrads): void {
    const { rt, config: c, weights: W } = this;
    const R = batch.rows;
    const D = c.hiddenSize;
    const I = c.intermediateSize;
    const qDim = c.numHeads * c.headDim;
    const qkvDim = qDim + 2 * c.numKvHeads * c.headDim;
    const L = c.numLayers;
    const dx = scratch.get(L, 'dx', [R, D]); // the residual stream's gradient, updated in place layer by layer
    rmsnormBackward(rt, acts.get(L, 'x', [R, D]), W.norm, acts.get(L, 'rstd', [R]), dFinal, dx, grads.norm, R);
    for (let l = L - 1; l >= 0; l--) {
      const w = W.layers[l];
      const g = grads.layers[l];
      if (acts.recompute) this.layer(l, batch, cache, acts); // refill this layer's intermediates
      const get = (name: string, shape: number[]) => acts.get(l, name, shape);
      const tmp = (name: string, shape: number[]) => scratch.get(l, name, shape);

      // MLP block: xOut = xMid + down(swiglu(gateUp(norm(xMid)))).
      const h = get('h', [R, I]);
      const dh = tmp('dh', [R, I]);
      linearBackwardInput(rt, dx, w.down, dh, R);
      if (g.down) linearBackwardWeight(rt, dx, h, g.down, R, true);
      this.loraBackward(l, 'down', h, dx, dh, D, R, acts, scratch, grads);
      const dgu = tmp('dgu', [R, 2 * I]);
      swigluBackward(rt, get('gu', [R, 2 * I]), dh, dgu, R, I);
      const xn2 = get('xn2', [R, D]);
      const dxn2 = tmp('dxn2', [R, D]);
      linearBackwardInput(rt, dgu, w.gateUp, dxn2, R);
      if (g.gateUp) linearBackwardWeight(rt, dgu, xn2, g.gateUp, R, true);
      this.loraBackward(l, 'gateUp', xn2, dgu, dxn2, 2 * I, R, acts, scratch, grads);
      rmsnormBackward(rt, get('xmid', [R, D]), w.postNorm, get('rstd2', [R]), dxn2, dx, g.postNorm, R, true);

      // Attention block: xMid = x + o(attention(rope(qkv(norm(x))))).
      const attn = get('attn', [R, qDim]);
      const dattn = tmp('dattn', [R, qDim]);
      linearBackwardInput(rt, dx, w.o, dattn, R);
      if (g.o) linearBackwardWeight(rt, dx, attn, g.o, R, true);
      this.loraBackward(l, 'o', attn, dx, dattn, D, R, acts, scratch, grads);
      const dqkv = tmp('dqkv', [R, qkvDim]);
      attentionBackward(
        rt, this.attentionShape(R, cache), get('qkv', [R, qkvDim]), batch.slots, batch.positions,
        cache.k[l], cache.v[l], attn, get('lse', [R, c.numHeads]), dattn, dqkv,
      );
      const view: Omit<RopeView, 'heads' | 'colOff'> = { rows: R, headDim: c.headDim, rowStride: qkvDim };
      rope(rt, dqkv, batch.positions, this.ropeCos, this.ropeSin, { ...view, heads: c.numHeads, colOff: 0 }, true);
      rope(rt, dqkv, batch.positions, this.ropeCos, this.ropeSin, { ...view, heads: c.numKvHeads, colOff: qDim }, true);
      const xn1 = get('xn1', [R, D]);
      const dxn1 = tmp('dxn1', [R, D]);
      linearBackwardInput(rt, dqkv, w.qkv, dxn1, R);
      if (g.qkv) linearBackwardWeight(rt, dqkv, xn1, g.qkv, R, true);
      if (g.qkvBias) {
        // dbias[n] += Σ_r dqkv[r, n]
        matmul(rt, this.onesOf(R), dqkv, g.qkvBias, { M: 1, N: qkvDim, K: R, aSm: R, aSk: 1, bSn: 1, bSk: qkvDim }, { accumulate: true });
      }
      this.loraBackward(l, 'qkv', xn1, dqkv, dxn1, qkvDim, R, acts, scratch, grads);
      rmsnormBackward(rt, get('x', [R, D]), w.inputNorm, get('rstd1', [R]), dxn1, dx, g.inputNorm, R, true);
    }
    if (grads.embed) embeddingBackward(rt, batch.ids, dx, grads.embed, R);
  }

  private attentionShape(rows: number, cache: KvCache): AttentionShape {
    const c = this.config;
    return { rows, heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim, maxLen: cache.maxLen };
  }

  /**
   * Returns the weights, rope tables and the backward's ones vector to the pool (a tied LM head is the
   * embedding: released once). LoRA adapters belong to whoever attached them.
   */
  release(): void {
    const w = this.weights;
    const tensors = new Set([w.embed, w.norm, w.lmHead, this.ropeCos, this.ropeSin, ...w.layers.flatMap((l) => Object.values(l))]);
    for (const t of tensors) t.release();
    this.ones?.release();
    this.ones = null;
  }

  /** Logits of `count` rows of hidden starting at row `first`, into rows outRow, outRow + rowStep, ... of out [*, V]. */
  logits(hidden: Tensor, first: number, count: number, out: Tensor, outRow = 0, rowStep = 1): void {
    const [V, D] = this.weights.lmHead.shape;
    matmul(this.rt, hidden, this.weights.lmHead, out, {
      M: count, N: V, K: D, aSm: D, aSk: 1, bSn: D, bSk: 1, aOff: first * D, cOff: outRow * V, cSm: rowStep * V,
    });
  }
}
