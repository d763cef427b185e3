// GPU memory of a GRPO step, computed without a GPU: an exact replay of what the engine allocates.
//
// The runtime's BufferPool (src/gpu/runtime.ts) never frees: it rounds every request up to a size class
// and keeps released buffers for reuse by the next request of the same class, but only after the next
// submit (a released buffer is "pending" until then). So what a step holds (rt.bytesHeld) is not a sum of
// tensor sizes: it depends on the order of allocations, releases and submits. This module replays that
// order for Policy.create + GrpoTrainer.trainStep (generateBatch → reference log-probs → zeroGrads →
// accumulateGradients → optimizerStep), function by function, against a simulated pool and uniform
// arena, and reports what the pool ends up holding, by category. Each replay function below names the
// engine function it mirrors; when those change, this file must change with them (tests/train/memory.test.ts
// compares it with rt.bytesHeld after real steps).

import { BufferPool } from '../gpu/runtime.ts';
import type { Qwen2Config } from '../model/config.ts';
import type { LoraTarget } from './policy.ts';

export type MemoryCategory =
  | 'weights' // model matrices, norms, biases, rope tables
  | 'reference' // a separate reference model (full fine-tuning with β ≠ 0)
  | 'trainable' // LoRA A/B, and for every trained tensor its gradient and both AdamW moments
  | 'rolloutKv' // the generator's KV cache (all G·P sequences, prompt + completion positions)
  | 'rolloutActs' // the generator's scratch activations (sized by the prefill)
  | 'sampling' // logits [S, V], sampling scratch [S, V], token/log-prob histories
  | 'trainKv' // per-micro-batch KV cache of the training/reference forwards
  | 'activations' // training activations kept for the backward (per layer; or layer inputs + one layer with recomputation)
  | 'referenceActs' // scratch activations of the no-grad log-prob passes (reference, old policy)
  | 'gradScratch' // backward scratch: dx, dh, dgu, ..., attention stats, dhidden
  | 'logprobChunks' // the LM-head chunks [64, V] of the log-prob forward and backward
  | 'rows' // ids, slots, positions, targets, per-row log-probs, dlogp, optimizer partials, ones
  | 'uniforms'; // the runtime's uniform arena (64 KiB chunks)

export const MEMORY_CATEGORIES: MemoryCategory[] = [
  'weights', 'reference', 'trainable', 'rolloutKv', 'rolloutActs', 'sampling', 'trainKv', 'activations',
  'referenceActs', 'gradScratch', 'logprobChunks', 'rows', 'uniforms',
];

export interface GrpoMemorySetup {
  config: Qwen2Config;
  mode: 'lora' | 'full';
  /**
   * element type of the frozen weight matrices: the base under LoRA (f16 where the adapter has shader-f16),
   * or the reference copy under full fine-tuning with β ≠ 0 (the trained matrices are always f32)
   */
  baseDtype: 'f16' | 'f32';
  lora?: { rank: number; targets: LoraTarget[] };
  promptsPerStep: number;
  groupSize: number;
  /** every prompt has this many tokens */
  promptTokens: number;
  /** every completion runs to this many tokens (no early end of sequence: the worst case) */
  completionTokens: number;
  microBatch: number;
  /** β ≠ 0 adds the reference log-prob pass (adapters off under LoRA; a reference model under full fine-tuning) */
  beta: number;
  /** μ: > 1 adds the old-policy log-prob pass */
  iterations: number;
  recompute: boolean;
  /** PolicySettings.maxPositions (sizes the rope tables) */
  maxPositions: number;
  /** false: only the update (zeroGrads, accumulateGradients, optimizerStep), no rollout (default true) */
  rollout?: boolean;
  /** GRPO steps to replay (the pool reaches its steady state after the first) */
  steps?: number;
  /**
   * What-if: the pool also recycles released buffers when nothing is recorded (GpuRuntime.empty with no open
   * encoder), instead of only at the next submit. Not the engine's behaviour today; for sizing that fix.
   */
  recycleWhenIdle?: boolean;
  /** device limits that change the pool's behaviour */
  maxBufferSize?: number;
  minUniformBufferOffsetAlignment?: number;
}

export interface PhaseMemory {
  phase: string;
  /** pool + uniform arena after the phase (what rt.bytesHeld would read) */
  heldBytes: number;
  /** bytes of live tensors at the phase's busiest moment (size-class rounded) */
  peakLiveBytes: number;
}

