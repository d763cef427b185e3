// The project's own instance: a dialogue up to the point where the model must answer, the tools it may call,
// and the ground-truth calls (an empty list when no tool fits). Every dataset loader produces these.
//
// On disk (JSON Lines or a JSON array), one instance per record:
//   {"id"?: string|number, "query": "..." | "messages": [{"role", "content", "tool_calls"?}],
//    "tools": [<tool spec>, ...], "answers": [{"name": ..., "arguments": {...}}, ...],
//    "completion"?: "<think>…</think>\n<tool_call>[…]</tool_call>" (an SFT target), "reasoning"?: "…" (a trace)}
// `query` is a single user turn. `messages` roles: system (first only), user, assistant (with optional
// tool_calls [{name, arguments}]), tool; the last message is from the user or a tool.

import { LosslessNumber, isJsonObject, type Json, type JsonObject } from '../toolcall/json.ts';
import type { ToolCall } from '../toolcall/decode.ts';
import type { Conversation, Turn } from '../toolcall/template.ts';
import { parseRecords, type LoadResult } from './load.ts';

export interface Instance extends Conversation {
  id: string;
  tools: JsonObject[];
  answers: ToolCall[];
  /** the record's first line in its file */
  line?: number;
  /** an SFT target answer given by the record (instance format's "completion") */
  completion?: string;
  /** a reasoning trace given by the record (distilled traces): an SFT target's think part */
  reasoning?: string;
}

/** A tool's name, whether the spec is bare ({name, ...}) or wrapped ({type: "function", function: {name}}). */
export function toolName(tool: JsonObject): string | undefined {
  const spec = isJsonObject(tool.function) ? tool.function : tool;
  return typeof spec.name === 'string' ? spec.name : undefined;
}

export function validateTools(value: Json): JsonObject[] {
  if (!Array.isArray(value)) throw new Error('tools must be a list');
  return value.map((tool, i) => {
    if (!isJsonObject(tool) || toolName(tool) === undefined) throw new Error(`tools[${i}] has no name`);
    return tool;
  });
}

export function validateCalls(value: Json, what: string): ToolCall[] {
  if (!Array.isArray(value)) throw new Error(`${what} must be a list`);
  return value.map((call, i) => {
    if (!isJsonObject(call) || typeof call.name !== 'string') throw new Error(`${what}[${i}] has no name`);
    if (!isJsonObject(call.arguments)) throw new Error(`${what}[${i}].arguments must be an object`);
    return { name: call.name, arguments: call.arguments };
  });
}

/** The first called name that is not among the tools, if any. */
export function unknownToolCalled(calls: ToolCall[], tools: JsonObject[]): string | undefined {
  const names = new Set(tools.map(toolName));
  return calls.find((c) => !names.has(c.name))?.name;
}

function recordId(value: JsonObject, line: number): string {
  const id = value.id;
  if (id === undefined) return String(line);
  if (typeof id === 'string') return id;
  if (id instanceof LosslessNumber) return id.value;
  throw new Error('id must be a string or a number');
}

function messagesToTurns(value: Json): { turns: Turn[]; system?: string } {
  if (!Array.isArray(value) || value.length === 0) throw new Error('messages must be a non-empty list');
  const turns: Turn[] = [];
  let system: string | undefined;
  value.forEach((m, i) => {
    if (!isJsonObject(m) || typeof m.content !== 'string') throw new Error(`messages[${i}] needs a string content`);
    if (m.role === 'system' && i === 0) system = m.content;
    else if (m.role === 'user' || m.role === 'tool') turns.push({ role: m.role, content: m.content });
    else if (m.role === 'assistant') {
      const toolCalls = m.tool_calls === undefined ? undefined : validateCalls(m.tool_calls, `messages[${i}].tool_calls`);
      turns.push({ role: 'assistant', content: m.content, toolCalls });
    } else throw new Error(`messages[${i}] has an unexpected role ${JSON.stringify(m.role)}`);
  });
  const last = turns[turns.length - 1];
  if (!last || last.role === 'assistant') throw new Error('the last message must come from the user or a tool');
  return { turns, system };
}

/** One record of the plain format → an Instance; throws with a readable message when it is invalid. */
export function instanceFromRecord(value: Json, line: number): Instance {
  if (!isJsonObject(value)) throw new Error('record must be an object');
  const hasQuery = value.query !== undefined;
  if (hasQuery === (value.messages !== undefined)) throw new Error('record needs exactly one of query or messages');
  if (hasQuery && typeof value.query !== 'string') throw new Error('query must be a string');
  const dialogue = hasQuery ? { turns: [{ role: 'user', content: value.query as string } as Turn] } : messagesToTurns(value.messages);
  const tools = validateTools(value.tools);
  const answers = validateCalls(value.answers, 'answers');
  const unknown = unknownToolCalled(answers, tools);
  if (unknown !== undefined) throw new Error(`answers call ${JSON.stringify(unknown)}, which is not among the tools`);
  const extras: Pick<Instance, 'completion' | 'reasoning'> = {};
  for (const key of ['completion', 'reasoning'] as const) {
    if (value[key] === undefined) continue;
    if (typeof value[key] !== 'string') throw new Error(`${key} must be a string`);
    extras[key] = value[key] as string;
  }
  return { id: recordId(value, line), ...dialogue, tools, answers, line, ...extras };
}

export function parseInstances(text: string): LoadResult<Instance> {
  return parseRecords(text, instanceFromRecord);
}
