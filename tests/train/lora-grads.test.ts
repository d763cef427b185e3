// LoRA adapter gradients against central finite differences of the engine's own loss.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpu } from '../helpers/gpu.ts';
import { dirSource } from '../../src/model/source-node.ts';
import { loadModel } from '../../src/model/source.ts';
import { Policy } from '../../src/train/policy.ts';
import { accumulateGradients, type TrainSequence } from '../../src/train/gradients.ts';
import { Rng } from '../../src/util/random.ts';

const MODEL = join(import.meta.dirname, '..', 'fixtures', 'models', 'gqa-untied-f32');

describe('LoRA gradients', () => {
  it('dA and dB match finite differences of the GRPO loss', async () => {
    const rt = await gpu();
    const loaded = await loadModel(dirSource(MODEL));
    const policy = Policy.create(rt, loaded, {
      mode: 'lora', lora: { rank: 2, alpha: 4, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] }, maxPositions: 16, seed: 5,
    });
    // Non-zero B so that A's gradient is non-zero too.
    const rng = new Rng(9);
    for (const p of policy.params) if (p.name.endsWith('lora_B.weight')) rt.write(p.param, rng.uniformArray(p.param.size, -0.3, 0.3));
    const seqs: TrainSequence[] = [
      { promptIds: [3, 7, 1], completionIds: [9, 40, 2], advantage: 1.3 },
      { promptIds: [5, 5], completionIds: [60, 1, 1, 8], advantage: -0.6 },
    ];
    const objective = { kind: 'grpo' as const, settings: { lossType: 'grpo' as const, epsilonLow: 0.2, epsilonHigh: 0.2, beta: 0, klClamp: null, maxCompletionLength: 4 } };
    // Off-policy old log-probs make the loss depend on the parameters (on-policy, its value is constant).
    const old = await accumulateGradients(policy.model, policy.grads, seqs, objective, 1, 2);
    seqs.forEach((s, i) => (s.oldLogprobs = Array.from(old.logprobs[i], (v) => v + 0.05)));
    const loss = async () => (await accumulateGradients(policy.model, policy.grads, seqs, objective, 1, 2)).loss;
    policy.zeroGrads();
    await loss();
    const checkedParams = policy.params.filter((_, i) => i % 5 === 0);
    const grads = await Promise.all(checkedParams.map((p) => rt.read(p.grad))); // before the probes add to them
    const h = 1e-2;
    let checked = 0;
    for (const [n, p] of checkedParams.entries()) {
      const grad = grads[n];
      const value = (await rt.read(p.param)) as Float32Array;
      for (const idx of [0, Math.floor(p.param.size / 2)]) {
        const orig = value[idx];
        rt.write(p.param, [orig + h], idx);
        const up = await loss();
        rt.write(p.param, [orig - h], idx);
        const down = await loss();
        rt.write(p.param, [orig], idx);
        const fd = (up - down) / (2 * h);
        expect(Math.abs(grad[idx] - fd), `${p.name}[${idx}]`).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
    policy.release();
  });
});