export interface MemoryReport {
  /** rt.bytesHeld after the step(s): pool storage + uniform arena */
  heldBytes: number;
  poolBytes: number;
  uniformBytes: number;
  /** pool bytes by the category whose request first allocated each buffer (sums to poolBytes), plus uniforms */
  byCategory: Record<MemoryCategory, number>;
  /** most bytes ever live at once: what a pool that could reuse across size classes would need */
  peakLiveBytes: number;
  /** tensor bytes before size-class rounding, at that busiest moment */
  phases: PhaseMemory[];
}

const UNIFORM_CHUNK = 65536;
const LOGPROB_CHUNK = 64; // src/ops/logprob.ts
const SUMSQ_MAX_WORKGROUPS = 256; // src/ops/optim.ts

interface Buf {
  size: number;
  cat: MemoryCategory;
}

/** BufferPool + the encoder/uniform-arena state of GpuRuntime, without a device. */
class PoolReplay {
  private free = new Map<number, Buf[]>();
  private pending: Buf[] = [];
  private live = new Set<Buf>();
  poolBytes = 0;
  liveBytes = 0;
  peakLive = 0;
  phasePeak = 0;
  readonly byCategory = Object.fromEntries(MEMORY_CATEGORIES.map((c) => [c, 0])) as Record<MemoryCategory, number>;
  /** something is recorded and not yet submitted (GpuRuntime.encoder !== null) */
  private open = false;
  private pushes = 0;
  uniformChunks = 0;
  private perChunk: number;

  constructor(private maxBufferSize: number, uniformAlign: number, private recycleWhenIdle = false) {
    this.perChunk = Math.floor(UNIFORM_CHUNK / uniformAlign);
  }

  /** BufferPool.acquire */
  acquire(bytes: number, cat: MemoryCategory): Buf {
    if (this.recycleWhenIdle && !this.open) this.recycle();
    let size = BufferPool.sizeClass(bytes);
    if (size > this.maxBufferSize) {
      if (bytes > this.maxBufferSize) throw new Error(`a ${cat} tensor of ${bytes} bytes exceeds maxBufferSize ${this.maxBufferSize}`);
      size = Math.ceil(bytes / 4) * 4;
    }
    let b = this.free.get(size)?.pop();
    if (!b) {
      b = { size, cat };
      this.poolBytes += size;
      this.byCategory[cat] += size;
    }
    this.live.add(b);
    this.liveBytes += size;
    this.peakLive = Math.max(this.peakLive, this.liveBytes);
    this.phasePeak = Math.max(this.phasePeak, this.liveBytes);
    return b;
  }

  /** BufferPool.release (Tensor.release) */
  release(b: Buf): void {
    if (!this.live.delete(b)) return;
    this.liveBytes -= b.size;
    this.pending.push(b);
  }

  private recycle(): void {
    for (const b of this.pending) {
      const list = this.free.get(b.size) ?? [];
      list.push(b);
      this.free.set(b.size, list);
    }
    this.pending = [];
  }

  /** GpuRuntime.dispatch: n dispatches, each with a uniform block */
  dispatch(n = 1): void {
    this.pushes += n;
    this.open = true;
  }

  /** GpuRuntime.zero / copy: recorded commands without uniforms */
  command(): void {
    this.open = true;
  }

  /** GpuRuntime.submit (with nothing recorded it only recycles) */
  submit(): void {
    if (this.open) this.uniformChunks = Math.max(this.uniformChunks, Math.ceil(this.pushes / this.perChunk));
    this.pushes = 0;
    this.open = false;
    this.recycle();
  }

  /** GpuRuntime.write: flushes recorded work first */
  write(): void {
    if (this.open) this.submit();
  }

  /** GpuRuntime.empty + write */
  upload(bytes: number, cat: MemoryCategory): Buf {
    const b = this.acquire(bytes, cat);
    this.write();
    return b;
  }

  /** GpuRuntime.read: records a copy, submits */
  read(): void {
    this.open = true;
    this.submit();
  }

  get uniformBytes(): number {
    return this.uniformChunks * UNIFORM_CHUNK;
  }

  get heldBytes(): number {
    return this.poolBytes + this.uniformBytes;
  }
}

