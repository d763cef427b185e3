// The SFT trainer, beside GRPO's and sharing its loop (loop.ts: stops, checkpoints, held-out evaluation):
// each step draws a batch of (prompt, target) pairs, takes the token-mean cross-entropy of the target tokens
// micro-batch by micro-batch and one AdamW step. Token accuracy is the share of target tokens that greedy
// decoding would pick, measured on the weights before the step (as the loss is).
import type { GpuRuntime } from '../gpu/runtime.ts';
import type { SftReasoning } from '../data/sft.ts';
import type { TrainEvent } from './events.ts';
import { TrainingLoop, type LoopConfig } from './loop.ts';
import type { Policy } from './policy.ts';
import { accumulateGradients, sequenceLogprobs, type TrainSequence } from './gradients.ts';
import type { TrainerState } from './trainer.ts';
import type { RlExample, RlTask } from './task.ts';

export interface SftConfig extends LoopConfig {
  /** (prompt, target) pairs per optimizer step */
  batchSize: number;
  /** keep only each layer's input during the forward and recompute the rest in the backward */
  recomputeActivations: boolean;
  /** targets rendered for records without a completion: think part templated (or a record's reasoning) or empty */
  reasoning: SftReasoning;
}

export const DEFAULT_SFT: SftConfig = {
  steps: 100,
  batchSize: 8,
  maxNewTokens: 256,
  microBatch: 4,
  recomputeActivations: false,
  schedule: { kind: 'constant', lr: 1e-5 },
  beta1: 0.9,
  beta2: 0.999,
  weightDecay: 0.01,
  maxGradNorm: 1,
  evalEvery: 10,
  evalSize: 32,
  checkpointEvery: 10,
  seed: 0,
  reasoning: 'templated',
};

/** The completion to teach for a prompt: its tokens end with the end-of-turn (EOS) token. */
export interface SftTarget {
  targetIds: number[];
}

/** A task whose training prompts carry targets; held-out prompts are scored by the task's reward. */
export interface SftTask<E extends RlExample> extends RlTask<E> {
  train: (E & SftTarget)[];
}

/** Greedy choice from log-probs at this temperature: the target's is ≈ 0 when it is the arg-max, ≤ −ln 2 otherwise. */
const ARGMAX_TEMPERATURE = 1e-4;

export class SftTrainer<E extends RlExample> extends TrainingLoop<E> {
  constructor(
    rt: GpuRuntime,
    policy: Policy,
    readonly sftTask: SftTask<E>,
    readonly config: SftConfig,
    emit: (e: TrainEvent) => void,
    state?: TrainerState,
  ) {
    super(rt, policy, sftTask, config, emit, state);
  }

  async trainStep(): Promise<void> {
    const c = this.config;
    const t0 = performance.now();
    const batch = Array.from({ length: c.batchSize }, () => this.rng.pick(this.sftTask.train));
    this.state.rngState = this.rng.state;
    const seqs: TrainSequence[] = batch.map((e) => ({ promptIds: e.promptIds, completionIds: e.targetIds }));
    const tokens = seqs.reduce((n, s) => n + s.completionIds.length, 0);
    const greedy = await sequenceLogprobs(this.policy.model, seqs, ARGMAX_TEMPERATURE, c.microBatch);
    const hits = greedy.reduce((n, lp) => n + lp.filter((x) => x > -Math.LN2).length, 0);
    this.policy.zeroGrads();
    this.progress('update', 0, Math.ceil(seqs.length / c.microBatch));
    const r = await accumulateGradients(this.policy.model, this.policy.grads, seqs, { kind: 'sft' }, 1, c.microBatch, c.recomputeActivations, true, (d, n) =>
      this.progress('update', d, n),
    );
    const update = await this.optimize(r.loss);
    const ms = performance.now() - t0;
    this.state.step++;
    this.emit({ type: 'sft-step', step: this.state.step, loss: r.loss, tokenAccuracy: hits / tokens, ...update, tokens, tokensPerSec: (tokens / ms) * 1000, updateMs: ms });
  }
}
