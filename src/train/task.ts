// What a training run learns from: the prompts (train and held-out), and how an answer is decoded and scored.
// GRPO and SFT trainers read it; src/train/toolcall-task.ts builds the tool-calling one.

/** A prompt the policy answers; the task knows how to score an answer to it. */
export interface RlExample {
  id: string;
  promptIds: number[];
}

export interface RewardOutcome {
  reward: number;
  /** named sub-signals for the live panel (format found, JSON parsed, names match, ...) */
  signals: Record<string, boolean | number>;
}

export interface RlTask<E extends RlExample = RlExample> {
  train: E[];
  heldout: E[];
  reward(completion: string, example: E): RewardOutcome;
  decode(ids: number[]): string;
  eosIds: number[];
  /** signal counted as "format rate" in step metrics, if any */
  formatSignal?: string;
}
