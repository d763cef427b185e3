// The memory target: a GRPO step on the Qwen2.5-0.5B shape with LoRA, G = 8 completions of 256
// tokens after a 512-token prompt, micro-batch 1, holds at most 3 GiB with an f16 base and 4 GiB with f32.
// Computed by src/train/memory.ts (the engine on the null device; checked against rt.bytesHeld after real steps
// by tests/train/memory.test.ts), not measured on a GPU.
import { grpoStepMemory, type GrpoMemorySetup, type MemoryReport } from '../train/memory.ts';
import { PAPER_GRPO } from '../train/trainer.ts';
import { qwen25HalfBConfig } from './random-model.ts';
import { ALL_TARGETS } from './training.ts';

export interface MemoryTarget {
  label: string;
  baseDtype: 'f16' | 'f32';
  recompute: boolean;
  setup: GrpoMemorySetup;
  report: MemoryReport;
  targetBytes: number;
}

export const TARGET_BYTES = { f16: 3 * 2 ** 30, f32: 4 * 2 ** 30 } as const;

export function targetSetup(baseDtype: 'f16' | 'f32', recompute: boolean, loraRank = 16): GrpoMemorySetup {
  return {
    config: qwen25HalfBConfig(),
    mode: 'lora',
    baseDtype,
    lora: { rank: loraRank, targets: ALL_TARGETS },
    promptsPerStep: 1,
    groupSize: 8,
    promptTokens: 512,
    completionTokens: 256,
    microBatch: 1,
    beta: PAPER_GRPO.objective.beta, // 0.001: the reference pass (adapters off) runs
    iterations: 1,
    recompute,
    maxPositions: 768,
    // a real GPU's limit (SwiftShader's is 1 GiB); no tensor here comes near either
    maxBufferSize: 2 ** 31,
  };
}

export async function memoryTargets(loraRank = 16): Promise<MemoryTarget[]> {
  const out: MemoryTarget[] = [];
  for (const baseDtype of ['f16', 'f32'] as const) {
    for (const recompute of [false, true]) {
      const setup = targetSetup(baseDtype, recompute, loraRank);
      out.push({
        label: `G=8, 512+256 tokens, mb 1, r${loraRank}`,
        baseDtype,
        recompute,
        setup,
        report: await grpoStepMemory(setup),
        targetBytes: TARGET_BYTES[baseDtype],
      });
    }
  }
  return out;
}
