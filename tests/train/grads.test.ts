// The whole backward (GRPO and SFT objectives) against PyTorch autograd fixtures (scripts/make_fixtures.py).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpu } from '../helpers/gpu.ts';
import { dirSource } from '../../src/model/source-node.ts';
import { loadModel } from '../../src/model/source.ts';
import { parseSafetensors, toFloat32 } from '../../src/model/safetensors.ts';
import { parseGradBatch } from '../../src/train/batch-file.ts';
import { batchGradients } from '../../src/train/grads.ts';
import { Policy } from '../../src/train/policy.ts';
import { accumulateGradients, sequenceLogprobs, type Objective, type TrainSequence } from '../../src/train/gradients.ts';
import type { GrpoSettings } from '../../src/train/objectives.ts';
import { Rng } from '../../src/util/random.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const cases = readdirSync(join(FIXTURES, 'grads'));

describe('model gradients against PyTorch autograd', () => {
  it('has fixtures', () => expect(cases.length).toBeGreaterThan(0));
  for (const name of cases) {
    it(name, async () => {
      const dir = join(FIXTURES, 'grads', name);
      const modelName = readdirSync(join(FIXTURES, 'models')).find((m) => name.startsWith(`${m}-`))!;
      const loaded = await loadModel(dirSource(join(FIXTURES, 'models', modelName)));
      const batch = parseGradBatch(JSON.parse(readFileSync(join(dir, 'batch.json'), 'utf8')));
      const expected = parseSafetensors(readFileSync(join(dir, 'grads.safetensors')), 'grads.safetensors');
      const { loss, grads } = await batchGradients(await gpu(), loaded, batch);
      const wantLoss = Number(expected.metadata.loss);
      expect(Math.abs(loss - wantLoss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(wantLoss)));
      expect([...grads.keys()].sort()).toEqual([...expected.tensors.keys()].sort());
      for (const [tensor, view] of expected.tensors) {
        const want = toFloat32(view);
        const got = grads.get(tensor)!;
        let scale = 0;
        let worst = 0;
        for (let i = 0; i < want.length; i++) {
          scale = Math.max(scale, Math.abs(want[i]));
          worst = Math.max(worst, Math.abs(got[i] - want[i]));
        }
        expect(worst / Math.max(scale, 1e-12), tensor).toBeLessThan(1e-4);
      }
    });
  }
});

describe('activation recomputation', () => {
  it('gives bit-identical gradients', async () => {
    const name = 'gqa-untied-f32-grpo';
    const loaded = await loadModel(dirSource(join(FIXTURES, 'models', 'gqa-untied-f32')));
    const batch = parseGradBatch(JSON.parse(readFileSync(join(FIXTURES, 'grads', name, 'batch.json'), 'utf8')));
    const kept = await batchGradients(await gpu(), loaded, batch);
    const recomputed = await batchGradients(await gpu(), loaded, batch, true);
    expect(recomputed.loss).toBe(kept.loss);
    for (const [tensor, g] of kept.grads) expect(Buffer.from(recomputed.grads.get(tensor)!.buffer).equals(Buffer.from(g.buffer)), tensor).toBe(true);
  });
});

