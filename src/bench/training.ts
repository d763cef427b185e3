// Training benchmarks: GRPO steps on the synthetic tool-calling task (phase times, tokens/s, memory held),
// and one LoRA gradient step (forward + backward + AdamW) on a bigger model, with the engine's memory
// accounting (rt.bytesHeld) next to the same step's on the null device (src/train/memory.ts).
import type { GpuRuntime } from '../gpu/runtime.ts';
import type { LoadedModel } from '../model/source.ts';
import { tokenizerForModel } from '../model/tokenizer.ts';
import { generateSynthetic, type SyntheticLevel } from '../data/synthetic.ts';
import { toolCallTask } from '../train/toolcall-task.ts';
import { Policy, type LoraTarget } from '../train/policy.ts';
import { GrpoTrainer, PAPER_GRPO } from '../train/trainer.ts';
import type { TrainEvent } from '../train/events.ts';
import { accumulateGradients } from '../train/gradients.ts';
import { optimizerStep } from '../ops/optim.ts';
import { nullRuntime, zeroModel } from '../train/memory.ts';
import { Rng } from '../util/random.ts';

export const ALL_TARGETS: LoraTarget[] = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'];

export interface ToolcallGrpoOptions {
  mode: 'full' | 'lora';
  loraRank: number;
  steps: number;
  promptsPerStep: number;
  groupSize: number;
  maxNewTokens: number;
  microBatch: number;
  level: SyntheticLevel;
  log: (msg: string) => void;
}

export interface GrpoStepTiming {
  rolloutMs: number;
  scoringMs: number;
  updateMs: number;
  totalMs: number;
  completionTokens: number;
  /** prompt + completion tokens the update ran forward and backward */
  trainTokens: number;
  /** the trainer's own figure: completion tokens per second of the whole step */
  stepTokensPerSec: number;
  /** trainTokens per second of the update phase */
  updateTokensPerSec: number;
}

export interface ToolcallGrpoResult {
  model: string;
  mode: 'full' | 'lora';
  loraRank: number | null;
  promptsPerStep: number;
  groupSize: number;
  maxNewTokens: number;
  microBatch: number;
  meanPromptTokens: number;
  steps: GrpoStepTiming[];
  /** mean over steps after the first (pipeline compilation lands in step 1); step 1 alone when it is the only one */
  mean: GrpoStepTiming;
  bytesHeld: number;
}

function mean(xs: GrpoStepTiming[]): GrpoStepTiming {
  const keys = Object.keys(xs[0]) as (keyof GrpoStepTiming)[];
  return Object.fromEntries(keys.map((k) => [k, xs.reduce((a, x) => a + x[k], 0) / xs.length])) as unknown as GrpoStepTiming;
}

/** GRPO on synthetic tool-calling prompts rendered with the thinking template, binary reward. Use a fresh runtime. */
export async function benchToolcallGrpo(rt: GpuRuntime, loaded: LoadedModel, opts: ToolcallGrpoOptions): Promise<ToolcallGrpoResult> {
  const tokenizer = await tokenizerForModel(loaded);
  const train = generateSynthetic({ level: opts.level, split: 'train', seed: 11, count: 64 });
  const heldout = generateSynthetic({ level: opts.level, split: 'heldout', seed: 11, count: 8 });
  const maxPromptTokens = Math.min(1024, loaded.config.maxPositionEmbeddings - opts.maxNewTokens);
  const task = toolCallTask(tokenizer, train, heldout, { reward: 'binary', maxPromptTokens });
  const meanPromptTokens = task.train.reduce((n, e) => n + e.promptIds.length, 0) / task.train.length;
  const policy = Policy.create(rt, loaded, {
    mode: opts.mode,
    lora: opts.mode === 'lora' ? { rank: opts.loraRank, alpha: 2 * opts.loraRank, targets: ALL_TARGETS } : undefined,
    maxPositions: maxPromptTokens + opts.maxNewTokens,
    seed: 1,
  });
  const events: Extract<TrainEvent, { type: 'step' }>[] = [];
  const samples: Extract<TrainEvent, { type: 'sample' }>[] = [];
  const trainer = new GrpoTrainer(rt, policy, task, {
    ...PAPER_GRPO,
    steps: opts.steps,
    promptsPerStep: opts.promptsPerStep,
    groupSize: opts.groupSize,
    maxNewTokens: opts.maxNewTokens,
    microBatch: opts.microBatch,
    temperature: 1,
    schedule: { kind: 'constant', lr: 1e-4 },
    // β = 0 under full fine-tuning (no reference copy); LoRA keeps the paper's β (adapters-off reference pass)
    objective: { ...PAPER_GRPO.objective, beta: opts.mode === 'full' ? 0 : PAPER_GRPO.objective.beta, maxCompletionLength: opts.maxNewTokens },
    evalEvery: 0,
    checkpointEvery: 0,
    seed: 5,
  }, (e) => {
    if (e.type === 'step') events.push(e);
    if (e.type === 'sample') samples.push(e);
  });
  const steps: GrpoStepTiming[] = [];
  try {
    for (let i = 0; i < opts.steps; i++) {
      const before = samples.length;
      await trainer.trainStep();
      const e = events[events.length - 1];
      const mine = samples.slice(before);
      const completionTokens = mine.reduce((n, s) => n + s.tokens, 0);
      const promptLen = new Map(task.train.map((x) => [x.id, x.promptIds.length]));
      const trainTokens = mine.filter((s) => s.tokens > 0).reduce((n, s) => n + s.tokens + promptLen.get(s.exampleId)!, 0);
      const totalMs = e.rolloutMs + e.scoringMs + e.updateMs;
      steps.push({
        rolloutMs: e.rolloutMs,
        scoringMs: e.scoringMs,
        updateMs: e.updateMs,
        totalMs,
        completionTokens,
        trainTokens,
        stepTokensPerSec: e.tokensPerSec,
        updateTokensPerSec: (trainTokens / e.updateMs) * 1000,
      });
      opts.log(
        `  step ${i + 1}: rollout ${(e.rolloutMs / 1000).toFixed(2)} s, scoring ${e.scoringMs.toFixed(1)} ms, update ${(e.updateMs / 1000).toFixed(2)} s, ` +
          `${completionTokens} completion / ${trainTokens} trained tokens`,
      );
    }
  } finally {
    trainer.release();
  }
  await rt.sync();
  const bytesHeld = rt.bytesHeld;
  policy.release();
  return {
    model: loaded.source,
    mode: opts.mode,
    loraRank: opts.mode === 'lora' ? opts.loraRank : null,
    promptsPerStep: opts.promptsPerStep,
    groupSize: opts.groupSize,
    maxNewTokens: opts.maxNewTokens,
    microBatch: opts.microBatch,
    meanPromptTokens,
    steps,
    mean: mean(steps.length > 1 ? steps.slice(1) : steps),
    bytesHeld,
  };
}

