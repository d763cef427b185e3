// API-Bank, Level-1 (Call: the APIs are described) and Level-2 (Retrieve+Call: only ToolSearcher is described,
// other APIs are found through it). Samples come from test-data/level-{1,2}-api.json: {file, id, instruction,
// input, expected_output}. Each becomes a Conversation in the thinking template (the instruction's API
// descriptions as tools, the dialogue as turns, earlier API calls as tool calls and their outputs as tool
// results), and a completion is judged by a port of the official per-API checks applied to the call's inputs.
//
// Where this differs from the official, execution-based scoring (API-Bank's evaluator runs the call in its
// simulator and compares the API's input AND output with the ground truth's):
// - Nothing is executed. Where the official check compares outputs, inputs stand in for them: a field that
//   decides the output (a token, a lookup keyword) must match, compared as the check compares it.
// - Lookup APIs judged on output only (Dictionary, Wiki, SearchEngine, PlayMusic) compare their keyword
//   case-insensitively; ToolSearcher, whose official check runs a sentence-embedding retriever, compares its
//   keywords by lower-cased whitespace-token Jaccard > 0.5; Translate compares src exactly and tgt_lang
//   case-insensitively (src_lang is not compared).
// - DeleteAgenda/DeleteReminder compare token and time (the official check compares time when both calls
//   succeed); DeleteMeeting compares token, start_time and end_time (the official one reads a `time` field this
//   API lacks, so a call whose ground truth succeeds always fails); RecordHealthData ignores health_data, as the
//   official check does.
// - The official evaluator extracts values with a regex from Python-call text and casts them by the declared
//   type; here values come from JSON and are cast the same way (str, int via isdigit, float, bool is
//   `== 'True'`, lists also accepted as Python list text). Only the first call of the block is judged.
// - Ground truths come from `expected_output`, parsed leniently (its list values are quoted, e.g.
//   attendees='['John']', which the official regex cannot read); the official evaluator reads the raw
//   dialogues instead. Eight TimedSwitch/CancelTimedSwitch samples name their device `device_id` while the
//   API declares `name` (officially unanswerable); the ground truth's own parameter names are accepted.
// Accuracy = correct / samples, reported per level.

import { decodeToolCalls, type ToolCall } from './decode.ts';
import { isJsonObject, parseJson, pyEquals, pyFloat, pyInt, type Json, type JsonObject } from './json.ts';
import type { Conversation, Turn } from './template.ts';
import { parsePythonLiteral } from '../data/toolace.ts';
import { parseRecords, type LoadResult } from '../data/load.ts';

export type ApiBankLevel = 1 | 2;

export interface ApiBankSample extends Conversation {
  /** `<dialogue file>#<sample id>`. */
  id: string;
  level: ApiBankLevel;
  tools: JsonObject[];
  /** The ground-truth call, values cast by the declared parameter types. */
  expected: ToolCall & { arguments: JsonObject };
}

// ---- the APIs: declared input types, optional parameters, and how each field is compared ------------------

type ParamType = 'str' | 'int' | 'float' | 'bool' | 'list' | 'list(str)';

/** exact: equal after casting; strip/lower/upper: compared after str.strip() (and case folding); jaccard: the
 *  sets of space-separated tokens overlap by more than half (jaccard_lower: lower-cased first); date/datetime/
 *  month_day: normalised through strptime as the official format_check does; formula: spaces removed. */
type FieldRule = 'exact' | 'strip' | 'lower' | 'upper' | 'jaccard' | 'jaccard_lower' | 'date' | 'datetime' | 'month_day' | 'formula' | 'ignore';

interface ApiSpec {
  params: Record<string, ParamType>;
  /** Parameters with a default in the API's signature; leaving any other out is an error. */
  optional?: string[];
  rules?: Record<string, FieldRule>;
}

const AGENDA: ApiSpec = { params: { token: 'str', content: 'str', time: 'str', location: 'str' }, rules: { content: 'jaccard' } };
const MEETING_PARAMS: Record<string, ParamType> = {
  token: 'str',
  meeting_topic: 'str',
  start_time: 'str',
  end_time: 'str',
  location: 'str',
  attendees: 'list(str)',
};
const MEETING: ApiSpec = { params: MEETING_PARAMS, rules: { meeting_topic: 'jaccard' } };
const REMINDER: ApiSpec = { params: { token: 'str', content: 'str', time: 'str' }, rules: { content: 'jaccard_lower' } };
const ALARM: ApiSpec = { params: { token: 'str', time: 'str' } };

