// xLAM function-calling 60k: {"id", "query", "tools", "answers"}, where tools and answers are JSON texts
// (lists of tool specs and of {name, arguments}). Each row is one single-turn instance.

import { isJsonObject, parseJson, type Json } from '../toolcall/json.ts';
import { parseRecords, type LoadResult } from './load.ts';
import { instanceFromRecord, type Instance } from './instance.ts';

/** A JSON-text field parsed (numbers kept lossless); an already-parsed list is taken as is. */
function embeddedJson(value: Json, field: string): Json {
  if (typeof value !== 'string') return value;
  try {
    return parseJson(value);
  } catch (e) {
    throw new Error(`${field} is not valid JSON: ${(e as Error).message}`);
  }
}

export function instanceFromXlam(value: Json, line: number): Instance {
  if (!isJsonObject(value)) throw new Error('record must be an object');
  const record = {
    query: value.query ?? null,
    tools: embeddedJson(value.tools ?? null, 'tools'),
    answers: embeddedJson(value.answers ?? null, 'answers'),
    ...(value.reasoning !== undefined && { reasoning: value.reasoning }),
  };
  return instanceFromRecord(value.id === undefined ? record : { id: value.id, ...record }, line);
}

export function parseXlam(text: string): LoadResult<Instance> {
  return parseRecords(text, instanceFromXlam);
}