/** The Activations implementations of src/model/model.ts, over the replayed pool. */
interface ActsReplay {
  get(layer: number, name: string, elems: number): Buf;
  release(): void;
  readonly recompute: boolean;
}

/** ScratchActivations: one tensor per name, regrown when too small; "xmid" is "x" (updated in place). */
class ScratchReplay implements ActsReplay {
  readonly recompute = false;
  private tensors = new Map<string, { buf: Buf; elems: number }>();
  constructor(private pool: PoolReplay, private cat: MemoryCategory) {}
  get(_layer: number, name: string, elems: number): Buf {
    if (name === 'xmid') name = 'x';
    const have = this.tensors.get(name);
    if (have && have.elems >= elems) return have.buf;
    if (have) this.pool.release(have.buf);
    const buf = this.pool.acquire(elems * 4, this.cat);
    this.tensors.set(name, { buf, elems });
    return buf;
  }
  release(): void {
    for (const t of this.tensors.values()) this.pool.release(t.buf);
    this.tensors.clear();
  }
}

/** LayerActivations: one tensor per (layer, name). */
class LayerReplay implements ActsReplay {
  readonly recompute = false;
  private tensors = new Map<string, Buf>();
  constructor(private pool: PoolReplay, private cat: MemoryCategory) {}
  get(layer: number, name: string, elems: number): Buf {
    const key = `${layer}.${name}`;
    let t = this.tensors.get(key);
    if (!t) {
      t = this.pool.acquire(elems * 4, this.cat);
      this.tensors.set(key, t);
    }
    return t;
  }
  release(): void {
    for (const t of this.tensors.values()) this.pool.release(t);
    this.tensors.clear();
  }
}

/** RecomputeActivations: "x" kept per layer, everything else one scratch tensor per name. */
class RecomputeReplay implements ActsReplay {
  readonly recompute = true;
  private kept: LayerReplay;
  private scratch = new Map<string, Buf>();
  constructor(private pool: PoolReplay, private cat: MemoryCategory) {
    this.kept = new LayerReplay(pool, cat);
  }
  get(layer: number, name: string, elems: number): Buf {
    if (name === 'x') return this.kept.get(layer, name, elems);
    let t = this.scratch.get(name);
    if (!t) {
      t = this.pool.acquire(elems * 4, this.cat);
      this.scratch.set(name, t);
    }
    return t;
  }
  release(): void {
    this.kept.release();
    for (const t of this.scratch.values()) this.pool.release(t);
    this.scratch.clear();
  }
}

type Site = 'qkv' | 'o' | 'gateUp' | 'down';
const SITE_OF: Record<LoraTarget, Site> = { q: 'qkv', k: 'qkv', v: 'qkv', o: 'o', gate: 'gateUp', up: 'gateUp', down: 'down' };

/** The replay of one policy + trainer on one pool. */
class GrpoReplay {
  readonly pool: PoolReplay;
  private c: Qwen2Config;
  private D: number;
  private I: number;
  private V: number;
  private L: number;
  private qDim: number;
  private kvDim: number;
  private qkvDim: number;
  private adapters: Record<Site, number>; // adapters per site (per layer)
  private rank: number;
  private full: boolean;
  private paramSizes: number[] = []; // element counts of every trained tensor (optimizer)
  private genActs: ScratchReplay;
  private genCache: { bufs: Buf[]; slots: number; maxLen: number } | null = null;
  private ones: { buf: Buf; elems: number } | null = null;

  constructor(private s: GrpoMemorySetup) {
    this.pool = new PoolReplay(s.maxBufferSize ?? 2 ** 30, s.minUniformBufferOffsetAlignment ?? 256, s.recycleWhenIdle);
    const c = (this.c = s.config);
    this.D = c.hiddenSize;
    this.I = c.intermediateSize;
    this.V = c.vocabSize;
    this.L = c.numLayers;
    this.qDim = c.numHeads * c.headDim;
    this.kvDim = c.numKvHeads * c.headDim;
    this.qkvDim = this.qDim + 2 * this.kvDim;
    this.full = s.mode === 'full';
    this.rank = s.lora?.rank ?? 0;
    this.adapters = { qkv: 0, o: 0, gateUp: 0, down: 0 };
    if (!this.full) for (const t of s.lora?.targets ?? []) this.adapters[SITE_OF[t]]++;
    this.genActs = new ScratchReplay(this.pool, 'rolloutActs');
  }

