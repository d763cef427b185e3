// Reading tool calls out of a completion. The reward takes the LAST <tool_call> block, the paper's evaluation
// takes the FIRST; everything after the choice of block is shared.

import { isJsonObject, parseJson, type Json } from './json.ts';

export interface ToolCall {
  name: string;
  arguments: Json;
}

export interface ParsedCompletion {
  /** At least one <tool_call>…</tool_call> block. */
  blockFound: boolean;
  /** The chosen block's inside is valid JSON (after re-parsing a JSON string once). */
  jsonParsed: boolean;
  /** The calls, or null when the JSON is not a list of {name, arguments} objects. */
  calls: ToolCall[] | null;
}

const TOOL_CALL_BLOCK = /<tool_call>([\s\S]*?)<\/tool_call>/g;

export function toolCallBlocks(text: string): string[] {
  return Array.from(text.matchAll(TOOL_CALL_BLOCK), (m) => m[1]);
}

/** The inside of one block → calls: a JSON string is parsed once more, a single object becomes a list of one. */
export function parseToolCallBlock(inner: string): Omit<ParsedCompletion, 'blockFound'> {
  let value: Json;
  try {
    value = parseJson(inner.trim());
    if (typeof value === 'string') value = parseJson(value);
  } catch {
    return { jsonParsed: false, calls: null };
  }
  const items = isJsonObject(value) ? [value] : value;
  if (!Array.isArray(items)) return { jsonParsed: true, calls: null };
  const calls: ToolCall[] = [];
  for (const item of items) {
    // Ground-truth names are strings, so a non-string name can never match: treat it as malformed.
    if (!isJsonObject(item) || typeof item.name !== 'string' || !Object.hasOwn(item, 'arguments')) {
      return { jsonParsed: true, calls: null };
    }
    calls.push({ name: item.name, arguments: item.arguments });
  }
  return { jsonParsed: true, calls };
}

export function parseCompletion(text: string, which: 'first' | 'last'): ParsedCompletion {
  const blocks = toolCallBlocks(text);
  if (blocks.length === 0) return { blockFound: false, jsonParsed: false, calls: null };
  const block = which === 'first' ? blocks[0] : blocks[blocks.length - 1];
  return { blockFound: true, ...parseToolCallBlock(block) };
}

/** The paper's evaluation decoding: the first block; null is a decode failure. */
export function decodeToolCalls(text: string): ToolCall[] | null {
  return parseCompletion(text, 'first').calls;
}
