// Generation on onnxruntime-web with the engine Generator's contract (same options, same result), so the
// playground and the evaluation runner take either backend. Prompts are left-padded into one batch; each
// step reads back only the last position's logits and samples on the host (sample-host.ts).

import type { BatchGenerator, GenerateOptions, GenerateResult } from '../model/generate.ts';
import { OrtModelError, type OrtCausalLm } from './ort-model.ts';
import { sampleRow } from './sample-host.ts';

export class OrtGenerator implements BatchGenerator {
  /** what the evaluation runner reads of a generator's model */
  readonly model: { maxPositions: number };

  constructor(
    readonly lm: OrtCausalLm,
    readonly vocabSize: number,
    maxPositions: number,
  ) {
    this.model = { maxPositions };
  }

  generate(prompt: number[], opts: GenerateOptions): Promise<GenerateResult> {
    return this.generateBatch([prompt], opts);
  }

  /** Sequence p·n + g continues prompt p (as in Generator.generateBatch). */
  async generateBatch(prompts: number[][], opts: GenerateOptions): Promise<GenerateResult> {
    const V = this.vocabSize;
    const n = opts.n;
    if (prompts.length === 0) throw new OrtModelError('generate: no prompts');
    if (n < 1) throw new OrtModelError('generate: n must be at least 1');
    const longest = Math.max(...prompts.map((p) => p.length));
    if (Math.min(...prompts.map((p) => p.length)) === 0) throw new OrtModelError('generate: empty prompt');
    if (longest + opts.maxNewTokens > this.model.maxPositions) {
      throw new OrtModelError(`generate: prompt ${longest} + ${opts.maxNewTokens} new tokens exceeds the model's ${this.model.maxPositions} positions`);
    }
    for (const p of prompts) for (const id of p) if (!Number.isInteger(id) || id < 0 || id >= V) throw new OrtModelError(`generate: token id ${id} outside the vocabulary (0..${V - 1})`);
    const seqs = prompts.flatMap((p) => Array.from({ length: n }, () => p));
    const S = seqs.length;
    const ids = seqs.flatMap((p) => [...Array(longest - p.length).fill(0), ...p]);
    const valid = seqs.flatMap((p) => [...Array(longest - p.length).fill(0), ...p.map(() => 1)]);

    const t0 = performance.now();
    let state = this.lm.emptyState(S);
    const tokens: number[][] = Array.from({ length: S }, () => []);
    const logprobs: number[][] = Array.from({ length: S }, () => []);
    const finished = Array(S).fill(false);
    const eos = new Set(opts.eosIds);
    let prefillMs = 0;
    let decodeStart = 0;
    let steps = 0;
    let last: number[] = [];
    try {
      for (let step = 0; step < opts.maxNewTokens; step++) {
        const out = step === 0
          ? await this.lm.forward(state, ids, valid, 1)
          : await this.lm.forward(state, last, Array(S).fill(1), 1);
        state = out.state;
        last = Array.from({ length: S }, (_, s) => {
          const { id, logprob } = sampleRow(out.logits.subarray(s * V, (s + 1) * V), opts.sampling, s, step);
          if (!finished[s]) {
            tokens[s].push(id);
            logprobs[s].push(logprob);
            if (eos.has(id)) finished[s] = true;
          }
          return id;
        });
        if (step === 0) {
          prefillMs = performance.now() - t0;
          decodeStart = performance.now();
        }
        steps = step + 1;
        opts.onStep?.(step, tokens, finished);
        if (finished.every(Boolean) || opts.shouldStop?.()) break;
      }
    } finally {
      this.lm.releaseState(state);
    }
    const decodeMs = performance.now() - decodeStart;
    return {
      tokens,
      logprobs,
      finished,
      prefillMs,
      decodeMs,
      prefillTokensPerSec: ((prompts.reduce((a, p) => a + p.length, 0) * n) / prefillMs) * 1000,
      decodeTokensPerSec: steps > 1 ? (((steps - 1) * S) / decodeMs) * 1000 : 0,
    };
  }

  release(): Promise<void> {
    return this.lm.release();
  }
}