  // ---- Policy.create ------------------------------------------------------------------------------

  /** uploadWeights + the Qwen2Model constructor's rope tables */
  private weights(dtype: 'f16' | 'f32', cat: MemoryCategory): void {
    const { D, I, V, qDim, qkvDim } = this;
    const m = dtype === 'f16' ? 2 : 4;
    const up = (elems: number, bytes: number) => this.pool.upload(elems * bytes, cat);
    for (let l = 0; l < this.L; l++) {
      up(D, 4); // input_layernorm
      up(qkvDim * D, m);
      up(qkvDim, 4); // qkv bias
      up(D * qDim, m); // o
      up(D, 4); // post_attention_layernorm
      up(2 * I * D, m); // gate|up
      up(D * I, m); // down
    }
    up(V * D, m); // embedding
    up(D, 4); // final norm
    if (!this.c.tieWordEmbeddings) up(V * D, m);
    const maxPos = Math.min(this.s.maxPositions, this.c.maxPositionEmbeddings);
    const half = (maxPos * this.c.headDim) / 2;
    up(half, 4); // rope.cos
    up(half, 4); // rope.sin
  }

  /** Policy.create: weights, grad-norm scalar, then the trainable tensors with grad, m, v each */
  policy(): void {
    const { D, I, V, qDim, kvDim, qkvDim } = this;
    this.weights(this.full ? 'f32' : this.s.baseDtype, 'weights');
    this.pool.acquire(16, 'rows'); // Policy.norm
    const track = (elems: number) => {
      for (let i = 0; i < 3; i++) this.pool.upload(elems * 4, 'trainable');
      this.paramSizes.push(elems);
    };
    if (this.full) {
      track(V * D);
      for (let l = 0; l < this.L; l++) [D, qkvDim * D, qkvDim, D * qDim, D, 2 * I * D, D * I].forEach(track);
      track(D);
      if (!this.c.tieWordEmbeddings) track(V * D);
    } else {
      const { rank } = this;
      const geometry: Record<LoraTarget, [number, number]> = { q: [D, qDim], k: [D, kvDim], v: [D, kvDim], o: [qDim, D], gate: [D, I], up: [D, I], down: [I, D] };
      for (let l = 0; l < this.L; l++) {
        for (const t of this.s.lora!.targets) {
          const [inW, outRows] = geometry[t];
          this.pool.upload(rank * inW * 4, 'trainable'); // A
          this.pool.upload(outRows * rank * 4, 'trainable'); // B
          track(rank * inW);
          track(outRows * rank);
        }
      }
    }
    if (this.s.beta !== 0 && this.full) this.weights(this.s.baseDtype, 'reference'); // CLI train: instantiateModel, frozen dtype
  }

  // ---- Qwen2Model.forward / layer -------------------------------------------------------------------

  private lora(l: number, site: Site, R: number, acts: ActsReplay, on: boolean): void {
    if (!on) return;
    for (let i = 0; i < this.adapters[site]; i++) {
      acts.get(l, `lora.${site}.${i}`, R * this.rank);
      this.pool.dispatch(2);
    }
  }

  private layer(l: number, R: number, acts: ActsReplay, loraOn: boolean): void {
    const { D, I, qDim, qkvDim, pool } = this;
    const x = acts.get(l, 'x', R * D);
    acts.get(l, 'xn1', R * D);
    acts.get(l, 'rstd1', R);
    pool.dispatch(); // rmsnorm
    acts.get(l, 'qkv', R * qkvDim);
    pool.dispatch(); // qkv
    this.lora(l, 'qkv', R, acts, loraOn);
    pool.dispatch(2); // rope q, k
    acts.get(l, 'attn', R * qDim);
    acts.get(l, 'lse', R * this.c.numHeads);
    pool.dispatch(2); // store_kv, attention
    const xMid = acts.get(l, 'xmid', R * D);
    if (xMid !== x) pool.command();
    pool.dispatch(); // o
    this.lora(l, 'o', R, acts, loraOn);
    acts.get(l, 'xn2', R * D);
    acts.get(l, 'rstd2', R);
    pool.dispatch(); // rmsnorm
    acts.get(l, 'gu', R * 2 * I);
    pool.dispatch(); // gate|up
    this.lora(l, 'gateUp', R, acts, loraOn);
    acts.get(l, 'h', R * I);
    pool.dispatch(); // swiglu
    const xOut = acts.get(l + 1, 'x', R * D);
    if (xOut !== xMid) pool.command();
    pool.dispatch(); // down
    this.lora(l, 'down', R, acts, loraOn);
  }

