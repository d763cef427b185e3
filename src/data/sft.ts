// SFT targets: the one place that turns a tool-calling instance into the completion a supervised run teaches.
// A target is the thinking template's answer: `<think> … </think>`, a newline, the instance's ground-truth calls
// as the one <tool_call> block the reward reads (template.ts's toolCallBlock), then the end of the turn.
// The think part is either a short text derived from the instance (the paper's "SFT with reasoning", here
// templated since no traces are distilled) or empty, `<think></think>` (the paper's "SFT without reasoning").

import { parseCompletion, type ToolCall } from '../toolcall/decode.ts';
import { isJsonObject } from '../toolcall/json.ts';
import { toolCallBlock } from '../toolcall/template.ts';
import type { Instance } from './instance.ts';

export type SftReasoning = 'templated' | 'none';

export const SFT_REASONING: readonly SftReasoning[] = ['templated', 'none'];

/** The text that ends an assistant turn; its token is the model's EOS. */
export const END_OF_TURN = '<|im_end|>';

function argumentNames(call: ToolCall): string {
  const names = isJsonObject(call.arguments) ? Object.keys(call.arguments) : [];
  if (names.length === 0) return 'no arguments';
  if (names.length === 1) return names[0];
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** A short templated reason: which function(s) the request needs and which of their parameters it gives. */
export function templatedThought(answers: ToolCall[]): string {
  if (answers.length === 0) return 'No listed function fits this request.';
  const parts = answers.map((c) => `${c.name} with ${argumentNames(c)}`);
  const list = parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  return `The request needs ${list}.`;
}

/** The think part of a target; `given` is a record's own reasoning trace, used in place of the templated one. */
export function thinkPart(answers: ToolCall[], reasoning: SftReasoning, given?: string): string {
  return reasoning === 'none' ? '<think></think>' : `<think> ${given?.trim() || templatedThought(answers)} </think>`;
}

/** An answer in the thinking template for these calls, without the end of turn. */
export function sftAnswer(answers: ToolCall[], reasoning: SftReasoning, given?: string): string {
  return `${thinkPart(answers, reasoning, given)}\n${toolCallBlock(answers)}`;
}

/** The full SFT target completion for an instance: answer then end of turn (tokenized, its last id is the EOS); a record's `reasoning` is its think part. */
export function sftTarget(instance: Pick<Instance, 'answers' | 'reasoning'>, reasoning: SftReasoning): string {
  return sftAnswer(instance.answers, reasoning, instance.reasoning) + END_OF_TURN;
}

const ANSWER_SHAPE = /^<think>([\s\S]*?)<\/think>\n<tool_call>[\s\S]*<\/tool_call>(?:<\|im_end\|>)?$/;

/**
 * Why a given completion is not a valid target for the reasoning mode, or undefined when it is: it must be one
 * think part (empty for "none", non-empty for "templated") then one parseable <tool_call> block of calls.
 */
export function sftCompletionError(completion: string, reasoning: SftReasoning): string | undefined {
  const m = ANSWER_SHAPE.exec(completion);
  if (!m) return 'a completion must be "<think>…</think>" then a newline and one <tool_call>[…]</tool_call> block';
  const thought = m[1].trim();
  if (reasoning === 'none' && thought !== '') return 'reasoning "none" needs an empty think part: <think></think>';
  if (reasoning === 'templated' && thought === '') return 'reasoning "templated" needs a non-empty think part';
  const parsed = parseCompletion(completion, 'last');
  if (parsed.calls === null) return 'the <tool_call> block must hold a JSON list of {"name", "arguments"} objects';
  return undefined;
}