export interface LoraStepOptions {
  rank: number;
  promptTokens: number;
  completionTokens: number;
  recompute: boolean;
  log: (msg: string) => void;
}

export interface LoraStepResult {
  model: string;
  rank: number;
  weightDtype: string;
  rows: number;
  recompute: boolean;
  /** zeroGrads + forward + log-probs + backward of one micro-batch of one sequence */
  gradientMs: number;
  optimizerMs: number;
  tokensPerSec: number;
  bytesHeld: number;
  /** the same step's rt.bytesHeld on the null device (src/train/memory.ts) */
  predictedBytes: number;
}

/** One LoRA gradient step (one micro-batch of one sequence) and AdamW on `rt`: its times and rt.bytesHeld. */
async function loraStep(rt: GpuRuntime, loaded: LoadedModel, opts: LoraStepOptions) {
  const len = opts.promptTokens + opts.completionTokens;
  const policy = Policy.create(rt, loaded, {
    mode: 'lora',
    lora: { rank: opts.rank, alpha: 2 * opts.rank, targets: ALL_TARGETS },
    maxPositions: len,
    seed: 1,
  });
  await rt.sync();
  const rng = new Rng(3);
  const ids = Array.from({ length: len }, () => rng.int(Math.min(loaded.config.vocabSize, 4000)));
  const seq = { promptIds: ids.slice(0, opts.promptTokens), completionIds: ids.slice(opts.promptTokens), advantage: 1 };
  const t0 = performance.now();
  policy.zeroGrads();
  const objective = { kind: 'grpo' as const, settings: { ...PAPER_GRPO.objective, beta: 0 } };
  await accumulateGradients(policy.model, policy.grads, [seq], objective, 1, 1, opts.recompute);
  const t1 = performance.now();
  optimizerStep(rt, policy.params, policy.gradNorm, { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxNorm: 1 }, 1);
  await rt.read(policy.gradNorm, 0, 1);
  const t2 = performance.now();
  const bytesHeld = rt.bytesHeld;
  const weightDtype = policy.model.weights.layers[0].qkv.dtype;
  policy.release();
  return { gradientMs: t1 - t0, optimizerMs: t2 - t1, bytesHeld, weightDtype };
}

/**
 * One LoRA gradient step (one micro-batch of one sequence) and AdamW. Use a fresh runtime. The prediction is
 * the same step on the null device (src/train/memory.ts).
 */
export async function benchLoraStep(rt: GpuRuntime, loaded: LoadedModel, opts: LoraStepOptions): Promise<LoraStepResult> {
  const len = opts.promptTokens + opts.completionTokens;
  const real = await loraStep(rt, loaded, opts);
  const nullRt = await nullRuntime(rt.info.f16, rt.device.limits.maxBufferSize, rt.device.limits.minUniformBufferOffsetAlignment);
  const predicted = await loraStep(nullRt, zeroModel(loaded.config, rt.info.f16 ? 'f16' : 'f32'), opts);
  nullRt.destroy();
  opts.log(`  gradient ${(real.gradientMs / 1000).toFixed(1)} s, AdamW ${(real.optimizerMs / 1000).toFixed(2)} s, held ${(real.bytesHeld / 2 ** 20).toFixed(1)} MiB`);
  return {
    model: loaded.source,
    rank: opts.rank,
    weightDtype: real.weightDtype,
    rows: len,
    recompute: opts.recompute,
    gradientMs: real.gradientMs,
    optimizerMs: real.optimizerMs,
    tokensPerSec: (len / real.gradientMs) * 1000,
    bytesHeld: real.bytesHeld,
    predictedBytes: predicted.bytesHeld,
  };
}