  private forward(R: number, acts: ActsReplay, loraOn: boolean): void {
    acts.get(0, 'x', R * this.D);
    this.pool.dispatch(); // embedding
    for (let l = 0; l < this.L; l++) this.layer(l, R, acts, loraOn);
    acts.get(this.L, 'x', R * this.D);
    acts.get(this.L, 'final', R * this.D);
    acts.get(this.L, 'rstd', R);
    this.pool.dispatch(); // rmsnorm
  }

  // ---- Generator.generateBatch -------------------------------------------------------------------

  private generate(): void {
    const { pool, V, kvDim } = this;
    const { promptsPerStep: P, groupSize: n, promptTokens: Lp, completionTokens: N } = this.s;
    const S = P * n;
    const maxLen = Lp + N;
    // ensureCache
    const cache = this.genCache;
    if (!cache || cache.slots < S || cache.maxLen < maxLen) {
      if (cache) for (const b of cache.bufs) pool.release(b);
      const bufs = Array.from({ length: 2 * this.L }, () => pool.acquire(S * maxLen * kvDim * 4, 'rolloutKv'));
      this.genCache = { bufs, slots: S, maxLen };
    }
    const Rp = P * Lp;
    const pre = [pool.upload(Rp * 4, 'rows'), pool.upload(Rp * 4, 'rows'), pool.upload(Rp * 4, 'rows')];
    this.forward(Rp, this.genActs, true);
    const logits = pool.acquire(S * V * 4, 'sampling');
    for (let p = 0; p < P; p++) pool.dispatch(n > 1 ? 2 + 2 * this.L : 1); // logits, replicate, forkSlot
    for (const b of pre) pool.release(b);
    const history = pool.acquire(N * S * 4, 'sampling');
    const logprobHistory = pool.acquire(N * S * 4, 'sampling');
    const scratch = pool.acquire(S * V * 4, 'sampling');
    const stepIds = pool.acquire(S * 4, 'rows');
    for (let step = 0; step < N; step++) {
      if (step > 0) {
        pool.command(); // copy history → stepIds
        const slots = pool.upload(S * 4, 'rows');
        const positions = pool.upload(S * 4, 'rows');
        this.forward(S, this.genActs, true);
        pool.dispatch(); // logits
        pool.release(slots);
        pool.release(positions);
      }
      pool.dispatch(); // sample
      pool.read();
    }
    pool.read(); // log-prob history
    for (const b of [logits, history, logprobHistory, scratch, stepIds]) pool.release(b);
  }

  // ---- src/train/step.ts --------------------------------------------------------------------------

  /** pack: rows of `m` sequences of `len` tokens, with their own KV cache */
  private pack(m: number, len: number): Buf[] {
    const { pool } = this;
    const n = m * len;
    const rows = [pool.upload(n * 4, 'rows'), pool.upload(n * 4, 'rows'), pool.upload(n * 4, 'rows')];
    const cache = Array.from({ length: 2 * this.L }, () => pool.acquire(m * len * this.kvDim * 4, 'trainKv'));
    const targets = pool.upload(n * 4, 'rows');
    return [...rows, targets, ...cache]; // releasePacked's order
  }

  /** forwardLogprobs: forward, then tokenLogprobs over LM-head chunks, two readbacks */
  private forwardLogprobs(n: number, acts: ActsReplay, loraOn: boolean): void {
    const { pool } = this;
    this.forward(n, acts, loraOn);
    const lp = pool.acquire(n * 4, 'rows');
    const ent = pool.acquire(n * 4, 'rows');
    const chunk = pool.acquire(Math.min(LOGPROB_CHUNK, n) * this.V * 4, 'logprobChunks');
    pool.dispatch(2 * Math.ceil(n / LOGPROB_CHUNK));
    pool.release(chunk);
    pool.read();
    pool.read();
    pool.release(lp);
    pool.release(ent);
  }