const API_SPECS: Record<string, ApiSpec> = {
  AddAgenda: AGENDA,
  ModifyAgenda: AGENDA,
  QueryAgenda: AGENDA,
  DeleteAgenda: { params: AGENDA.params, rules: { content: 'ignore', location: 'ignore' } },
  AddMeeting: MEETING,
  ModifyMeeting: MEETING,
  QueryMeeting: MEETING,
  DeleteMeeting: { params: MEETING_PARAMS, rules: { meeting_topic: 'ignore', location: 'ignore', attendees: 'ignore' } },
  AddReminder: REMINDER,
  ModifyReminder: REMINDER,
  QueryReminder: REMINDER,
  DeleteReminder: { params: REMINDER.params, rules: { content: 'ignore' } },
  AddAlarm: ALARM,
  DeleteAlarm: ALARM,
  QueryAlarm: ALARM,
  ModifyAlarm: { params: { token: 'str', from_time: 'str', to_time: 'str' } },
  AppointmentRegistration: {
    params: { patient_name: 'str', date: 'str', doctor_name: 'str' },
    rules: { patient_name: 'strip', date: 'date', doctor_name: 'strip' },
  },
  ModifyRegistration: {
    params: { appointment_id: 'str', new_appointment_date: 'str', new_appointment_doctor: 'str' },
    optional: ['new_appointment_date', 'new_appointment_doctor'],
    rules: { appointment_id: 'strip', new_appointment_date: 'date', new_appointment_doctor: 'strip' },
  },
  CancelRegistration: { params: { appointment_id: 'str' }, rules: { appointment_id: 'strip' } },
  QueryRegistration: { params: { patient_name: 'str', date: 'str' }, rules: { patient_name: 'strip', date: 'date' } },
  BookHotel: {
    params: { hotel_name: 'str', check_in_time: 'str', check_out_time: 'str', room_count: 'int', adult_count: 'int', child_count: 'int' },
  },
  Calculator: { params: { formula: 'str' }, rules: { formula: 'formula' } },
  TimedSwitch: { params: { name: 'str', time: 'str', on: 'bool' }, rules: { name: 'lower', time: 'datetime' } },
  CancelTimedSwitch: { params: { name: 'str', time: 'str' }, rules: { name: 'lower', time: 'datetime' } },
  DeleteScene: { params: { name: 'str' }, rules: { name: 'lower' } },
  QueryScene: { params: { name: 'str' }, rules: { name: 'lower' } },
  GetUserToken: { params: { username: 'str', password: 'str' } },
  DeleteAccount: { params: { token: 'str' } },
  RegisterUser: { params: { username: 'str', password: 'str', email: 'str' } },
  ModifyPassword: { params: { token: 'str', old_password: 'str', new_password: 'str' } },
  ForgotPassword: {
    params: { status: 'str', username: 'str', email: 'str', verification_code: 'int', new_password: 'str' },
    optional: ['username', 'email', 'verification_code', 'new_password'],
  },
  OpenBankAccount: { params: { account: 'str', password: 'str', name: 'str' } },
  QueryBalance: { params: { token: 'str' }, rules: { token: 'strip' } },
  QueryStock: { params: { stock_code: 'str', date: 'str' }, rules: { stock_code: 'upper', date: 'date' } },
  QueryHealthData: {
    params: { user_id: 'str', start_time: 'str', end_time: 'str' },
    rules: { user_id: 'upper', start_time: 'datetime', end_time: 'datetime' },
  },
  RecordHealthData: {
    params: { user_id: 'str', time: 'str', health_data: 'list' },
    optional: ['health_data'],
    rules: { user_id: 'upper', time: 'datetime', health_data: 'ignore' },
  },
  QueryHistoryToday: { params: { date: 'str' }, rules: { date: 'month_day' } },
  EmergencyKnowledge: { params: { symptom: 'str' }, rules: { symptom: 'lower' } },
  SymptomSearch: { params: { symptom: 'str' }, rules: { symptom: 'lower' } },
  SendEmail: { params: { receiver: 'str', subject: 'str', content: 'str' }, rules: { receiver: 'lower', subject: 'strip', content: 'strip' } },
  DocumentQA: { params: { url: 'str', question: 'str' }, rules: { url: 'strip', question: 'strip' } },
  ImageCaption: { params: { url: 'str' } },
  SpeechRecognition: { params: { url: 'str' } },
  Translate: {
    params: { src: 'str', src_lang: 'str', tgt_lang: 'str' },
    optional: ['src_lang', 'tgt_lang'],
    rules: { src_lang: 'ignore', tgt_lang: 'lower' },
  },
  Dictionary: { params: { keyword: 'str' }, rules: { keyword: 'lower' } },
  Wiki: { params: { keyword: 'str' }, rules: { keyword: 'lower' } },
  SearchEngine: { params: { keyword: 'str' }, rules: { keyword: 'lower' } },
  PlayMusic: { params: { music_name: 'str' }, rules: { music_name: 'lower' } },
  GetToday: { params: {} },
  ToolSearcher: { params: { keywords: 'str' }, rules: { keywords: 'jaccard_lower' } },
};

