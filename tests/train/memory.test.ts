// src/train/memory.ts runs a GRPO step on the null device; here its figures meet rt.bytesHeld after the same
// steps on the real device (fresh runtimes: bytesHeld counts all a runtime's pool ever held).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../../src/gpu/node.ts';
import { dirSource, embeddedDirSource } from '../../src/model/source-node.ts';
import { loadModel, type LoadedModel } from '../../src/model/source.ts';
import { parseQwen2Config } from '../../src/model/config.ts';
import { grpoStepMemory, type GrpoMemorySetup } from '../../src/train/memory.ts';
import { runGrpoSteps } from '../../src/train/shaped-steps.ts';
import { randomModel } from '../../src/bench/random-model.ts';
import { memoryTargets } from '../../src/bench/memory-targets.ts';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'models', 'gqa-tied-bf16');

/** 0.5B's head layout (GQA 2 kv heads, head_dim 64) at a width a CPU runs in seconds; untied LM head. */
const MID = parseQwen2Config(
  {
    model_type: 'qwen2', hidden_size: 128, intermediate_size: 352, num_hidden_layers: 2, num_attention_heads: 2,
    num_key_value_heads: 1, head_dim: 64, rms_norm_eps: 1e-6, rope_theta: 1e6, vocab_size: 2048, tie_word_embeddings: false,
  },
  'mid',
);

interface Case {
  name: string;
  model: () => Promise<LoadedModel>;
  setup: Omit<GrpoMemorySetup, 'config'>;
  steps: number;
}

const base = {
  mode: 'lora' as const, baseDtype: 'f32' as const, promptsPerStep: 1, groupSize: 3, promptTokens: 6, completionTokens: 3,
  microBatch: 1, beta: 0.001, iterations: 1, recompute: false, maxPositions: 16,
};

const cases: Case[] = [
  {
    name: 'embedded model, LoRA on q/v/gate/down, micro-batch 1, β ≠ 0, two steps',
    model: () => loadModel(embeddedDirSource()),
    setup: { ...base, groupSize: 2, lora: { rank: 4, targets: ['q', 'v', 'gate', 'down'] } },
    steps: 2,
  },
  {
    name: 'untied random model, LoRA everywhere, uneven micro-batches, recomputation, μ = 2',
    model: async () => randomModel(MID, 3),
    setup: { ...base, promptsPerStep: 2, groupSize: 2, promptTokens: 5, microBatch: 3, recompute: true, iterations: 2, lora: { rank: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] } },
    steps: 1,
  },
  {
    name: 'fixture model, full fine-tuning, micro-batch 2, β = 0',
    model: () => loadModel(dirSource(FIXTURE)),
    setup: { ...base, mode: 'full', beta: 0, microBatch: 2, groupSize: 4 },
    steps: 1,
  },
];

describe('GRPO step memory accounting', () => {
  for (const c of cases) {
    it(`matches rt.bytesHeld: ${c.name}`, async () => {
      const loaded = await c.model();
      const rt = await createNodeRuntime();
      // a frozen LoRA base is f16 where the adapter has shader-f16 (not on SwiftShader)
      const setup: GrpoMemorySetup = { ...c.setup, config: loaded.config, baseDtype: rt.info.f16 ? 'f16' : 'f32' };
      try {
        const run = await runGrpoSteps(rt, loaded, setup, c.steps);
        expect((await grpoStepMemory({ ...setup, steps: 0 })).heldBytes).toBe(run.heldAfterPolicy);
        for (let s = 1; s <= c.steps; s++) {
          const predicted = (await grpoStepMemory({ ...setup, steps: s })).heldBytes;
          const measured = run.heldAfterSteps[s - 1];
          expect(Math.abs(predicted - measured) / measured).toBeLessThan(0.01);
        }
      } finally {
        rt.destroy();
      }
    }, 300_000);
  }

  it('computes the 0.5B target configuration (G = 8, 512 + 256 tokens) for f16 and f32 bases', { timeout: 300_000 }, async () => {
    const t = await memoryTargets();
    expect(t).toHaveLength(4);
    for (const x of t) {
      // weights alone: 494M parameters at 2 or 4 bytes, before the pool's size-class rounding
      expect(x.report.byCategory.weights).toBeGreaterThan(494e6 * (x.baseDtype === 'f16' ? 2 : 4));
      expect(x.report.heldBytes).toBeGreaterThanOrEqual(x.report.peakLiveBytes);
    }
    // recomputation keeps one layer's intermediates instead of 24
    const f16 = t.filter((x) => x.baseDtype === 'f16');
    expect(f16[1].report.byCategory.activations).toBeLessThan(f16[0].report.byCategory.activations / 5);
  });
});