  private parts(): number[] {
    const S = this.s.promptsPerStep * this.s.groupSize;
    const out: number[] = [];
    for (let i = 0; i < S; i += this.s.microBatch) out.push(Math.min(this.s.microBatch, S - i));
    return out;
  }

  /** sequenceLogprobs */
  private sequenceLogprobs(loraOn: boolean): void {
    const acts = new ScratchReplay(this.pool, 'referenceActs');
    const len = this.s.promptTokens + this.s.completionTokens;
    for (const m of this.parts()) {
      const packed = this.pack(m, len);
      this.forwardLogprobs(m * len, acts, loraOn);
      for (const b of packed) this.pool.release(b);
    }
    acts.release();
  }

  private loraBackward(l: number, site: Site, R: number, acts: ActsReplay, scratch: ScratchReplay): void {
    for (let i = 0; i < this.adapters[site]; i++) {
      acts.get(l, `lora.${site}.${i}`, R * this.rank);
      scratch.get(l, 'dlora', R * this.rank);
      this.pool.dispatch(4);
    }
  }

  /** Qwen2Model.backward */
  private backward(R: number, acts: ActsReplay, scratch: ScratchReplay): void {
    const { D, I, qDim, qkvDim, L, pool, full } = this;
    const weightGrad = full ? 1 : 0;
    scratch.get(L, 'dx', R * D);
    acts.get(L, 'x', R * D);
    acts.get(L, 'rstd', R);
    pool.dispatch(1 + weightGrad);
    for (let l = L - 1; l >= 0; l--) {
      if (acts.recompute) this.layer(l, R, acts, true);
      acts.get(l, 'h', R * I);
      scratch.get(l, 'dh', R * I);
      pool.dispatch(1 + weightGrad);
      this.loraBackward(l, 'down', R, acts, scratch);
      scratch.get(l, 'dgu', R * 2 * I);
      acts.get(l, 'gu', R * 2 * I);
      pool.dispatch(); // swiglu backward
      acts.get(l, 'xn2', R * D);
      scratch.get(l, 'dxn2', R * D);
      pool.dispatch(1 + weightGrad);
      this.loraBackward(l, 'gateUp', R, acts, scratch);
      acts.get(l, 'xmid', R * D);
      acts.get(l, 'rstd2', R);
      pool.dispatch(1 + weightGrad); // rmsnorm backward (+ weight)
      acts.get(l, 'attn', R * qDim);
      scratch.get(l, 'dattn', R * qDim);
      pool.dispatch(1 + weightGrad);
      this.loraBackward(l, 'o', R, acts, scratch);
      scratch.get(l, 'dqkv', R * qkvDim);
      acts.get(l, 'qkv', R * qkvDim);
      acts.get(l, 'lse', R * this.c.numHeads);
      const stats = pool.acquire(R * this.c.numHeads * 2 * 4, 'gradScratch');
      pool.dispatch(3);
      pool.release(stats);
      pool.dispatch(2); // inverse rope
      acts.get(l, 'xn1', R * D);
      scratch.get(l, 'dxn1', R * D);
      pool.dispatch(1 + weightGrad);
      if (full) {
        // onesOf(R): uploaded (a write: flushes what is recorded) when missing or too short
        if (!this.ones || this.ones.elems < R) {
          if (this.ones) pool.release(this.ones.buf);
          this.ones = { buf: pool.upload(R * 4, 'rows'), elems: R };
        }
        pool.dispatch(); // bias gradient
      }
      this.loraBackward(l, 'qkv', R, acts, scratch);
      acts.get(l, 'x', R * D);
      acts.get(l, 'rstd1', R);
      pool.dispatch(1 + weightGrad);
    }
    if (full) pool.dispatch(); // embedding backward
  }

  /** accumulateGradients */
  private accumulate(): void {
    const { pool } = this;
    const scratch = new ScratchReplay(pool, 'gradScratch');
    const len = this.s.promptTokens + this.s.completionTokens;
    for (const m of this.parts()) {
      const n = m * len;
      const packed = this.pack(m, len);
      const acts: ActsReplay = this.s.recompute ? new RecomputeReplay(pool, 'activations') : new LayerReplay(pool, 'activations');
      this.forwardLogprobs(n, acts, true);
      const dlogp = pool.upload(n * 4, 'rows');
      scratch.get(0, 'dhidden', n * this.D);
      const dlogits = pool.acquire(Math.min(LOGPROB_CHUNK, n) * this.V * 4, 'logprobChunks');
      pool.dispatch((this.full ? 4 : 3) * Math.ceil(n / LOGPROB_CHUNK));
      pool.release(dlogits);
      this.backward(n, acts, scratch);
      pool.submit(); // sync
      pool.release(dlogp);
      acts.release();
      for (const b of packed) pool.release(b);
    }
    scratch.release();
  }

