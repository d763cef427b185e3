// The GRPO trainer: roll out G completions per prompt with the batched engine, score them, normalise
// advantages per group, then μ optimisation passes of micro-batched forward/backward/AdamW. It emits
// events as it goes and checkpoints its whole state (the loop, stops and evaluation: loop.ts). Runs
// unchanged in a Web Worker and in Node.

import type { GpuRuntime } from '../gpu/runtime.ts';
import type { Qwen2Model } from '../model/model.ts';
import { Rng } from '../util/random.ts';
import { groupAdvantages, groupStats, type GrpoSettings, type ScaleRewards } from './objectives.ts';
import type { Policy } from './policy.ts';
import { accumulateGradients, contributes, sequenceLogprobs, type Objective, type TrainSequence } from './gradients.ts';
import { learningRate, type LrSchedule } from './schedule.ts';
import type { StepTrace, TokenTrace, TrainEvent } from './events.ts';
import { TrainingLoop } from './loop.ts';
import type { StepThrough } from './step-through.ts';
import type { RewardOutcome, RlExample, RlTask } from './task.ts';

/** In step-through mode, the rollouts' texts stream at most this often. */
const STREAM_MS = 100;

export interface GrpoConfig {
  steps: number;
  promptsPerStep: number;
  groupSize: number;
  maxNewTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  /** optimisation passes over each rollout batch (μ) */
  iterations: number;
  /** optimizer steps per pass: the rollout batch's groups split into this many mini-batches (verl: 4) */
  miniBatches: number;
  microBatch: number;
  /** keep only each layer's input during the forward and recompute the rest in the backward */
  recomputeActivations: boolean;
  schedule: LrSchedule;
  beta1: number;
  beta2: number;
  weightDecay: number;
  maxGradNorm: number;
  objective: Omit<GrpoSettings, 'batch' | 'generationBatchTokens'>;
  scaleRewards: ScaleRewards;
  advantageEps: number;
  evalEvery: number;
  evalSize: number;
  checkpointEvery: number;
  seed: number;
}

/** The paper's settings (verl), scaled to what fits a browser: see README "GRPO settings". */
export const PAPER_GRPO: GrpoConfig = {
  steps: 100,
  promptsPerStep: 8,
  groupSize: 5,
  maxNewTokens: 256,
  temperature: 0.7,
  topP: 1,
  topK: 0,
  iterations: 1,
  miniBatches: 1,
  microBatch: 4,
  recomputeActivations: false,
  schedule: { kind: 'constant', lr: 1e-6 },
  beta1: 0.9,
  beta2: 0.999,
  weightDecay: 0.01,
  maxGradNorm: 1,
  objective: { lossType: 'bnpo', epsilonLow: 0.2, epsilonHigh: 0.2, beta: 0.001, klClamp: 10, maxCompletionLength: 256 },
  scaleRewards: 'group',
  advantageEps: 1e-6,
  evalEvery: 10,
  evalSize: 32,
  checkpointEvery: 10,
  seed: 0,
};

/** Everything needed to continue a run exactly: the optimiser's step count and the data RNG. */
export interface TrainerState {
  step: number;
  optimizerSteps: number;
  rngState: number;
}

export interface Rollout {
  example: RlExample;
  completions: number[][];
  texts: string[];
  rewards: RewardOutcome[];
}

/** Step-through: one completion's per-token log-probs around the update (see TokenTrace). */
interface TokenRecord {
  before: ArrayLike<number>;
  ratio?: Float64Array;
  clipped?: Uint8Array;
  after?: ArrayLike<number>;
}

export class GrpoTrainer<E extends RlExample> extends TrainingLoop<E> {
  /** step-through mode's switch and gate (the studio sets it); null or off: steps neither trace nor wait */
  stepThrough: StepThrough | null = null;

  constructor(
    rt: GpuRuntime,
    policy: Policy,
    task: RlTask<E>,
    readonly config: GrpoConfig,
    emit: (e: TrainEvent) => void,
    /** frozen copy of the starting weights (full fine-tuning with β ≠ 0); LoRA uses adapters-off */
    readonly reference: Qwen2Model | null = null,
    state?: TrainerState,
  ) {
    super(rt, policy, task, config, emit, state);
    if (!Number.isInteger(config.miniBatches) || config.miniBatches < 1 || config.miniBatches > config.promptsPerStep) {
      throw new Error(`miniBatches must be a whole number from 1 to promptsPerStep (${config.promptsPerStep}), got ${config.miniBatches}`);
    }
  }

