// JSON the way the paper's Python code sees it.
//
// The reward compares `json.dumps(arguments, sort_keys=True)` strings, so `1`, `1.0` and `"1"` are three
// different values and `1e-07` is spelled the Python way. JSON.parse would fold 1 and 1.0 together, so numbers
// are parsed with lossless-json and kept as their source text (a LosslessNumber); a literal with '.', 'e' or
// 'E' is a Python float, any other is a Python int. pyDumps prints a value exactly as json.dumps does with its
// defaults (ensure_ascii, separators ", " and ": "), optionally with keys sorted.

import { LosslessNumber, isLosslessNumber, parse } from 'lossless-json';

export { LosslessNumber };
export type Json = null | boolean | string | LosslessNumber | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** Deeper JSON is refused before parsing: the parser and everything that walks the value recurse. */
export const MAX_JSON_DEPTH = 512;

/** The deepest nesting of arrays and objects in the text (brackets inside strings do not count). */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/**
 * Parses JSON text, numbers kept lossless. Throws on invalid JSON and on nesting deeper than MAX_JSON_DEPTH.
 * A repeated key keeps its first position and its last value, as Python's json.loads does.
 */
export function parseJson(text: string): Json {
  const depth = nestingDepth(text);
  if (depth > MAX_JSON_DEPTH) throw new SyntaxError(`JSON nested ${depth} levels deep (the limit is ${MAX_JSON_DEPTH})`);
  return parse(text, null, { onDuplicateKey: ({ newValue }) => newValue }) as Json;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value);
}

export function isFloatLiteral(n: LosslessNumber): boolean {
  return /[.eE]/.test(n.value);
}

/** A Python int. */
export function pyInt(n: number | bigint): LosslessNumber {
  if (typeof n === 'number' && !Number.isInteger(n)) throw new Error(`pyInt of a non-integer ${n}`);
  return new LosslessNumber(BigInt(n).toString());
}

/** A Python float: pyFloat(2) prints as 2.0. */
export function pyFloat(x: number): LosslessNumber {
  if (!Number.isFinite(x)) throw new Error(`pyFloat of a non-finite ${x}`);
  return new LosslessNumber(pythonFloatRepr(x));
}

/** Python's repr(float): shortest round-trip digits, exponent form below 1e-4 and from 1e16 on. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest digits that round-trip, as Python's repr does.
  const [mantissa, expText] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const expSign = exp < 0 ? '-' : '+';
    return `${sign}${digits[0]}${frac}e${expSign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fracPart = digits.slice(exp + 1) || '0';
  return `${sign}${intPart}.${fracPart}`;
}

/** How json.dumps prints a number literal read by json.loads. */
function dumpsNumber(n: LosslessNumber): string {
  if (!isFloatLiteral(n)) return BigInt(n.value).toString();
  const x = Number(n.value);
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity'; // json.loads turns 1e999 into inf
  return pythonFloatRepr(x);
}

/** json.dumps string escaping with ensure_ascii=True: only printable ASCII stays as is. */
function dumpsString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i); // UTF-16 units: astral characters come out as surrogate pairs, as in Python
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c >= 0x20 && c < 0x7f) out += s[i];
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else out += `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return out + '"';
}

/** Python orders str keys by code point; JS's default sort compares UTF-16 units, which differs above U+FFFF. */
function compareCodePoints(a: string, b: string): number {
  const ca = Array.from(a, (ch) => ch.codePointAt(0)!);
  const cb = Array.from(b, (ch) => ch.codePointAt(0)!);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) if (ca[i] !== cb[i]) return ca[i] - cb[i];
  return ca.length - cb.length;
}

/** Python's json.dumps(value, sort_keys=sortKeys) with every other option at its default. */
export function pyDumps(value: Json, options: { sortKeys?: boolean } = {}): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') return dumpsString(value);
  if (isLosslessNumber(value)) return dumpsNumber(value);
  if (Array.isArray(value)) return `[${value.map((v) => pyDumps(v, options)).join(', ')}]`;
  const keys = Object.keys(value);
  if (options.sortKeys) keys.sort(compareCodePoints);
  return `{${keys.map((k) => `${dumpsString(k)}: ${pyDumps(value[k], options)}`).join(', ')}}`;
}

/** The reward's comparison key: json.dumps with keys sorted recursively. */
export function canonicalJson(value: Json): string {
  return pyDumps(value, { sortKeys: true });
}

export type PyType = 'str' | 'int' | 'float' | 'bool' | 'NoneType' | 'list' | 'dict';

/** The Python type json.loads would give this value. */
export function pyType(value: Json): PyType {
  if (value === null) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'string') return 'str';
  if (isLosslessNumber(value)) return isFloatLiteral(value) ? 'float' : 'int';
  return Array.isArray(value) ? 'list' : 'dict';
}

/** A number as Python compares it: bools are 0/1, ints exact (bigint), floats as doubles. */
function pyNumeric(value: Json): bigint | number | undefined {
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (!isLosslessNumber(value)) return undefined;
  return isFloatLiteral(value) ? Number(value.value) : BigInt(value.value);
}

function numericEquals(a: bigint | number, b: bigint | number): boolean {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a === b;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  // int vs float: Python compares the exact values, so a float equals an int only if it is that integer.
  const [int, float] = typeof a === 'bigint' ? [a, b as number] : [b as bigint, a];
  return Number.isInteger(float) && BigInt(float) === int;
}

/** Python's `a == b` on json.loads values: 5 == 5.0, True == 1, lists in order, dicts by key set. */
export function pyEquals(a: Json, b: Json): boolean {
  const na = pyNumeric(a);
  const nb = pyNumeric(b);
  if (na !== undefined || nb !== undefined) return na !== undefined && nb !== undefined && numericEquals(na, nb);
  if (a === null || b === null || typeof a === 'string' || typeof b === 'string') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => pyEquals(v, b[i]));
  }
  const aObj = a as JsonObject;
  const bObj = b as JsonObject;
  const keys = Object.keys(aObj);
  return keys.length === Object.keys(bObj).length && keys.every((k) => Object.hasOwn(bObj, k) && pyEquals(aObj[k], bObj[k]));
}
