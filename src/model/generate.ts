// Batched generation: prefill each prompt once, fork its cache into its n slots, decode every sequence
// together. Sampling happens on the GPU; each step reads back only the sampled ids.

import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { KvCache, Qwen2Model, type RowBatch } from './model.ts';
import { ScratchActivations } from './activations.ts';
import { sample, type SamplingParams } from '../ops/sample.ts';
import { replicateWithin } from '../ops/elementwise.ts';
import { checkDecodeSettings, checkTokenIds } from './inputs.ts';

/** prepare()'s prompt: long enough that the prefill takes the tiled matmul (more than 8 rows) */
const PREPARE_PROMPT = 9;

export interface GenerateOptions {
  n: number;
  maxNewTokens: number;
  sampling: SamplingParams;
  /** generation stops for a sequence once it emits one of these */
  eosIds: number[];
  /** called after every decode step with the tokens sampled so far per sequence */
  onStep?: (step: number, tokens: number[][], done: boolean[]) => void;
  /** checked between steps; true stops early */
  shouldStop?: () => boolean;
}

export interface GenerateResult {
  /** completion ids per sequence, including the eos token when one ended it */
  tokens: number[][];
  /** log-probability of each sampled token under softmax(logits / T) (0 for greedy) */
  logprobs: number[][];
  finished: boolean[];
  prefillMs: number;
  decodeMs: number;
  prefillTokensPerSec: number;
  decodeTokensPerSec: number;
}

/** What decodes batches of prompts: our Generator, or a second backend with its contract (src/onnx/ort-generator.ts). */
export interface BatchGenerator {
  readonly model: { readonly maxPositions: number };
  generateBatch(prompts: number[][], opts: GenerateOptions): Promise<GenerateResult>;
}

export class Generator implements BatchGenerator {
  private acts: ScratchActivations;
  private cache: KvCache | null = null;

  constructor(readonly model: Qwen2Model) {
    this.acts = new ScratchActivations(model.rt, 'gen');
  }

  private get rt(): GpuRuntime {
    return this.model.rt;
  }

  private ensureCache(slots: number, maxLen: number): KvCache {
    if (this.cache && this.cache.slots >= slots && this.cache.maxLen >= maxLen) return this.cache;
    this.cache?.release();
    this.cache = new KvCache(this.rt, this.model.config, slots, maxLen, 'gen.cache');
    return this.cache;
  }

  private rows(ids: number[], slots: number[], positions: number[]): RowBatch {
    const rt = this.rt;
    const n = slots.length;
    return {
      rows: n,
      ids: rt.upload([n], ids, 'u32', 'ids'),
      slots: rt.upload([n], slots, 'u32', 'slots'),
      positions: rt.upload([n], positions, 'u32', 'positions'),
    };
  }

  private releaseRows(b: RowBatch): void {
    b.ids.release();
    b.slots.release();
    b.positions.release();
  }

  /** n continuations of one prompt (a GRPO group). */
  generate(prompt: number[], opts: GenerateOptions): Promise<GenerateResult> {
    return this.generateBatch([prompt], opts);
  }

  /**
   * n continuations of each prompt, all decoded together. Sequence p·n + g continues prompt p; every
   * prompt is prefilled once (all in one forward), and its cache slot forked into its n sequences.
   */
  async generateBatch(prompts: number[][], opts: GenerateOptions): Promise<GenerateResult> {
    const { rt, model } = this;
    const V = model.config.vocabSize;
    const n = opts.n;
    const P = prompts.length;
    const S = P * n; // sequences
    if (P === 0) throw new Error('generate: no prompts');
    checkDecodeSettings(opts);
    const limits = { vocabSize: V, maxPositions: model.maxPositions };
    prompts.forEach((p, i) => checkTokenIds(p, limits, P === 1 ? 'prompt' : `prompt ${i}`, opts.maxNewTokens));
    const lengths = prompts.map((p) => p.length);
    const longest = Math.max(...lengths);
    const cache = this.ensureCache(S, longest + opts.maxNewTokens);

    // Every sampled id lands in history[step·S + s]; the step's S-slice feeds the next forward. The decode
    // rows (ids, slots, positions) keep their tensors across steps, so every step binds the same buffers.
    const logits = rt.empty([S, V], 'f32', 'logits');
    const history = rt.empty([opts.maxNewTokens * S], 'u32', 'history');
    const logprobHistory = rt.empty([opts.maxNewTokens * S], 'f32', 'logprob-history');
    const scratch = rt.empty([S, V], 'f32', 'sample-scratch');
    const slots = Array.from({ length: S }, (_, s) => s);
    const decode = this.rows(new Array(S).fill(0), slots, slots);

    const t0 = performance.now();
    const prefillRows = this.recordPrefill(prompts, n, cache, logits);
    this.releaseRows(prefillRows);
    const tokens: number[][] = Array.from({ length: S }, () => []);
    const finished = Array(S).fill(false);
    const eos = new Set(opts.eosIds);
    const promptLength = slots.map((s) => lengths[Math.floor(s / n)]);
    let prefillMs = 0;
    let decodeStart = 0;
    let steps = 0;
    try {
      for (let step = 0; step < opts.maxNewTokens; step++) {
        if (step > 0) {
          rt.write(decode.positions, promptLength.map((len) => len + step - 1)); // first: nothing recorded yet, no extra submit
          rt.copy(history, decode.ids, (step - 1) * S, 0, S);
          this.recordDecodeStep(decode, cache, logits);
        }
        sample(rt, logits, scratch, history, logprobHistory, S, V, opts.sampling, step, step * S);
        const ids = await rt.read(history, step * S, S);
        if (step === 0) {
          prefillMs = performance.now() - t0;
          decodeStart = performance.now();
        }
        steps = step + 1;
        for (let s = 0; s < S; s++) {
          if (finished[s]) continue;
          tokens[s].push(ids[s]);
          if (eos.has(ids[s])) finished[s] = true;
        }
        opts.onStep?.(step, tokens, finished);
        if (finished.every(Boolean) || opts.shouldStop?.()) break;
      }
      const decodeMs = performance.now() - decodeStart;
      const lp = await rt.read(logprobHistory, 0, steps * S);
      const logprobs = tokens.map((seq, s) => seq.map((_, t) => lp[t * S + s]));
      return {
        tokens,
        logprobs,
        finished,
        prefillMs,
        decodeMs,
        prefillTokensPerSec: (prefillRows.rows / prefillMs) * 1000,
        decodeTokensPerSec: steps > 1 ? (((steps - 1) * S) / decodeMs) * 1000 : 0,
      };
    } finally {
      for (const t of [logits, history, logprobHistory, scratch]) t.release();
      this.releaseRows(decode);
    }
  }