  /** One GRPO step: rollout → scoring → advantages → μ × (gradients → AdamW). */
  async trainStep(): Promise<void> {
    const c = this.config;
    const step = this.state.step;
    const traced = this.stepThrough?.enabled ?? false;
    const clock = () => this.stepClock();
    const t0 = clock();
    const examples = Array.from({ length: c.promptsPerStep }, () => this.rng.pick(this.task.train));
    this.state.rngState = this.rng.state;
    // All prompts of the step decode together: each prefilled once, forked into its G sequences.
    const streamed = traced ? this.streamRollouts(step, examples) : undefined;
    const out = await this.generator.generateBatch(examples.map((e) => e.promptIds), {
      n: c.groupSize,
      maxNewTokens: c.maxNewTokens,
      eosIds: this.task.eosIds,
      sampling: { temperature: c.temperature, topP: c.topP, topK: c.topK, seed: stepSeed(c.seed, step) },
      onStep: (k, tokens) => {
        this.progress('rollout', k + 1, c.maxNewTokens);
        streamed?.(k, tokens);
      },
    });
    const generated = out.tokens.reduce((n, t) => n + t.length, 0);
    const rollouts: Rollout[] = examples.map((example, i) => ({
      example, completions: out.tokens.slice(i * c.groupSize, (i + 1) * c.groupSize), texts: [], rewards: [],
    }));
    const t1 = clock();
    this.progress('scoring', 0, rollouts.length);
    for (const r of rollouts) r.texts = r.completions.map((ids) => this.task.decode(ids));
    if (traced) await this.phase(step, { phase: 'rollout', groups: rollouts.map((r) => ({ exampleId: r.example.id, texts: r.texts })), done: true });
    for (const r of rollouts) r.rewards = r.texts.map((text) => this.task.reward(text, r.example as E));
    if (traced) await this.phase(step, { phase: 'scores', groups: rollouts.map((r) => r.rewards) });
    const rewards = rollouts.flatMap((r) => r.rewards.map((o) => o.reward));
    const advantages = groupAdvantages(rewards, c.groupSize, c.scaleRewards, c.advantageEps);
    const group = <T,>(xs: T[], i: number) => xs.slice(i * c.groupSize, (i + 1) * c.groupSize);
    if (traced) {
      const groups = groupStats(rewards, c.groupSize, c.scaleRewards).map((g, i) => ({ ...g, rewards: group(rewards, i), advantages: group(advantages, i) }));
      await this.phase(step, { phase: 'advantages', scale: c.scaleRewards, eps: c.advantageEps, groups });
    }
    // The scored samples go out before the update, which is the long part of a step on a slow adapter.
    rollouts.forEach((r, i) =>
      r.completions.forEach((ids, g) =>
        this.emit({
          type: 'sample', step, prompt: i, index: g, exampleId: r.example.id, text: r.texts[g],
          reward: r.rewards[g].reward, signals: r.rewards[g].signals, advantage: advantages[i * c.groupSize + g], tokens: ids.length,
        }),
      ),
    );
    const seqs: TrainSequence[] = rollouts.flatMap((r, i) =>
      r.completions.map((ids, g) => ({ promptIds: r.example.promptIds, completionIds: ids, advantage: advantages[i * c.groupSize + g] })),
    );
    const t2 = clock();
    const optimizerSteps = this.state.optimizerSteps;
    const { metrics: update, records } = await this.update(seqs.filter((s) => s.completionIds.length > 0), traced);
    const t3 = clock();

    const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
    const std = Math.sqrt(rewards.reduce((a, b) => a + (b - mean) ** 2, 0) / rewards.length);
    const fmt = this.task.formatSignal;
    const formatRate = fmt ? rollouts.flatMap((r) => r.rewards).filter((o) => o.signals[fmt]).length / rewards.length : NaN;
    this.state.step++;
    this.emit({
      type: 'step', step: this.state.step, rewardMean: mean, rewardStd: std, formatRate, ...update,
      completionLength: generated / rewards.length, tokensPerSec: (generated / (t3 - t0)) * 1000,
      rolloutMs: t1 - t0, scoringMs: t2 - t1, updateMs: t3 - t2,
    });
    if (records) {
      const groups = rollouts.map((r, i) => group(seqs, i).map((s, g) => this.tokenTrace(s, r.rewards[g].reward, records.get(s))));
      const { epsilonLow, epsilonHigh } = c.objective;
      await this.phase(step, { phase: 'update', epsilonLow, epsilonHigh, passes: c.iterations, optimizerSteps: this.state.optimizerSteps - optimizerSteps, groups });
    }
  }

