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