describe('GRPO groups: one shared prompt, no wasted work', () => {
  const settings = (beta: number): GrpoSettings => ({ lossType: 'grpo', epsilonLow: 0.2, epsilonHigh: 0.2, beta, klClamp: 10, maxCompletionLength: 8 });
  // Two groups (one prompt of 5 tokens, one of a single token: an empty shared prefix) and a lone prompt.
  const promptA = [3, 7, 1, 12, 40];
  const promptB = [5];
  const batch = (advantages: number[]): TrainSequence[] =>
    [
      [promptA, [9, 40, 2]], [promptA, [61]], [promptA, [8, 8, 30, 2]], [promptB, [60, 1, 1]], [promptB, [17, 4]], [[22, 23], [50, 51]],
    ].map(([promptIds, completionIds], i) => ({ promptIds, completionIds, advantage: advantages[i] }));

  async function gradsOf(policy: Policy, seqs: TrainSequence[], objective: Objective, share: boolean) {
    policy.zeroGrads();
    // micro-batches of 4: the first group is whole, the second is split across two micro-batches
    const r = await accumulateGradients(policy.model, policy.grads, seqs, objective, 0.9, 4, false, share);
    return { r, grads: await Promise.all(policy.params.map(async (p) => (await policy.rt.read(p.grad)) as Float32Array)) };
  }

  function expectClose(a: Float32Array[], b: Float32Array[], tol: number) {
    a.forEach((g, i) => {
      let scale = 0;
      let worst = 0;
      for (let j = 0; j < g.length; j++) {
        scale = Math.max(scale, Math.abs(b[i][j]));
        worst = Math.max(worst, Math.abs(g[j] - b[i][j]));
      }
      expect(worst / Math.max(scale, 1e-12), `param ${i}`).toBeLessThan(tol);
    });
  }

  it('sharing each group\'s prompt gives the loss, log-probs and every gradient of separate copies (β ≠ 0, off-policy)', async () => {
    const rt = await gpu();
    const loaded = await loadModel(dirSource(join(FIXTURES, 'models', 'gqa-untied-f32')));
    const policy = Policy.create(rt, loaded, { mode: 'full', maxPositions: 16, seed: 0 });
    const seqs = batch([1.2, -0.7, 0.4, 0.9, -0.9, 0.3]);
    const shared = await sequenceLogprobs(policy.model, seqs, 0.9, 4); // old and reference log-probs share too
    const rng = new Rng(3);
    seqs.forEach((s, i) => {
      const n = shared[i].length;
      const [dOld, dRef] = [rng.uniformArray(n, -0.3, 0.3), rng.uniformArray(n, -0.5, 0.5)];
      s.oldLogprobs = Array.from(shared[i], (v, t) => v + dOld[t]);
      s.refLogprobs = Array.from(shared[i], (v, t) => v + dRef[t]);
    });
    const objective: Objective = { kind: 'grpo', settings: settings(0.04) };
    const a = await gradsOf(policy, seqs, objective, true);
    const b = await gradsOf(policy, seqs, objective, false);
    expect(Math.abs(a.r.loss - b.r.loss)).toBeLessThan(1e-6 * Math.max(1, Math.abs(b.r.loss)));
    expect(a.r.clipFraction).toBe(b.r.clipFraction);
    a.r.logprobs.forEach((lp, i) => lp.forEach((v, t) => {
      expect(Math.abs(v - b.r.logprobs[i][t])).toBeLessThan(1e-5);
      expect(Math.abs(v - shared[i][t])).toBeLessThan(1e-5);
    }));
    expectClose(a.grads, b.grads, 1e-5);
    policy.release();
  });

  it('β = 0: advantage-0 sequences are left out with the same gradient; all advantages 0: nothing runs', async () => {
    const rt = await gpu();
    const loaded = await loadModel(dirSource(join(FIXTURES, 'models', 'gqa-untied-f32')));
    const policy = Policy.create(rt, loaded, { mode: 'full', maxPositions: 16, seed: 0 });
    const seqs = batch([1.2, 0, -0.4, 0, 0, 0.3]);
    const skipped = await gradsOf(policy, seqs, { kind: 'grpo', settings: settings(0) }, true);
    expect(skipped.r.sequences).toBe(3);
    // β ≠ 0 keeps every sequence; with the reference equal to the policy its KL gradient is exactly 0,
    // so this is the gradient of running all six.
    const current = await sequenceLogprobs(policy.model, seqs, 0.9, 4);
    seqs.forEach((s, i) => (s.refLogprobs = Array.from(current[i])));
    const all = await gradsOf(policy, seqs, { kind: 'grpo', settings: settings(1e-3) }, true);
    expect(all.r.sequences).toBe(6);
    expect(Math.abs(skipped.r.loss - all.r.loss)).toBeLessThan(1e-6);
    expectClose(skipped.grads, all.grads, 1e-5);
    const none = await gradsOf(policy, batch([0, 0, 0, 0, 0, 0]), { kind: 'grpo', settings: settings(0) }, true);
    expect(none.r).toMatchObject({ sequences: 0, loss: 0 });
    for (const g of none.grads) expect(g.every((v) => v === 0)).toBe(true);
    policy.release();
  });
});

describe('grads batch validation', () => {
  it('names the offending field', () => {
    expect(() => parseGradBatch({ objective: 'ppo', sequences: [] })).toThrow(/objective/);
    expect(() => parseGradBatch({ objective: 'grpo', beta: 0.1, sequences: [{ prompt_ids: [1], completion_ids: [2], advantage: 1 }] })).toThrow(
      /sequences\[0\]\.ref_logprobs/,
    );
    expect(() => parseGradBatch({ objective: 'sft', sequences: [{ prompt_ids: [1, -2], completion_ids: [2] }] })).toThrow(/prompt_ids\[1\]/);
    expect(existsSync(FIXTURES)).toBe(true);
  });
});