  /** Step-through: one completion around the update (no record: an empty completion, never forwarded). */
  private tokenTrace(s: TrainSequence, reward: number, r: TokenRecord | undefined): TokenTrace {
    return {
      ids: s.completionIds, pieces: s.completionIds.map((id) => this.task.decode([id])), reward, advantage: s.advantage ?? 0,
      before: Array.from(r?.before ?? []), ratio: r?.ratio ? Array.from(r.ratio) : null,
      clipped: r?.clipped ? Array.from(r.clipped, Boolean) : null, after: Array.from(r?.after ?? []),
    };
  }

  /** A stop also ends step-through's waiting: the step completes its update, then the run stops. */
  override stop(): void {
    super.stop();
    this.stepThrough?.next();
  }

  /** Step-through: a phase's trace goes out, then the step waits until the user goes on (or the run stops). */
  private async phase(step: number, trace: StepTrace): Promise<void> {
    this.emit({ type: 'trace', step: step + 1, ...trace });
    if (this.stopping || !this.stepThrough) return;
    const from = performance.now();
    await this.stepThrough.wait();
    this.pausedMs += performance.now() - from;
  }

  /** Step-through: the rollouts' texts as they decode (the last, complete ones come with the phase). */
  private streamRollouts(step: number, examples: RlExample[]): (k: number, tokens: number[][]) => void {
    const G = this.config.groupSize;
    let last = -Infinity;
    return (_k, tokens) => {
      if (performance.now() - last < STREAM_MS) return;
      last = performance.now();
      const groups = examples.map((e, i) => ({ exampleId: e.id, texts: tokens.slice(i * G, (i + 1) * G).map((ids) => this.task.decode(ids)) }));
      this.emit({ type: 'trace', step: step + 1, phase: 'rollout', groups, done: false });
    };
  }