// ---- casting values by declared type (tool_manager.api_call) ---------------------------------------------

/** The text the official regex would have captured for a JSON scalar. */
function asText(value: Json): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null) return 'None';
  if (!Array.isArray(value) && !isJsonObject(value)) return value.value;
  throw new Error('a list or dict where a scalar is expected');
}

function castValue(value: Json, type: ParamType): Json {
  if (type === 'bool') return value === true || value === 'True';
  if (type === 'list' || type === 'list(str)') {
    const list = typeof value === 'string' ? parsePythonLiteral(value) : value;
    if (!Array.isArray(list)) throw new Error('expected a list');
    return list;
  }
  const text = asText(value);
  if (type === 'str') return text;
  if (type === 'int') {
    if (!/^\d+$/.test(text)) throw new Error(`not an int: ${text}`);
    return pyInt(BigInt(text));
  }
  if (!/^\d+$/.test(text.replace('.', ''))) throw new Error(`not a float: ${text}`);
  return pyFloat(Number(text));
}

/** Arguments cast by the API's declared types; names the API does not declare are kept as strings. */
function castArguments(spec: ApiSpec, args: JsonObject): JsonObject {
  const cast: JsonObject = {};
  for (const [name, value] of Object.entries(args)) cast[name] = castValue(value, spec.params[name] ?? 'str');
  return cast;
}

// ---- comparing fields ------------------------------------------------------------------------------------

const DATE_RE = '(\\d{4})-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\\d|0[1-9]|[1-9]| [1-9])';
const TIME_RE = '(2[0-3]|[0-1]\\d|\\d):([0-5]\\d|\\d):([0-5]\\d|\\d)';
const MONTH_DAY_RE = /^(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])$/;
const pad2 = (n: number) => String(n).padStart(2, '0');

function validDay(year: number, month: number, day: number): boolean {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day <= days;
}

/** The official format_check: a short year is zero-filled, then strptime/strftime; null if it does not parse. */
function normalizeDate(s: string, withTime: boolean): string | null {
  const parts = s.trim().split('-');
  if (parts.length === 3 && parts[0].length < 4) parts[0] = parts[0].padStart(4, '0');
  const m = new RegExp(`^${DATE_RE}${withTime ? `\\s+${TIME_RE}` : ''}$`).exec(parts.join('-'));
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!validDay(year, month, day)) return null;
  const date = `${m[1]}-${pad2(month)}-${pad2(day)}`;
  return withTime ? `${date} ${pad2(Number(m[4]))}:${pad2(Number(m[5]))}:${pad2(Number(m[6]))}` : date;
}

/** QueryHistoryToday: %Y-%m-%d or %m-%d, compared as %m-%d (strptime's default year 1900 has no Feb 29). */
function normalizeMonthDay(s: string): string | null {
  const full = normalizeDate(s, false);
  if (full) return full.slice(5);
  const m = MONTH_DAY_RE.exec(s.trim());
  if (!m || !validDay(1900, Number(m[1]), Number(m[2]))) return null;
  return `${pad2(Number(m[1]))}-${pad2(Number(m[2]))}`;
}

function tokenJaccard(a: string, b: string): number {
  const ta = new Set(a.split(' '));
  const tb = new Set(b.split(' '));
  const shared = [...ta].filter((t) => tb.has(t)).length;
  return shared / new Set([...ta, ...tb]).size;
}

