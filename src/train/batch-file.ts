// The `grads` command's batch format: parsed and validated with messages that name the field.
import type { LossType } from './objectives.ts';
import type { Objective, TrainSequence } from './gradients.ts';

export interface GradBatch {
  objective: Objective;
  temperature: number;
  sequences: TrainSequence[];
}

function fail(where: string, msg: string): never {
  throw new Error(`batch ${where}: ${msg}`);
}

function num(v: unknown, where: string, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(where, `must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function numbers(v: unknown, where: string, length?: number, integer = false): number[] {
  if (!Array.isArray(v)) fail(where, 'must be an array of numbers');
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || (integer && (!Number.isInteger(x) || x < 0))) {
      fail(`${where}[${i}]`, integer ? 'must be a non-negative integer' : 'must be a finite number');
    }
  });
  if (length !== undefined && v.length !== length) fail(where, `has ${v.length} entries, expected ${length} (one per completion token)`);
  return v as number[];
}

const LOSS_TYPES: LossType[] = ['grpo', 'bnpo', 'dr_grpo', 'dapo'];

export function parseGradBatch(json: unknown): GradBatch {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('', 'must be a JSON object');
  const b = json as Record<string, unknown>;
  if (b.objective !== 'sft' && b.objective !== 'grpo') fail('objective', `must be "sft" or "grpo", got ${JSON.stringify(b.objective)}`);
  const temperature = num(b.temperature, 'temperature', 1);
  if (temperature <= 0) fail('temperature', 'must be positive');
  if (!Array.isArray(b.sequences) || b.sequences.length === 0) fail('sequences', 'must be a non-empty array');
  const grpo = b.objective === 'grpo';
  const beta = grpo ? num(b.beta, 'beta', 0) : 0;
  if (beta < 0) fail('beta', `must be ≥ 0, got ${beta}`);
  const sequences = (b.sequences as unknown[]).map((raw, i): TrainSequence => {
    const at = `sequences[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(at, 'must be an object');
    const s = raw as Record<string, unknown>;
    const promptIds = numbers(s.prompt_ids, `${at}.prompt_ids`, undefined, true);
    const completionIds = numbers(s.completion_ids, `${at}.completion_ids`, undefined, true);
    if (promptIds.length === 0) fail(`${at}.prompt_ids`, 'must not be empty');
    const seq: TrainSequence = { promptIds, completionIds };
    if (grpo) {
      seq.advantage = num(s.advantage, `${at}.advantage`);
      if (s.old_logprobs !== undefined) seq.oldLogprobs = numbers(s.old_logprobs, `${at}.old_logprobs`, completionIds.length);
      if (beta !== 0) {
        if (s.ref_logprobs === undefined) fail(`${at}.ref_logprobs`, 'is required when beta ≠ 0');
        seq.refLogprobs = numbers(s.ref_logprobs, `${at}.ref_logprobs`, completionIds.length);
      }
    }
    return seq;
  });
  if (!grpo) return { objective: { kind: 'sft' }, temperature, sequences };
  const lossType = (b.loss_type ?? 'grpo') as LossType;
  if (!LOSS_TYPES.includes(lossType)) fail('loss_type', `must be one of ${LOSS_TYPES.join(', ')}, got ${JSON.stringify(b.loss_type)}`);
  const epsilonLow = num(b.epsilon_low, 'epsilon_low', 0.2);
  const epsilonHigh = num(b.epsilon_high, 'epsilon_high', epsilonLow);
  for (const [field, eps] of [['epsilon_low', epsilonLow], ['epsilon_high', epsilonHigh]] as const) {
    if (eps < 0) fail(field, `must be ≥ 0, got ${eps}`);
  }
  const longest = Math.max(...sequences.map((s) => s.completionIds.length));
  const maxCompletionLength = num(b.max_completion_length, 'max_completion_length', Math.max(1, longest));
  if (!Number.isInteger(maxCompletionLength) || maxCompletionLength < 1) fail('max_completion_length', `must be a whole number ≥ 1, got ${maxCompletionLength}`);
  if (maxCompletionLength < longest) fail('max_completion_length', `${maxCompletionLength} is shorter than the longest completion (${longest} tokens)`);
  return {
    objective: {
      kind: 'grpo',
      settings: {
        lossType,
        epsilonLow,
        epsilonHigh,
        beta,
        klClamp: null, // the grads command reports the unclamped KL, as TRL computes it
        maxCompletionLength,
      },
    },
    temperature,
    sequences,
  };
}
