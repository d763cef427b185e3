// ToolACE: ShareGPT-like dialogues {"system", "conversations": [{"from": user|assistant|tool, "value"}]}.
// The tool list is a JSON list inside the system text; assistant calls are written in Python-call syntax,
// `[f(a=1, b='x'), g()]`. Each assistant turn that calls tools becomes one instance, with the turns before it
// as context. Instances that call a tool missing from the list are dropped (and counted).

import { LosslessNumber, MAX_JSON_DEPTH, isJsonObject, parseJson, pyFloat, pyInt, type Json, type JsonObject } from '../toolcall/json.ts';
import type { ToolCall } from '../toolcall/decode.ts';
import type { Turn } from '../toolcall/template.ts';
import { parseRecords, type LoadResult } from './load.ts';
import { unknownToolCalled, validateTools, type Instance } from './instance.ts';

// ---- Python literals and calls ------------------------------------------------------------------------------

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', a: '\x07', '0': '\0', '\n': '',
};

/** A recursive-descent reader for the subset of Python that tool calls use. Throws on anything else. */
class PythonReader {
  private pos = 0;
  private depth = 0;
  constructor(private readonly text: string) {}

  private fail(what: string): never {
    throw new Error(`Python syntax: ${what} at offset ${this.pos}`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  /** Skips spaces, then consumes `ch` if it is next. */
  private accept(ch: string): boolean {
    this.skipSpace();
    if (this.text[this.pos] !== ch) return false;
    this.pos++;
    return true;
  }

  private expect(ch: string): void {
    if (!this.accept(ch)) this.fail(`expected '${ch}'`);
  }

  private match(re: RegExp): string | undefined {
    this.skipSpace();
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  end(): void {
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail('unexpected text');
  }

  /** Comma-separated items up to `close`, a trailing comma allowed. */
  private sequence<T>(close: string, item: () => T): T[] {
    const items: T[] = [];
    while (!this.accept(close)) {
      items.push(item());
      if (!this.accept(',')) {
        this.expect(close);
        break;
      }
    }
    return items;
  }

  /** `[f(a=1), g()]`, or a single `f(a=1)`. */
  calls(): ToolCall[] {
    return this.accept('[') ? this.sequence(']', () => this.call()) : [this.call()];
  }

  private call(): ToolCall {
    // Names are kept loose (dots, spaces, dashes) because dataset tool names are.
    const name = this.match(/[^()[\],'"=\n]+/y)?.trim();
    if (!name) this.fail('expected a function name');
    this.expect('(');
    const args: JsonObject = {};
    this.sequence(')', () => {
      const key = this.match(/[A-Za-z_][\w.-]*/y);
      if (!key) this.fail('expected a keyword argument');
      this.expect('=');
      args[key] = this.value();
    });
    return { name, arguments: args };
  }

  value(): Json {
    this.skipSpace();
    const ch = this.text[this.pos];
    if (ch === "'" || ch === '"') return this.string();
    if (ch === '[' || ch === '(' || ch === '{') {
      if (++this.depth > MAX_JSON_DEPTH) this.fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
      const value = this.container();
      this.depth--;
      return value;
    }
    const number = this.match(/[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y);
    if (number !== undefined) {
      return /[.eE]/.test(number) ? pyFloat(Number(number)) : pyInt(BigInt(number.replace('+', '')));
    }
    const word = this.match(/[A-Za-z_]\w*/y);
    if (word === 'True' || word === 'true') return true;
    if (word === 'False' || word === 'false') return false;
    if (word === 'None' || word === 'null') return null;
    return this.fail('expected a value');
  }

  private container(): Json {
    if (this.accept('[')) return this.sequence(']', () => this.value());
    if (this.accept('(')) return this.sequence(')', () => this.value());
    if (this.accept('{')) {
      const dict: JsonObject = {};
      this.sequence('}', () => {
        const key = this.value();
        if (typeof key !== 'string' && !(key instanceof LosslessNumber)) this.fail('dict keys must be strings or numbers');
        this.expect(':');
        dict[typeof key === 'string' ? key : key.value] = this.value();
      });
      return dict;
    }
    return this.fail('expected a value');
  }

  private string(): string {
    const quote = this.text[this.pos++];
    let out = '';
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos++];
      if (ch === quote) return out;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const esc = this.text[this.pos++];
      if (esc in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[esc];
      else if (esc === 'x' || esc === 'u' || esc === 'U') {
        const width = esc === 'x' ? 2 : esc === 'u' ? 4 : 8;
        const hex = this.text.slice(this.pos, this.pos + width);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width || parseInt(hex, 16) > 0x10ffff) this.fail('bad escape');
        out += String.fromCodePoint(parseInt(hex, 16));
        this.pos += width;
      } else out += `\\${esc}`; // Python keeps unknown escapes as written
    }
    return this.fail('unterminated string');
  }
}

/** `[f(a=1, b='x', c=[1, 2], d={'k': True}, e=None)]` → calls with JSON arguments (ints and floats kept apart). */
export function parsePythonCalls(text: string): ToolCall[] {
  const reader = new PythonReader(text);
  const calls = reader.calls();
  reader.end();
  return calls;
}

/** One Python literal (str, int, float, bool, None, list, tuple, dict) as JSON. */
export function parsePythonLiteral(text: string): Json {
  const reader = new PythonReader(text);
  const value = reader.value();
  reader.end();
  return value;
}

// ---- ToolACE records --------------------------------------------------------------------------------------

/** The first JSON list of named objects embedded in a text (ToolACE puts its tools in the system prompt). */
export function toolsInText(text: string): JsonObject[] | undefined {
  for (let start = text.indexOf('['); start >= 0; start = text.indexOf('[', start + 1)) {
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        if (ch === '\\') i++;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === '[' || ch === '{') depth++;
      else if ((ch === ']' || ch === '}') && --depth === 0) {
        try {
          const value = parseJson(text.slice(start, i + 1));
          if (Array.isArray(value) && value.length > 0) return validateTools(value);
        } catch {
          // not JSON, or not a tool list: try the next '['
        }
        break;
      }
    }
  }
  return undefined;
}

/** An assistant value that is a Python call list, or undefined for plain text. */
function callsIn(text: string): ToolCall[] | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[') || !trimmed.endsWith(']')) return undefined;
  try {
    const calls = parsePythonCalls(trimmed);
    return calls.length > 0 ? calls : undefined;
  } catch {
    return undefined;
  }
}

export interface ToolaceDialogue {
  instances: Instance[];
  /** Instances dropped because they call a tool that is not in the list. */
  dropped: number;
}

export function instancesFromToolace(value: Json, line: number): ToolaceDialogue {
  if (!isJsonObject(value)) throw new Error('record must be an object');
  if (typeof value.system !== 'string') throw new Error('system must be a string');
  if (!Array.isArray(value.conversations)) throw new Error('conversations must be a list');
  const tools = toolsInText(value.system);
  if (!tools) throw new Error('no JSON tool list found in the system text');
  const baseId = typeof value.id === 'string' ? value.id : String(line);

  const dialogue: ToolaceDialogue = { instances: [], dropped: 0 };
  const turns: Turn[] = [];
  value.conversations.forEach((m, i) => {
    if (!isJsonObject(m) || typeof m.value !== 'string') throw new Error(`conversations[${i}] needs a string value`);
    if (m.from === 'user' || m.from === 'tool') {
      turns.push({ role: m.from, content: m.value });
      return;
    }
    if (m.from !== 'assistant') throw new Error(`conversations[${i}] has an unexpected sender ${JSON.stringify(m.from)}`);
    const calls = callsIn(m.value);
    if (!calls) {
      turns.push({ role: 'assistant', content: m.value });
      return;
    }
    if (unknownToolCalled(calls, tools) !== undefined) dialogue.dropped++;
    else dialogue.instances.push({ id: `${baseId}-${i}`, turns: [...turns], tools, answers: calls });
    turns.push({ role: 'assistant', content: '', toolCalls: calls });
  });
  return dialogue;
}

export interface ToolaceLoad extends LoadResult<Instance> {
  dropped: number;
}

export function parseToolace(text: string): ToolaceLoad {
  const dialogues = parseRecords(text, instancesFromToolace);
  return {
    records: dialogues.records.flatMap((d) => d.instances),
    errors: dialogues.errors,
    dropped: dialogues.records.reduce((n, d) => n + d.dropped, 0),
  };
}