const NORMALIZE: Partial<Record<FieldRule, (s: string) => string | null>> = {
  strip: (s) => s.trim(),
  lower: (s) => s.trim().toLowerCase(),
  upper: (s) => s.trim().toUpperCase(),
  date: (s) => normalizeDate(s, false),
  datetime: (s) => normalizeDate(s, true),
  month_day: normalizeMonthDay,
  formula: (s) => s.replaceAll(' ', ''),
};

function fieldMatches(rule: FieldRule, predicted: Json | undefined, truth: Json | undefined): boolean {
  if (rule === 'ignore') return true;
  if (predicted === undefined || truth === undefined) return predicted === truth;
  if (rule === 'exact' || typeof predicted !== 'string' || typeof truth !== 'string') return pyEquals(predicted, truth);
  if (rule === 'jaccard') return tokenJaccard(predicted, truth) > 0.5;
  if (rule === 'jaccard_lower') return tokenJaccard(predicted.toLowerCase(), truth.toLowerCase()) > 0.5;
  const normalize = NORMALIZE[rule]!;
  const [p, t] = [normalize(predicted), normalize(truth)];
  return p !== null && p === t;
}

// ---- judging ---------------------------------------------------------------------------------------------

export interface ApiBankVerdict {
  correct: boolean;
  /** no_api_call, api_name_mismatch, invalid_parameter, invalid_parameter_type, missing_parameter,
   *  input_mismatch; null when correct. */
  error: string | null;
}

const wrong = (error: string): ApiBankVerdict => ({ correct: false, error });

/** The first call of the completion's first <tool_call> block, judged against the sample's ground truth. */
export function judgeApiBank(sample: ApiBankSample, completion: string): ApiBankVerdict {
  const calls = decodeToolCalls(completion);
  const call = calls?.[0];
  if (!call || !isJsonObject(call.arguments)) return wrong('no_api_call');
  const expected = sample.expected;
  if (call.name !== expected.name) return wrong('api_name_mismatch');
  const spec = API_SPECS[expected.name];
  const names = new Set([...Object.keys(spec.params), ...Object.keys(expected.arguments)]);
  if (Object.keys(call.arguments).some((name) => !names.has(name))) return wrong('invalid_parameter');
  let given: JsonObject;
  try {
    given = castArguments(spec, call.arguments);
  } catch {
    return wrong('invalid_parameter_type');
  }
  const required = Object.keys(spec.params).filter((p) => !spec.optional?.includes(p));
  if (required.some((p) => Object.hasOwn(expected.arguments, p) && !Object.hasOwn(given, p))) {
    return wrong('missing_parameter');
  }
  for (const name of names) {
    if (!fieldMatches(spec.rules?.[name] ?? 'exact', given[name], expected.arguments[name])) return wrong('input_mismatch');
  }
  return { correct: true, error: null };
}

export interface ApiBankScore {
  level: ApiBankLevel;
  accuracy: number;
  correct: number;
  total: number;
}

/** Accuracy per level (completions[i] answers samples[i]); levels without samples are left out. */
export function scoreApiBank(samples: ApiBankSample[], completions: string[]): ApiBankScore[] {
  return ([1, 2] as const).flatMap((level) => {
    const indices = samples.flatMap((s, i) => (s.level === level ? [i] : []));
    if (indices.length === 0) return [];
    const correct = indices.filter((i) => judgeApiBank(samples[i], completions[i]).correct).length;
    return [{ level, accuracy: correct / indices.length, correct, total: indices.length }];
  });
}

// ---- loading ---------------------------------------------------------------------------------------------

/** `level-2-api.json` → 2. */
export function apiBankLevelOfFileName(fileName: string): ApiBankLevel | undefined {
  const m = /level-([12])-api\.json$/.exec(fileName);
  return m ? (Number(m[1]) as ApiBankLevel) : undefined;
}

/** `key='value', n=3, xs=['a', 'b']` → raw texts by key. A quoted value ends at the first matching quote that
 *  is followed by the next `key=` or the end, so quotes inside values (attendees='['John']') survive. */