  /**
   * μ passes over one rollout batch, each an optimizer step per mini-batch of groups; non-finite losses or
   * norms skip the optimizer step. A mini-batch where no sequence can change the gradient (β = 0 and
   * every advantage 0: the GRPO loss is identically 0) runs no forward, backward or AdamW at all: weights,
   * moments and the optimizer's step count stay bit-identical. (verl and TRL would still step AdamW with a
   * zero gradient, moving the weights by momentum and weight decay alone; here a batch with nothing to
   * learn changes nothing.)
   * `traced` (step-through) also records each sequence's per-token log-probs before and after, ratios
   * and clip flags: one extra forward of the sequences after the update, and one before of those it leaves out.
   */
  private async update(seqs: TrainSequence[], traced: boolean) {
    const c = this.config;
    const { model } = this.policy;
    const metrics = {
      loss: NaN, kl: NaN, clipFraction: NaN, entropy: NaN, gradNorm: NaN, lr: learningRate(c.schedule, this.state.optimizerSteps),
      skipped: 0, trainedSequences: 0,
    };
    const records = traced ? new Map<TrainSequence, TokenRecord>() : null;
    if (seqs.length === 0) return { metrics, records };
    const tokens = seqs.reduce((n, s) => n + s.completionIds.length, 0);
    const objective: Objective = { kind: 'grpo', settings: { ...c.objective, generationBatchTokens: tokens } };
    const trained = seqs.filter((s) => contributes(s, objective));
    metrics.trainedSequences = trained.length;
    if (c.objective.beta !== 0) {
      this.progress('reference', 0, 1);
      const ref = await this.referenceLogprobs(seqs);
      seqs.forEach((s, i) => (s.refLogprobs = Array.from(ref[i])));
    }
    if ((c.iterations > 1 || c.miniBatches > 1) && trained.length > 0) {
      // After the first optimizer step the policy is no longer the one that sampled: keep its log-probs.
      const old = await sequenceLogprobs(model, trained, c.temperature, c.microBatch);
      trained.forEach((s, i) => (s.oldLogprobs = Array.from(old[i])));
    }
    if (records) {
      // The sampling policy's log-probs: the old ones where kept, else the first pass's (below, = old).
      const idle = seqs.filter((s) => !contributes(s, objective));
      (await sequenceLogprobs(model, idle, c.temperature, c.microBatch)).forEach((lp, i) => records.set(idle[i], { before: lp }));
      for (const s of trained) if (s.oldLogprobs) records.set(s, { before: s.oldLogprobs });
    }
    const miniBatches = splitGroups(seqs, c.miniBatches);
    // Progress counts the micro-batches of every pass, as accumulateGradients runs them.
    const parts = (batch: TrainSequence[]) => Math.ceil(batch.filter((s) => contributes(s, objective) && s.completionIds.length > 0).length / c.microBatch);
    const partsInAll = c.iterations * miniBatches.reduce((n, b) => n + parts(b), 0);
    let partsDone = 0;
    this.progress('update', 0, partsInAll);
    // A stop request is honoured between steps: a step always completes its update, so a resumed run
    // continues exactly where an uninterrupted one would be.
    for (let pass = 0; pass < c.iterations; pass++) {
      // The step reports its last pass: each metric averaged over the mini-batches (entropy over those trained).
      const last = pass === c.iterations - 1;
      const sums = { loss: 0, kl: 0, clipFraction: 0, gradNorm: 0, entropy: 0, trained: 0 };
      for (const batch of miniBatches) {
        if (!batch.some((s) => contributes(s, objective))) continue; // loss, gradient and its norm: exactly 0
        this.policy.zeroGrads();
        const r = await accumulateGradients(model, this.policy.grads, batch, objective, c.temperature, c.microBatch, c.recomputeActivations, true, (d) =>
          this.progress('update', partsDone + d, partsInAll),
        );
        partsDone += parts(batch);
        if (records) {
          batch.filter((s) => contributes(s, objective)).forEach((s, j) => {
            const record = records.get(s) ?? { before: r.logprobs[j] };
            if (last) Object.assign(record, { ratio: r.ratio[j], clipped: r.clipped[j] });
            records.set(s, record);
          });
        }
        const { gradNorm: norm, lr, skipped } = await this.optimize(r.loss);
        metrics.skipped += skipped;
        metrics.lr = lr;
        sums.loss += r.loss;
        sums.kl += r.kl;
        sums.clipFraction += r.clipFraction;
        sums.gradNorm += norm;
        sums.entropy += r.entropy;
        sums.trained++;
      }
      if (last) {
        const n = miniBatches.length;
        Object.assign(metrics, {
          loss: sums.loss / n, kl: sums.kl / n, clipFraction: sums.clipFraction / n, gradNorm: sums.gradNorm / n,
          entropy: sums.trained > 0 ? sums.entropy / sums.trained : NaN,
        });
      }
    }
    if (records) {
      const after = await sequenceLogprobs(model, seqs, c.temperature, c.microBatch);
      seqs.forEach((s, i) => (records.get(s)!.after = after[i]));
    }
    return { metrics, records };
  }

  private async referenceLogprobs(seqs: TrainSequence[]): Promise<Float32Array[]> {
    const c = this.config;
    const model = this.policy.model;
    if (this.reference) return sequenceLogprobs(this.reference, seqs, c.temperature, c.microBatch);
    if (!model.adapters) throw new Error('β ≠ 0 with full fine-tuning needs a reference model');
    model.adaptersOn = false;
    try {
      return await sequenceLogprobs(model, seqs, c.temperature, c.microBatch);
    } finally {
      model.adaptersOn = true;
    }
  }
}

/** Consecutive runs of one prompt (the groups) dealt into `parts` mini-batches of whole groups, as evenly as can be. */
function splitGroups(seqs: TrainSequence[], parts: number): TrainSequence[][] {
  const groups: TrainSequence[][] = [];
  for (const s of seqs) {
    const last = groups.at(-1);
    if (last && last[0].promptIds === s.promptIds) last.push(s);
    else groups.push([s]);
  }
  const n = Math.min(parts, groups.length);
  return Array.from({ length: n }, (_, k) => groups.slice(Math.round((k * groups.length) / n), Math.round(((k + 1) * groups.length) / n)).flat());
}

/** Sampling seed of a step: a run is reproducible from (seed, config). */
function stepSeed(seed: number, step: number): number {
  return new Rng((seed ^ Math.imul(step + 1, 0x9e3779b1)) >>> 0).nextU32();
}
