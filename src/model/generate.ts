// Batched generation: prefill the prompt once, fork its cache into G slots, decode the G sequences
// together. Sampling happens on the GPU; each step reads back only the G sampled ids.

import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { KvCache, Qwen2Model, ScratchActivations, type RowBatch } from './model.ts';
import { sample, type SamplingParams } from '../ops/sample.ts';
import { replicateWithin } from '../ops/elementwise.ts';

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

  async generate(prompt: number[], opts: GenerateOptions): Promise<GenerateResult> {
    const { rt, model } = this;
    const V = model.config.vocabSize;
    const G = opts.n;
    const T = prompt.length;
    if (T === 0) throw new Error('generate: empty prompt');
    if (G < 1) throw new Error('generate: n must be at least 1');
    const maxLen = T + opts.maxNewTokens;
    if (maxLen > model.maxPositions) {
      throw new Error(`generate: prompt ${T} + ${opts.maxNewTokens} new tokens exceeds the model's ${model.maxPositions} positions`);
    }
    for (const id of prompt) if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`generate: token id ${id} outside the vocabulary (0..${V - 1})`);
    const cache = this.ensureCache(G, maxLen);

    // Prefill slot 0 with the prompt; logits of the last position only.
    const t0 = performance.now();
    const pre = this.rows(prompt, Array(T).fill(0), prompt.map((_, i) => i));
    const hidden = model.forward(pre, cache, this.acts);
    const logits = rt.empty([G, V], 'f32', 'logits');
    model.logits(hidden, T - 1, 1, logits);
    replicateWithin(rt, logits, 0, V, V, V, G - 1);
    cache.forkFirstSlot(G - 1, T);
    this.releaseRows(pre);

    // Every sampled id lands in history[step·G + g]; the step's G-slice feeds the next forward.
    const history = rt.empty([opts.maxNewTokens * G], 'u32', 'history');
    const logprobHistory = rt.empty([opts.maxNewTokens * G], 'f32', 'logprob-history');
    const scratch = rt.empty([G, V], 'f32', 'sample-scratch');
    const stepIds = rt.empty([G], 'u32', 'step-ids');
    const tokens: number[][] = Array.from({ length: G }, () => []);
    const finished = Array(G).fill(false);
    const eos = new Set(opts.eosIds);
    let prefillMs = 0;
    let decodeStart = 0;
    let steps = 0;
    const slots = Array.from({ length: G }, (_, g) => g);
    try {
      for (let step = 0; step < opts.maxNewTokens; step++) {
        if (step > 0) {
          rt.copy(history, stepIds, (step - 1) * G, 0, G);
          const batch = this.rows(stepIds, slots, slots.map(() => T + step - 1));
          const h = model.forward(batch, cache, this.acts);
          model.logits(h, 0, G, logits);
          this.releaseRows(batch, true);
        }
        sample(rt, logits, scratch, history, logprobHistory, G, V, opts.sampling, step, step * G);
        const ids = await rt.read(history, step * G, G);
        if (step === 0) {
          prefillMs = performance.now() - t0;
          decodeStart = performance.now();
        }
        steps = step + 1;
        for (let g = 0; g < G; g++) {
          if (finished[g]) continue;
          tokens[g].push(ids[g]);
          if (eos.has(ids[g])) finished[g] = true;
        }
        opts.onStep?.(step, tokens, finished);
        if (finished.every(Boolean) || opts.shouldStop?.()) break;
      }
      const decodeMs = performance.now() - decodeStart;
      const lp = await rt.read(logprobHistory, 0, steps * G);
      const logprobs = tokens.map((seq, g) => seq.map((_, s) => lp[s * G + g]));
      return {
        tokens,
        logprobs,
        finished,
        prefillMs,
        decodeMs,
        prefillTokensPerSec: (T / prefillMs) * 1000,
        decodeTokensPerSec: steps > 1 ? (((steps - 1) * G) / decodeMs) * 1000 : 0,
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
