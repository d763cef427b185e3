// What a training run reports, in order: per-sample rollouts, per-step metrics (GRPO's 'step', SFT's
// 'sft-step'), evaluations (the same held-out greedy reward for both), logs.
// The CLI writes them as JSON Lines; the Worker forwards them to the studio's live panel. In step-through
// mode (off by default) a GRPO step also reports each of its phases as a 'trace'.
import type { Bench } from '../eval/suites.ts';
import type { ScaleRewards } from './objectives.ts';

export type ProgressPhase = 'compile' | 'rollout' | 'scoring' | 'reference' | 'update' | 'eval' | 'bench';

/** One completion as the update saw it, token by token. */
export interface TokenTrace {
  ids: number[];
  /** each completion token decoded alone */
  pieces: string[];
  reward: number;
  advantage: number;
  /** log π_old per token: the policy that sampled it (logits / T) */
  before: number[];
  /** π_θ / π_old per token as the objective used it in the last pass; null: not in the update (β = 0 and A = 0) */
  ratio: number[] | null;
  /** per token: the clipped branch of the objective was taken (no gradient through it); null as for ratio */
  clipped: boolean[] | null;
  /** log π per token after the step's optimizer steps */
  after: number[];
}

/** What one phase of a GRPO step did, for step-through mode; groups are the step's prompts in order. */
export type StepTrace =
  | {
      phase: 'rollout';
      /** per prompt: its example and its G completions so far */
      groups: { exampleId: string; texts: string[] }[];
      /** false while decoding streams (throttled), true once the rollouts are complete */
      done: boolean;
    }
  | { phase: 'scores'; groups: { reward: number; signals: Record<string, boolean | number> }[][] }
  | {
      phase: 'advantages';
      scale: ScaleRewards;
      eps: number;
      /** std: what the advantages divide by (null when scale is 'none'); all equal: every advantage 0 */
      groups: { rewards: number[]; mean: number; std: number | null; allEqual: boolean; advantages: number[] }[];
    }
  | {
      phase: 'update';
      epsilonLow: number;
      epsilonHigh: number;
      /** μ and the optimizer steps the update took */
      passes: number;
      optimizerSteps: number;
      groups: TokenTrace[][];
    };

export type TrainEvent =
  | {
      type: 'sample';
      step: number;
      prompt: number;
      index: number;
      exampleId: string;
      text: string;
      reward: number;
      signals: Record<string, boolean | number>;
      advantage: number;
      tokens: number;
    }
  | {
      type: 'step';
      step: number;
      rewardMean: number;
      rewardStd: number;
      /** share of completions with the format signal (think tags), NaN when the task has none */
      formatRate: number;
      loss: number;
      kl: number;
      clipFraction: number;
      entropy: number;
      gradNorm: number;
      lr: number;
      /** optimizer steps skipped for a non-finite loss or gradient */
      skipped: number;
      /**
       * sequences of the step that ran forward and backward: with β = 0 those of advantage 0 cannot change
       * the gradient and are left out (0: the step did no backward and left the weights as they were)
       */
      trainedSequences: number;
      completionLength: number;
      tokensPerSec: number;
      rolloutMs: number;
      scoringMs: number;
      updateMs: number;
    }
  | {
      type: 'sft-step';
      step: number;
      /** token-mean cross-entropy of the target tokens */
      loss: number;
      /** share of target tokens that are the policy's greedy choice (before the step's update) */
      tokenAccuracy: number;
      gradNorm: number;
      lr: number;
      /** 1 when the update was skipped for a non-finite loss or gradient */
      skipped: number;
      /** target tokens in the batch */
      tokens: number;
      tokensPerSec: number;
      updateMs: number;
    }
  | { type: 'eval'; step: number; meanReward: number; examples: number }
  /** step-through mode only; step counted from 1, as its 'step' event will report it */
  | ({ type: 'trace'; step: number } & StepTrace)
  | {
      /**
       * Where the running step is, for a live display: pipelines compiling before the first step, rollout
       * tokens decoded (of at most maxNewTokens), scoring, reference log-probs, update micro-batches, held-out
       * evaluation prompts. Emitted where the host already waits for the GPU (no extra sync); not kept in
       * events.jsonl or saved runs.
       */
      type: 'progress';
      /** the step it belongs to, counted from 1 (evaluation: the step just finished) */
      step: number;
      phase: ProgressPhase;
      done: number;
      total: number;
      /** since the step began */
      ms: number;
    }
  | {
      /** the config's benchmark subset, greedy with the policy after `step` steps */
      type: 'bench';
      step: number;
      bench: Bench;
      /** correct / total over every category */
      accuracy: number;
      correct: number;
      total: number;
      categories: { category: string; accuracy: number; correct: number; total: number }[];
      ms: number;
    }
  | { type: 'checkpoint'; step: number; where: string; bytes: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'done'; step: number; stopped: boolean };