  /**
   * Records the prefill: prompt p into cache slot p·n, then the LM head once over the last position of every
   * prompt (gathered into one block) into logits row p·n, replicated to its n rows, and the slot forked.
   */
  private recordPrefill(prompts: number[][], n: number, cache: KvCache, logits: Tensor): RowBatch {
    const { rt, model } = this;
    const D = model.config.hiddenSize;
    const V = model.config.vocabSize;
    const rows = this.rows(prompts.flat(), prompts.flatMap((p, i) => p.map(() => i * n)), prompts.flatMap((p) => p.map((_, j) => j)));
    const hidden = model.forward(rows, cache, this.acts);
    const last = this.acts.get(0, 'last', [prompts.length, D]);
    let row = 0;
    prompts.forEach((p, i) => {
      row += p.length;
      rt.copy(hidden, last, (row - 1) * D, i * D, D);
    });
    model.logits(last, 0, prompts.length, logits, 0, n);
    prompts.forEach((p, i) => {
      replicateWithin(rt, logits, i * n * V, V, (i * n + 1) * V, V, n - 1);
      cache.forkSlot(i * n, n - 1, p.length);
    });
    return rows;
  }

  /** Records one decode step: every sequence's next row, then the LM head on all of them. */
  private recordDecodeStep(rows: RowBatch, cache: KvCache, logits: Tensor): void {
    const h = this.model.forward(rows, cache, this.acts);
    this.model.logits(h, 0, rows.rows, logits);
  }

  /**
   * Compiles every pipeline generation uses (prefill, LM head, sampling, decode) before the first prompt, in
   * parallel where the driver can; `onProgress(done, total)` as they finish. Generation works without it
   * (pipelines then compile on first use).
   */
  async prepare(onProgress?: (done: number, total: number) => void): Promise<void> {
    const { rt, model } = this;
    const prompt = Array.from({ length: PREPARE_PROMPT }, (_, i) => i % model.config.vocabSize);
    const cache = this.ensureCache(2, PREPARE_PROMPT + 1);
    const logits = rt.empty([2, model.config.vocabSize], 'f32', 'logits');
    const scratch = rt.empty([2, model.config.vocabSize], 'f32', 'sample-scratch');
    const history = rt.empty([2], 'u32', 'history');
    const logprobs = rt.empty([2], 'f32', 'logprob-history');
    const specs = rt.kernelsOf(() => {
      this.releaseRows(this.recordPrefill([prompt], 2, cache, logits));
      sample(rt, logits, scratch, history, logprobs, 2, model.config.vocabSize, { temperature: 1, topP: 1, topK: 0, seed: 0 }, 0);
      const decode = this.rows([0, 0], [0, 1], [PREPARE_PROMPT, PREPARE_PROMPT]);
      this.recordDecodeStep(decode, cache, logits);
      this.releaseRows(decode);
    });
    for (const t of [logits, scratch, history, logprobs]) t.release();
    await rt.prepareKernels(specs, onProgress);
  }

  /** Full-vocabulary logits at every position of one sequence (verification; never used in training). */
  async allLogits(ids: number[]): Promise<Float32Array> {
    const { rt, model } = this;
    const T = ids.length;
    const V = model.config.vocabSize;
    checkTokenIds(ids, { vocabSize: V, maxPositions: model.maxPositions });
    const cache = this.ensureCache(1, T);
    const batch = this.rows(ids, Array(T).fill(0), ids.map((_, i) => i));
    const hidden = model.forward(batch, cache, this.acts);
    const out = rt.empty([T, V], 'f32', 'logits');
    model.logits(hidden, 0, T, out);
    const result = (await rt.read(out)) as Float32Array;
    out.release();
    this.releaseRows(batch);
    return result;
  }

  release(): void {
    this.cache?.release();
    this.cache = null;
    this.acts.release();
  }
}
