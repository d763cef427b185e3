// Batched generation: prefill each prompt once, fork its cache into its n slots, decode every sequence
// together. Sampling happens on the GPU; each step reads back only the sampled ids.

import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { KvCache, Qwen2Model, ScratchActivations, type RowBatch } from './model.ts';
import { sample, type SamplingParams } from '../ops/sample.ts';
import { replicateWithin } from '../ops/elementwise.ts';
import { checkDecodeSettings, checkTokenIds } from './inputs.ts';

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

export class Generator {
  private acts: ScratchActivations;
  private cache: KvCache | null = null;

  constructor(readonly model: Qwen2Model) {
    this.acts = new ScratchActivations(model.rt);
  }

  private get rt(): GpuRuntime {
    return this.model.rt;
  }

  private ensureCache(slots: number, maxLen: number): KvCache {
    if (this.cache && this.cache.slots >= slots && this.cache.maxLen >= maxLen) return this.cache;
    this.cache?.release();
    this.cache = new KvCache(this.rt, this.model.config, slots, maxLen);
    return this.cache;
  }

  private rows(ids: number[] | Tensor, slots: number[], positions: number[]): RowBatch {
    const rt = this.rt;
    const n = slots.length;
    return {
      rows: n,
      ids: Array.isArray(ids) ? rt.upload([n], ids, 'u32', 'ids') : ids,
      slots: rt.upload([n], slots, 'u32', 'slots'),
      positions: rt.upload([n], positions, 'u32', 'positions'),
    };
  }

  private releaseRows(b: RowBatch, keepIds = false): void {
    if (!keepIds) b.ids.release();
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

    // Prefill: prompt p into slot p·n; logits of its last position into row p·n, replicated to its n rows.
    const t0 = performance.now();
    const pre = this.rows(prompts.flat(), prompts.flatMap((p, i) => p.map(() => i * n)), prompts.flatMap((p) => p.map((_, j) => j)));
    const hidden = model.forward(pre, cache, this.acts);
    const logits = rt.empty([S, V], 'f32', 'logits');
    let row = 0;
    prompts.forEach((p, i) => {
      row += p.length;
      model.logits(hidden, row - 1, 1, logits, i * n);
      replicateWithin(rt, logits, i * n * V, V, (i * n + 1) * V, V, n - 1);
      cache.forkSlot(i * n, n - 1, p.length);
    });
    this.releaseRows(pre);

    // Every sampled id lands in history[step·S + s]; the step's S-slice feeds the next forward.
    const history = rt.empty([opts.maxNewTokens * S], 'u32', 'history');
    const logprobHistory = rt.empty([opts.maxNewTokens * S], 'f32', 'logprob-history');
    const scratch = rt.empty([S, V], 'f32', 'sample-scratch');
    const stepIds = rt.empty([S], 'u32', 'step-ids');
    const tokens: number[][] = Array.from({ length: S }, () => []);
    const finished = Array(S).fill(false);
    const eos = new Set(opts.eosIds);
    const slots = Array.from({ length: S }, (_, s) => s);
    const promptLength = slots.map((s) => lengths[Math.floor(s / n)]);
    let prefillMs = 0;
    let decodeStart = 0;
    let steps = 0;
    try {
      for (let step = 0; step < opts.maxNewTokens; step++) {
        if (step > 0) {
          rt.copy(history, stepIds, (step - 1) * S, 0, S);
          const batch = this.rows(stepIds, slots, promptLength.map((len) => len + step - 1));
          const h = model.forward(batch, cache, this.acts);
          model.logits(h, 0, S, logits);
          this.releaseRows(batch, true);
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
        prefillTokensPerSec: (pre.rows / prefillMs) * 1000,
        decodeTokensPerSec: steps > 1 ? (((steps - 1) * S) / decodeMs) * 1000 : 0,
      };
    } finally {
      for (const t of [logits, history, logprobHistory, scratch, stepIds]) t.release();
    }
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