function splitApiParams(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  const key = /\s*(\w+)\s*=\s*/y;
  const nextKey = /\s*(?:,\s*\w+\s*=|$)/y;
  let pos = 0;
  while (text.slice(pos).trim() !== '') {
    key.lastIndex = pos;
    const k = key.exec(text);
    if (!k) throw new Error(`cannot read the parameters: ${text}`);
    pos = key.lastIndex;
    const quote = text[pos];
    let end = -1;
    let value: string;
    if (quote === "'" || quote === '"') {
      for (let i = pos + 1; i < text.length && end < 0; i++) {
        nextKey.lastIndex = i + 1;
        if (text[i] === quote && nextKey.test(text)) end = i + 1;
      }
      if (end < 0) throw new Error(`unterminated value for ${k[1]}`);
      value = text.slice(pos + 1, end - 1);
    } else {
      const next = /,\s*\w+\s*=/g;
      next.lastIndex = pos;
      end = next.exec(text)?.index ?? text.length;
      value = text.slice(pos, end).trim();
    }
    params[k[1]] = value;
    pos = end;
    while (text[pos] === ',' || text[pos] === ' ') pos++;
  }
  return params;
}

/** `[ApiName(key='value', ...)]`, found as the official regex finds it, with raw string values. */
export function parseApiRequest(text: string): { name: string; params: Record<string, string> } {
  const m = /\[(\w+)\((.*)\)\]/.exec(text);
  if (!m) throw new Error(`no [ApiName(...)] call in ${JSON.stringify(text)}`);
  return { name: m[1], params: splitApiParams(m[2]) };
}

/** A call from the dialogue with values typed as its API declares them (left as text when that fails). */
function typedCall(text: string): ToolCall {
  const { name, params } = parseApiRequest(text);
  const spec = API_SPECS[name];
  try {
    return { name, arguments: spec ? castArguments(spec, params) : params };
  } catch {
    return { name, arguments: params };
  }
}

/** The `input` dialogue: User/AI lines, and `API-Request: [Call(...)]->output` lines as a call and its result. */
function dialogueTurns(input: string): Turn[] {
  const turns: Turn[] = [];
  for (const line of input.split('\n')) {
    if (line === '' || line.startsWith('Generate API Request:')) continue;
    const last = turns[turns.length - 1];
    if (line.startsWith('User: ')) turns.push({ role: 'user', content: line.slice(6) });
    else if (line.startsWith('AI: ')) turns.push({ role: 'assistant', content: line.slice(4) });
    else if (line.startsWith('API-Request: ')) {
      const arrow = line.indexOf(')]->');
      if (arrow < 0) throw new Error(`API-Request without an output: ${line}`);
      const call = typedCall(line.slice(13, arrow + 2));
      // The AI line announcing the call and the call itself are one assistant turn.
      if (last?.role === 'assistant' && !last.toolCalls) last.toolCalls = [call];
      else turns.push({ role: 'assistant', content: '', toolCalls: [call] });
      turns.push({ role: 'tool', content: line.slice(arrow + 4) });
    } else if (last) last.content += `\n${line}`;
    else throw new Error(`unexpected first line: ${line}`);
  }
  return turns;
}

function sampleFromRecord(value: Json, level: ApiBankLevel): ApiBankSample {
  if (!isJsonObject(value)) throw new Error('record must be an object');
  const { file, id, instruction, input, expected_output: expectedOutput } = value;
  if (typeof file !== 'string' || typeof instruction !== 'string' || typeof input !== 'string' || typeof expectedOutput !== 'string') {
    throw new Error('record needs string file, instruction, input and expected_output');
  }
  const descriptions = instruction.split('API descriptions:')[1] ?? '';
  const tools = descriptions
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => parseJson(line))
    .filter((tool): tool is JsonObject => isJsonObject(tool) && typeof tool.name === 'string');
  if (tools.length === 0) throw new Error('no API descriptions in the instruction');
  const { name, params } = parseApiRequest(expectedOutput);
  const spec = API_SPECS[name];
  if (!spec) throw new Error(`unknown API ${name}`);
  return {
    id: `${file}#${id === undefined ? '' : asText(id)}`,
    level,
    tools,
    turns: dialogueTurns(input),
    system: /The current year is \d+\./.exec(instruction)?.[0],
    expected: { name, arguments: castArguments(spec, params) },
  };
}

export function parseApiBank(text: string, level: ApiBankLevel): LoadResult<ApiBankSample> {
  return parseRecords(text, (value) => sampleFromRecord(value, level));
}
