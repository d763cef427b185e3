// The whole model against PyTorch (scripts/make_fixtures.py), then cache and batching invariants.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpu } from '../helpers/gpu.ts';
import { dirSource } from '../../src/model/source-node.ts';
import { loadModel } from '../../src/model/source.ts';
import { instantiateModel } from '../../src/model/instantiate.ts';
import { Generator } from '../../src/model/generate.ts';
import { logSoftmaxAt } from '../../src/reference/sample.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'models');
const names = existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((n) => existsSync(join(FIXTURES, n, 'expected.json'))) : [];

/** max |a − b| over all logits, relative to the largest |logit| of the reference */
function logitError(got: Float32Array, want: number[][]): number {
  const flat = want.flat();
  const scale = Math.max(...flat.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < flat.length; i++) worst = Math.max(worst, Math.abs(got[i] - flat[i]));
  return worst / scale;
}

describe('Qwen2 forward against PyTorch fixtures', () => {
  it('has fixtures', () => expect(names.length).toBeGreaterThan(0));
  for (const name of names) {
    it(name, async () => {
      const rt = await gpu();
      const expected = JSON.parse(readFileSync(join(FIXTURES, name, 'expected.json'), 'utf8')) as { ids: number[]; logits: number[][] };
      const loaded = await loadModel(dirSource(join(FIXTURES, name)));
      const model = instantiateModel(rt, loaded, { maxPositions: 64, matrixDtype: 'f32' });
      const gen = new Generator(model);
      expect(logitError(await gen.allLogits(expected.ids), expected.logits)).toBeLessThan(1e-4);
      gen.release();
    });
  }
});

describe('KV cache and batching', () => {
  it('decoding with the cache reproduces prefill logits at every position; batch = one at a time; seeds repeat', async () => {
    if (names.length === 0) return;
    const rt = await gpu();
    const loaded = await loadModel(dirSource(join(FIXTURES, names[0])));
    const model = instantiateModel(rt, loaded, { maxPositions: 64, matrixDtype: 'f32' });
    const gen = new Generator(model);
    // prepare() compiles up front every pipeline generation then uses.
    const progress: [number, number][] = [];
    await gen.prepare((done, total) => progress.push([done, total]));
    expect(progress.at(-1)![0]).toBe(progress.at(-1)![1]);
    const compiled = rt.kernels.size;
    const V = loaded.config.vocabSize;
    const prompt = [3, 1, 4, 1, 5];
    // Greedy continuation of 6 tokens, then the full prefill of prompt + continuation: the argmax at each
    // decode position must be what prefill's logits say.
    const greedy = await gen.generate(prompt, { n: 1, maxNewTokens: 6, eosIds: [], sampling: { temperature: 0, topK: 0, topP: 1, seed: 0 } });
    expect(rt.kernels.size).toBe(compiled);
    const seq = [...prompt, ...greedy.tokens[0]];
    const full = await gen.allLogits(seq);
    for (let s = 0; s < 6; s++) {
      const row = full.subarray((prompt.length - 1 + s) * V, (prompt.length + s) * V);
      let best = 0;
      for (let i = 1; i < V; i++) if (row[i] > row[best]) best = i;
      expect(greedy.tokens[0][s]).toBe(best);
    }
    // Sampling streams are keyed by (seed, sequence, step): the same seed repeats, sequence 0 of a batch is
    // the sequence generated alone, and greedy rows of a batch equal the single greedy sequence.
    const sampling = { temperature: 0.8, topK: 0, topP: 0.95, seed: 11 };
    const a = await gen.generate(prompt, { n: 4, maxNewTokens: 8, eosIds: [], sampling });
    const b = await gen.generate(prompt, { n: 4, maxNewTokens: 8, eosIds: [], sampling });
    expect(b.tokens).toEqual(a.tokens);
    const alone = await gen.generate(prompt, { n: 1, maxNewTokens: 8, eosIds: [], sampling });
    expect(alone.tokens[0]).toEqual(a.tokens[0]);
    expect(new Set(a.tokens.map((t) => t.join(','))).size).toBeGreaterThan(1);
    const batchedGreedy = await gen.generate(prompt, { n: 3, maxNewTokens: 6, eosIds: [], sampling: { temperature: 0, topK: 0, topP: 1, seed: 0 } });
    for (const t of batchedGreedy.tokens) expect(t).toEqual(greedy.tokens[0]);
    // Several prompts decoded together give what each gives alone (greedy).
    const other = [7, 2, 9];
    const otherAlone = await gen.generate(other, { n: 1, maxNewTokens: 6, eosIds: [], sampling: { temperature: 0, topK: 0, topP: 1, seed: 0 } });
    const both = await gen.generateBatch([prompt, other], { n: 2, maxNewTokens: 6, eosIds: [], sampling: { temperature: 0, topK: 0, topP: 1, seed: 0 } });
    expect(both.tokens).toEqual([greedy.tokens[0], greedy.tokens[0], otherAlone.tokens[0], otherAlone.tokens[0]]);
    // Sampled log-probs agree with the full forward's log-softmax(logits / T).
    const seqA = [...prompt, ...a.tokens[2]];
    const fullA = await gen.allLogits(seqA);
    for (let s = 0; s < 8; s++) {
      const row = fullA.subarray((prompt.length - 1 + s) * V, (prompt.length + s) * V);
      expect(Math.abs(a.logprobs[2][s] - logSoftmaxAt(row, a.tokens[2][s], 0.8))).toBeLessThan(1e-4);
    }
    gen.release();
  });
});
