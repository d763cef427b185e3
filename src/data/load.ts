// Reading datasets: JSON Lines or one JSON array, from a string or a URL (files: node-files.ts, Node only).
// Every record is parsed and converted on its own, so one bad record is skipped and reported with its line
// number while the rest load.

import { parseJson, type Json } from '../toolcall/json.ts';
import { fetchOrExplain, httpError } from '../util/fetch.ts';

export interface LoadError {
  line: number;
  message: string;
}

export interface LoadResult<T> {
  records: T[];
  errors: LoadError[];
}

/** One record's source text and the line it starts on (1-based). */
export interface RawRecord {
  line: number;
  text: string;
}

function splitJsonLines(text: string): RawRecord[] {
  return text
    .split('\n')
    .map((line, i) => ({ line: i + 1, text: line }))
    .filter((r) => r.text.trim() !== '');
}

/** The elements of a top-level JSON array as separate texts, found by tracking nesting outside strings. */
function splitJsonArray(text: string): { records: RawRecord[]; errors: LoadError[] } {
  const records: RawRecord[] = [];
  const errors: LoadError[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let line = 1;
  let start = -1;
  let startLine = 0;
  let end = text.length;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') line++;
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (depth === 1) {
      if (ch === ',' || ch === ']') {
        if (start >= 0) records.push({ line: startLine, text: text.slice(start, i) });
        start = -1;
      } else if (start < 0 && !/\s/.test(ch)) {
        start = i;
        startLine = line;
      }
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    if (depth === 0 && ch === ']') {
      end = i + 1;
      break;
    }
  }
  if (depth > 0) {
    if (start >= 0) records.push({ line: startLine, text: text.slice(start) });
    errors.push({ line, message: 'unterminated JSON array' });
  } else if (text.slice(end).trim() !== '') {
    errors.push({ line, message: 'unexpected text after the JSON array' });
  }
  return { records, errors };
}

/** A JSON array if the text starts with '[', otherwise JSON Lines. */
export function splitRecords(text: string): { records: RawRecord[]; errors: LoadError[] } {
  return text.trimStart().startsWith('[') ? splitJsonArray(text) : { records: splitJsonLines(text), errors: [] };
}

const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Parses and converts every record; a record whose JSON or conversion fails becomes an error. */
export function parseRecords<T>(text: string, convert: (value: Json, line: number) => T): LoadResult<T> {
  const { records: raw, errors } = splitRecords(text);
  const records: T[] = [];
  for (const r of raw) {
    try {
      records.push(convert(parseJson(r.text), r.line));
    } catch (e) {
      errors.push({ line: r.line, message: errorMessage(e) });
    }
  }
  errors.sort((a, b) => a.line - b.line);
  return { records, errors };
}

export async function fetchText(url: string): Promise<string> {
  const response = await fetchOrExplain(url);
  if (!response.ok) throw httpError(url, response);
  return response.text();
}
