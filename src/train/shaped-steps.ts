// Real GRPO steps shaped exactly like a GrpoMemorySetup (fixed prompt length, completions that never end
// early), for timing and for the GPU memory accounting (src/train/memory.ts runs them on the null device).
import type { GpuRuntime } from '../gpu/runtime.ts';
import type { LoadedModel } from '../model/source.ts';
import { instantiateModel } from '../model/instantiate.ts';
import { Policy } from './policy.ts';
import { GrpoTrainer, PAPER_GRPO, type GrpoConfig } from './trainer.ts';
import type { RlTask } from './task.ts';
import type { TrainEvent } from './events.ts';
import type { GrpoMemorySetup } from './memory.ts';
import { Rng } from '../util/random.ts';

/**
 * Random prompts of `length` ids; rewards alternate 0, 1, 0, ... whatever the text, so every group of two or
 * more has nonzero advantages and every sequence is trained (the worst case for time and memory).
 */
export function fixedLengthTask(vocab: number, prompts: number, length: number, seed = 1): RlTask {
  const rng = new Rng(seed);
  let scored = 0;
  const examples = Array.from({ length: prompts }, (_, i) => ({
    id: `p${i}`,
    promptIds: Array.from({ length }, () => rng.int(Math.min(vocab, 4000))),
  }));
  return {
    train: examples,
    heldout: examples,
    eosIds: [], // completions always run to maxNewTokens
    decode: (ids) => ids.join(' '),
    reward: () => ({ reward: scored++ % 2, signals: {} }),
  };
}

export function grpoConfigFor(setup: GrpoMemorySetup, steps: number): GrpoConfig {
  return {
    ...PAPER_GRPO,
    steps,
    promptsPerStep: setup.promptsPerStep,
    groupSize: setup.groupSize,
    maxNewTokens: setup.completionTokens,
    temperature: 1,
    iterations: setup.iterations,
    microBatch: setup.microBatch,
    recomputeActivations: setup.recompute,
    schedule: { kind: 'constant', lr: 1e-4 },
    objective: { ...PAPER_GRPO.objective, beta: setup.beta, maxCompletionLength: setup.completionTokens },
    evalEvery: 0,
    checkpointEvery: 0,
    seed: 3,
  };
}

export interface GrpoRun {
  /** rt.bytesHeld after the policy was created, and after each step */
  heldAfterPolicy: number;
  heldAfterSteps: number[];
  steps: Extract<TrainEvent, { type: 'step' }>[];
}

/**
 * Creates the policy (and, for full fine-tuning with β ≠ 0, the frozen reference model, as `train` does) and
 * runs `steps` GRPO steps on `rt` (use a fresh runtime: bytesHeld counts everything the runtime ever pooled).
 * Everything is released afterwards.
 */
export async function runGrpoSteps(rt: GpuRuntime, loaded: LoadedModel, setup: GrpoMemorySetup, steps = 1): Promise<GrpoRun> {
  const policy = Policy.create(rt, loaded, {
    mode: setup.mode,
    lora: setup.lora ? { rank: setup.lora.rank, alpha: 2 * setup.lora.rank, targets: setup.lora.targets } : undefined,
    maxPositions: setup.maxPositions,
    seed: 1,
  });
  const reference = setup.mode === 'full' && setup.beta !== 0 ? instantiateModel(rt, loaded, { maxPositions: setup.maxPositions }) : null;
  await rt.sync();
  const heldAfterPolicy = rt.bytesHeld;
  const events: Extract<TrainEvent, { type: 'step' }>[] = [];
  const task = fixedLengthTask(loaded.config.vocabSize, setup.promptsPerStep, setup.promptTokens);
  const trainer = new GrpoTrainer(rt, policy, task, grpoConfigFor(setup, steps), (e) => {
    if (e.type === 'step') events.push(e);
  }, reference);
  const heldAfterSteps: number[] = [];
  try {
    for (let i = 0; i < steps; i++) {
      await trainer.trainStep();
      await rt.sync();
      heldAfterSteps.push(rt.bytesHeld);
    }
  } finally {
    trainer.release();
    policy.release();
    reference?.release();
  }
  return { heldAfterPolicy, heldAfterSteps, steps: events };
}
