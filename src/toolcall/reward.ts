// The paper's rule-based rewards: the default binary one and the three ablations of its reward-granularity
// table. All four read a completion the same way (the LAST <tool_call> block, see decode.ts) and differ only in
// how they weigh the format check and the match.

import { parseCompletion, type ToolCall } from './decode.ts';
import { canonicalJson } from './json.ts';

export interface RewardSignals {
  /** A <tool_call>…</tool_call> block is present. */
  toolCallFound: boolean;
  /** The last block holds valid JSON. */
  jsonParsed: boolean;
  /** Both `<think>` and `</think>` occur somewhere (presence only, as in the paper). */
  thinkTags: boolean;
  /** The multisets of called names agree. */
  namesMatch: boolean;
  /** The multisets of (name, canonical arguments) agree: the paper's correctness. */
  exactMatch: boolean;
}

export interface RewardResult {
  reward: number;
  signals: RewardSignals;
}

/** A pluggable reward: the trainer calls it once per completion with that prompt's ground truth. */
export type RewardFn = (completion: string, groundTruth: ToolCall[]) => RewardResult;

function sameMultiset(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const sortedA = [...a].sort();
  const sortedB = [...b].sort();
  return sortedA.every((x, i) => x === sortedB[i]);
}

const callKey = (c: ToolCall) => canonicalJson([c.name, c.arguments]);

export function rewardSignals(completion: string, groundTruth: ToolCall[]): RewardSignals {
  const parsed = parseCompletion(completion, 'last');
  const calls = parsed.calls;
  return {
    toolCallFound: parsed.blockFound,
    jsonParsed: parsed.jsonParsed,
    thinkTags: completion.includes('<think>') && completion.includes('</think>'),
    namesMatch: calls !== null && sameMultiset(calls.map((c) => c.name), groundTruth.map((c) => c.name)),
    exactMatch: calls !== null && sameMultiset(calls.map(callKey), groundTruth.map(callKey)),
  };
}

/** The paper's default: 1 iff the think tags are present and the calls match exactly. */
export const binaryReward: RewardFn = (completion, groundTruth) => {
  const signals = rewardSignals(completion, groundTruth);
  return { reward: signals.thinkTags && signals.exactMatch ? 1 : 0, signals };
};

/** Ablation "binary, no reason format": 1 iff the calls match exactly. */
export const binaryNoThinkReward: RewardFn = (completion, groundTruth) => {
  const signals = rewardSignals(completion, groundTruth);
  return { reward: signals.exactMatch ? 1 : 0, signals };
};

/** Ablation "partial format": 0.2 for the think tags plus 0.8 for an exact match. */
export const partialFormatReward: RewardFn = (completion, groundTruth) => {
  const signals = rewardSignals(completion, groundTruth);
  return { reward: (signals.thinkTags ? 0.2 : 0) + (signals.exactMatch ? 0.8 : 0), signals };
};

/** Ablation "format + function names": 0.2 think, plus 0.8 for an exact match or else 0.2 if only the names match. */
export const partialNamesReward: RewardFn = (completion, groundTruth) => {
  const signals = rewardSignals(completion, groundTruth);
  const match = signals.exactMatch ? 0.8 : signals.namesMatch ? 0.2 : 0;
  return { reward: (signals.thinkTags ? 0.2 : 0) + match, signals };
};

export const REWARDS = {
  binary: binaryReward,
  binary_no_think: binaryNoThinkReward,
  partial_format: partialFormatReward,
  partial_names: partialNamesReward,
} satisfies Record<string, RewardFn>;

export type RewardName = keyof typeof REWARDS;

export function isRewardName(name: string): name is RewardName {
  return Object.hasOwn(REWARDS, name);
}
