// What every trainer shares: the step loop with its evaluation and checkpoint cadence, stop requests
// honoured between steps (so a resumed run continues bit for bit), the greedy held-out evaluation (one
// evaluation, so SFT and GRPO curves compare), and the NaN-safe AdamW update.
import type { GpuRuntime } from '../gpu/runtime.ts';
import { runEvaluation, type EvalItem, type EvalTokenizer } from '../eval/runner.ts';
import type { Bench } from '../eval/suites.ts';
import { Generator } from '../model/generate.ts';
import type { TemplateOptions } from '../toolcall/template.ts';
import { optimizerStep } from '../ops/optim.ts';
import { Rng } from '../util/random.ts';
import type { ProgressPhase, TrainEvent } from './events.ts';
import type { Policy } from './policy.ts';
import { learningRate, type LrSchedule } from './schedule.ts';
import type { TrainerState } from './trainer.ts';
import type { RlExample, RlTask } from './task.ts';

/** The settings the loop itself reads. */
export interface LoopConfig {
  steps: number;
  /** decoding budget of the held-out evaluation */
  maxNewTokens: number;
  microBatch: number;
  schedule: LrSchedule;
  beta1: number;
  beta2: number;
  weightDecay: number;
  maxGradNorm: number;
  /** 0: never */
  evalEvery: number;
  evalSize: number;
  /** 0: only when stopped or done */
  checkpointEvery: number;
  seed: number;
}

/** A benchmark subset the loop evaluates with the policy every `every` steps (the config's `benchmark`). */
export interface LoopBenchmark {
  bench: Bench;
  items: EvalItem[];
  tokenizer: EvalTokenizer;
  template: TemplateOptions;
  every: number;
  maxNewTokens: number;
}

export abstract class TrainingLoop<E extends RlExample> {
  /** set by the run assembly when the config asks for benchmark accuracy during training */
  benchmark: LoopBenchmark | null = null;
  state: TrainerState;
  protected rng: Rng;
  protected generator: Generator;
  private stopRequested = false;
  private stepStart = 0;
  /** how long the running step has waited in step-through mode: left out of its timings */
  protected pausedMs = 0;

  constructor(
    readonly rt: GpuRuntime,
    readonly policy: Policy,
    readonly task: RlTask<E>,
    private readonly loop: LoopConfig,
    readonly emit: (e: TrainEvent) => void,
    state?: TrainerState,
  ) {
    this.state = state ?? { step: 0, optimizerSteps: 0, rngState: loop.seed >>> 0 };
    this.rng = new Rng(this.state.rngState);
    this.generator = new Generator(policy.model);
  }

  /** One step: it ends with state.step incremented and its events emitted. */
  abstract trainStep(): Promise<void>;

  stop(): void {
    this.stopRequested = true;
  }

  get stopping(): boolean {
    return this.stopRequested;
  }

  /** Runs until config.steps or a stop request; `onCheckpoint` persists state (awaited). */
  async run(onCheckpoint?: () => Promise<void>): Promise<void> {
    const c = this.loop;
    if (this.state.step < c.steps) {
      this.startStepClock();
      await this.generator.prepare((done, total) => this.progress('compile', done, total));
    }
    while (this.state.step < c.steps && !this.stopRequested) {
      this.startStepClock();
      await this.trainStep();
      const step = this.state.step;
      if (c.evalEvery > 0 && step % c.evalEvery === 0) await this.evaluate();
      if (this.benchmark && step % this.benchmark.every === 0) await this.runBenchmark(this.benchmark);
      if (onCheckpoint && c.checkpointEvery > 0 && (step % c.checkpointEvery === 0 || step === c.steps)) await onCheckpoint();
    }
    if (this.stopRequested && onCheckpoint) await onCheckpoint();
    this.emit({ type: 'done', step: this.state.step, stopped: this.stopRequested });
  }

  private startStepClock(): void {
    this.stepStart = performance.now();
    this.pausedMs = 0;
  }

  /** Time since the step began, less its step-through pauses. */
  protected stepClock(): number {
    return performance.now() - this.stepStart - this.pausedMs;
  }

  /** Reports where the running step is (the step being run, counted from 1; evaluation: the one just done). */
  protected progress(phase: ProgressPhase, done: number, total: number): void {
    const step = phase === 'eval' || phase === 'bench' ? this.state.step : this.state.step + 1;
    this.emit({ type: 'progress', step, phase, done, total, ms: this.stepClock() });
  }

  /**
   * AdamW over the gradients accumulated for `loss`, clipped on the GPU. A non-finite loss or gradient norm
   * leaves weights, moments and the step count untouched (AdamW checks the norm on the GPU) and is reported.
   */
  protected async optimize(loss: number): Promise<{ gradNorm: number; lr: number; skipped: number }> {
    const c = this.loop;
    const lr = learningRate(c.schedule, this.state.optimizerSteps);
    let norm = NaN;
    if (Number.isFinite(loss)) {
      optimizerStep(this.rt, this.policy.params, this.policy.gradNorm, {
        lr, beta1: c.beta1, beta2: c.beta2, eps: 1e-8, weightDecay: c.weightDecay, maxNorm: c.maxGradNorm,
      }, this.state.optimizerSteps + 1);
      norm = (await this.rt.read(this.policy.gradNorm, 0, 1))[0];
    }
    if (Number.isFinite(norm)) {
      this.state.optimizerSteps++;
      return { gradNorm: norm, lr, skipped: 0 };
    }
    this.emit({ type: 'log', level: 'warn', message: `step ${this.state.step + 1}: loss ${loss}, gradient norm ${norm}: update skipped, weights unchanged` });
    return { gradNorm: norm, lr, skipped: 1 };
  }

  /** Greedy decoding on the held-out prompts, a micro-batch of prompts at a time; mean reward (= accuracy for the binary reward). */
  async evaluate(): Promise<number> {
    const c = this.loop;
    const examples = this.task.heldout.slice(0, c.evalSize);
    let total = 0;
    for (let i = 0; i < examples.length; i += c.microBatch) {
      this.progress('eval', i, examples.length);
      const part = examples.slice(i, i + c.microBatch);
      const out = await this.generator.generateBatch(part.map((e) => e.promptIds), {
        n: 1, maxNewTokens: c.maxNewTokens, eosIds: this.task.eosIds, sampling: { temperature: 0, topP: 1, topK: 0, seed: 0 },
      });
      part.forEach((ex, j) => (total += this.task.reward(this.task.decode(out.tokens[j]), ex).reward));
    }
    const score = examples.length ? total / examples.length : NaN;
    this.emit({ type: 'eval', step: this.state.step, meanReward: score, examples: examples.length });
    return score;
  }

  /** The benchmark subset with the policy as it is now (greedy, a micro-batch of prompts at a time), through the shared runner. */
  async runBenchmark(b: LoopBenchmark): Promise<void> {
    const r = await runEvaluation(this.generator, b.tokenizer, b.items, {
      template: b.template, maxNewTokens: b.maxNewTokens, batchSize: this.loop.microBatch,
      onProgress: (p) => this.progress('bench', p.done, p.total),
    });
    const correct = r.entries.filter((e) => e.correct).length;
    this.emit({
      type: 'bench', step: this.state.step, bench: b.bench, accuracy: r.entries.length ? correct / r.entries.length : NaN, correct, total: r.entries.length,
      categories: r.categories.map(({ category, accuracy, correct, total }) => ({ category, accuracy, correct, total })), ms: r.ms,
    });
  }

  release(): void {
    this.generator.release();
  }
}
