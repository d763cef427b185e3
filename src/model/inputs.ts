// What a model accepts, checked in one place for every entry point (logits, generate, grads batches, the
// Worker): token ids inside the vocabulary and the positions, and decoding settings in their ranges.
// Errors name the input (`what`) so the CLI can say "--ids" and a batch file "sequences[3]".
import type { SamplingParams } from '../ops/sample.ts';

export interface IdLimits {
  vocabSize: number;
  /** positions the model can run: prompt plus any new tokens */
  maxPositions: number;
}

/** Throws unless `ids` is a non-empty list of integers in [0, vocabSize) that fits, with `newTokens` more, in maxPositions. */
export function checkTokenIds(ids: ArrayLike<number>, limits: IdLimits, what = 'ids', newTokens = 0): void {
  if (ids.length === 0) throw new Error(`${what} is empty`);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= limits.vocabSize) {
      throw new Error(`${what}: token id ${id} at position ${i} is outside the vocabulary (0..${limits.vocabSize - 1})`);
    }
  }
  if (ids.length + newTokens > limits.maxPositions) {
    const need = newTokens > 0 ? `${ids.length} ids + ${newTokens} new tokens` : `${ids.length} ids`;
    throw new Error(`${what}: ${need} exceed the model's ${limits.maxPositions} positions`);
  }
}

export interface DecodeSettings {
  /** continuations per prompt */
  n: number;
  maxNewTokens: number;
  sampling: SamplingParams;
}

/** The first problem with decoding settings, as [setting, what it must be], or null when they are fine. */
export function decodeSettingsProblem(s: DecodeSettings): [keyof DecodeSettings | keyof SamplingParams, string] | null {
  const whole = (x: number, min: number) => Number.isSafeInteger(x) && x >= min;
  if (!whole(s.n, 1)) return ['n', `a whole number ≥ 1, got ${s.n}`];
  if (!whole(s.maxNewTokens, 1)) return ['maxNewTokens', `a whole number ≥ 1, got ${s.maxNewTokens}`];
  const { temperature, topP, topK, seed } = s.sampling;
  if (!(Number.isFinite(temperature) && temperature >= 0)) return ['temperature', `a finite number ≥ 0 (0 = greedy), got ${temperature}`];
  if (!(topP > 0 && topP <= 1)) return ['topP', `in (0, 1] (1 = off), got ${topP}`];
  if (!whole(topK, 0)) return ['topK', `a whole number ≥ 0 (0 = off), got ${topK}`];
  if (!(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) return ['seed', `a whole number in [0, 2^32), got ${seed}`];
  return null;
}

/** Throws when decoding settings are out of range; `names` maps settings to the caller's words (CLI flags). */
export function checkDecodeSettings(s: DecodeSettings, names: Partial<Record<string, string>> = {}): void {
  const problem = decodeSettingsProblem(s);
  if (problem) throw new Error(`${names[problem[0]] ?? problem[0]} must be ${problem[1]}`);
}
