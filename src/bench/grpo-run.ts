// Real GRPO steps shaped exactly like a GrpoMemorySetup (fixed prompt length, completions that never end
// early), for timing and for checking src/train/memory.ts against rt.bytesHeld.
import type { GpuRuntime } from '../gpu/runtime.ts';
import type { LoadedModel } from '../model/source.ts';
import { Policy } from '../train/policy.ts';
import { GrpoTrainer, PAPER_GRPO, type GrpoConfig, type RlTask } from '../train/trainer.ts';
import type { TrainEvent } from '../train/events.ts';
import type { GrpoMemorySetup } from '../train/memory.ts';
import { Rng } from '../util/random.ts';

/** Random prompts of `length` ids; reward = parity of the first completion token (so advantages are nonzero). */
export function fixedLengthTask(vocab: number, prompts: number, length: number, seed = 1): RlTask {
  const rng = new Rng(seed);
  const examples = Array.from({ length: prompts }, (_, i) => ({
    id: `p${i}`,
    promptIds: Array.from({ length }, () => rng.int(Math.min(vocab, 4000))),
  }));
  return {
    train: examples,
    heldout: examples,
    eosIds: [], // completions always run to maxNewTokens
    decode: (ids) => ids.join(' '),
    reward: (text) => ({ reward: Number(text.split(' ')[0]) % 2, signals: {} }),
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
 * Creates the policy and runs `steps` GRPO steps on `rt` (use a fresh runtime: bytesHeld counts everything
 * the runtime ever pooled). The policy is released afterwards.
 */
export async function runGrpoSteps(rt: GpuRuntime, loaded: LoadedModel, setup: GrpoMemorySetup, steps = 1): Promise<GrpoRun> {
  if (setup.mode === 'full' && setup.beta !== 0) throw new Error('runGrpoSteps: full fine-tuning with β ≠ 0 needs a reference model');
  const policy = Policy.create(rt, loaded, {
    mode: setup.mode,
    lora: setup.lora ? { rank: setup.lora.rank, alpha: 2 * setup.lora.rank, targets: setup.lora.targets } : undefined,
    maxPositions: setup.maxPositions,
    seed: 1,
  });
  await rt.sync();
  const heldAfterPolicy = rt.bytesHeld;
  const events: Extract<TrainEvent, { type: 'step' }>[] = [];
  const task = fixedLengthTask(loaded.config.vocabSize, setup.promptsPerStep, setup.promptTokens);
  const trainer = new GrpoTrainer(rt, policy, task, grpoConfigFor(setup, steps), (e) => {
    if (e.type === 'step') events.push(e);
  });
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
  }
  return { heldAfterPolicy, heldAfterSteps, steps: events };
}