  /** optimizerStep (gradNorm's partials, AdamW per tensor), then the norm readback */
  private optimizer(): void {
    const { pool } = this;
    const count = this.paramSizes.reduce((a, n) => a + Math.max(1, Math.min(SUMSQ_MAX_WORKGROUPS, Math.ceil(n / 256))), 0);
    const partials = pool.acquire(count * 4, 'rows');
    pool.dispatch(this.paramSizes.length + 1);
    pool.release(partials);
    pool.dispatch(this.paramSizes.length);
    pool.read();
  }

  /** GrpoTrainer.trainStep: rollout, reference/old log-probs, μ × (zeroGrads, gradients, AdamW) */
  step(phases: PhaseMemory[]): void {
    const mark = (phase: string) => {
      phases.push({ phase, heldBytes: this.pool.heldBytes, peakLiveBytes: this.pool.phasePeak });
      this.pool.phasePeak = this.pool.liveBytes;
    };
    if (this.s.rollout !== false) {
      this.generate();
      mark('rollout');
    }
    if (this.s.beta !== 0) {
      this.sequenceLogprobs(this.full); // LoRA: adapters off; full: the reference model (no adapters either way)
      mark('reference log-probs');
    }
    if (this.s.iterations > 1) {
      this.sequenceLogprobs(true);
      mark('old log-probs');
    }
    for (let pass = 0; pass < this.s.iterations; pass++) {
      for (let i = 0; i < this.paramSizes.length; i++) this.pool.command(); // zeroGrads
      this.accumulate();
      mark(`gradients${this.s.iterations > 1 ? ` (pass ${pass + 1})` : ''}`);
      this.optimizer();
      mark(`optimizer${this.s.iterations > 1 ? ` (pass ${pass + 1})` : ''}`);
    }
  }
}

/**
 * What rt.bytesHeld reads after `steps` (default 1) GRPO steps of a fresh Policy + GrpoTrainer, computed by
 * replaying the engine's allocations. Completions are assumed to run to completionTokens (no early EOS).
 */
export function grpoStepMemory(setup: GrpoMemorySetup): MemoryReport {
  if (setup.mode === 'lora' && !setup.lora) throw new Error('grpoStepMemory: LoRA mode needs lora settings');
  const r = new GrpoReplay(setup);
  const phases: PhaseMemory[] = [];
  r.policy();
  phases.push({ phase: 'policy', heldBytes: r.pool.heldBytes, peakLiveBytes: r.pool.phasePeak });
  r.pool.phasePeak = r.pool.liveBytes;
  for (let i = 0; i < (setup.steps ?? 1); i++) r.step(phases);
  const pool = r.pool;
  return {
    heldBytes: pool.heldBytes,
    poolBytes: pool.poolBytes,
    uniformBytes: pool.uniformBytes,
    byCategory: { ...pool.byCategory, uniforms: pool.uniformBytes },
    peakLiveBytes: pool.peakLive,
    phases,
  };
}

/** The bytes a GRPO step needs beyond the pool's rounding: a short human summary, largest first. */
export function formatMemoryReport(r: MemoryReport, unit = 2 ** 20, unitName = 'MiB'): string[] {
  const fmt = (b: number) => `${(b / unit).toFixed(1)} ${unitName}`;
  const cats = MEMORY_CATEGORIES.filter((c) => r.byCategory[c] > 0).sort((a, b) => r.byCategory[b] - r.byCategory[a]);
  return [
    `held ${fmt(r.heldBytes)} (pool ${fmt(r.poolBytes)} + uniforms ${fmt(r.uniformBytes)}); peak live ${fmt(r.peakLiveBytes)}`,
    ...cats.map((c) => `  ${c.padEnd(14)} ${fmt(r.byCategory[c]).padStart(12)}`),
  ];
}
