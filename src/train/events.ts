// What a training run reports, in order: per-sample rollouts, per-step metrics (GRPO's 'step', SFT's
// 'sft-step'), evaluations (the same held-out greedy reward for both), logs.
// The CLI writes them as JSON Lines; the Worker forwards them to the studio's live panel.

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
  | { type: 'checkpoint'; step: number; where: string; bytes: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'done'; step: number; stopped: boolean };
