// BFCL v3 (Berkeley Function Calling Leaderboard), single-turn categories: loading, the AST checker with the
// official rules and error kinds, relevance scoring, and the two ways of summarising the categories.
//
// Completions are decoded as the paper's evaluation does (first <tool_call> block, a JSON list of
// {name, arguments}); each call then plays the part of BFCL's decoded `{name: arguments}`.

import { decodeToolCalls, type ToolCall } from './decode.ts';
import { isJsonObject, pyEquals, pyFloat, pyType, type Json, type JsonObject, type LosslessNumber, type PyType } from './json.ts';
import type { Conversation, Turn } from './template.ts';
import { parseRecords, type LoadResult } from '../data/load.ts';

export const BFCL_CATEGORIES = [
  'simple',
  'multiple',
  'parallel',
  'parallel_multiple',
  'irrelevance',
  'live_simple',
  'live_multiple',
  'live_parallel',
  'live_parallel_multiple',
  'live_irrelevance',
  'live_relevance',
] as const;

/** A question is a ready Conversation: its functions are the tools, shown with BFCL's own types. */
export interface BfclQuestion extends Conversation {
  id: string;
  tools: JsonObject[];
}

/** One expected call: for each parameter, the acceptable values ("" among them: the parameter may be left out). */
export interface BfclExpectedCall {
  name: string;
  params: Record<string, Json[]>;
}

export interface BfclAnswer {
  id: string;
  calls: BfclExpectedCall[];
}

/** `BFCL_v3_live_simple.json` → "live_simple". */
export function categoryOfFileName(fileName: string): string | undefined {
  return /BFCL_v\d+_(\w+?)\.json[l]?$/.exec(fileName)?.[1];
}

/** `live_simple_19-3-15` → "live_simple". */
export function categoryOfId(id: string): string {
  return id.slice(0, id.lastIndexOf('_'));
}

/** irrelevance, live_irrelevance and live_relevance are scored on call presence alone. */
export function isRelevanceCategory(category: string): boolean {
  return category.includes('relevance');
}

// ---- loading --------------------------------------------------------------------------------------------

function questionFromRecord(value: Json): BfclQuestion {
  if (!isJsonObject(value) || typeof value.id !== 'string') throw new Error('record needs a string id');
  const question = value.question;
  if (!Array.isArray(question) || question.length === 0) throw new Error('question must be a non-empty list');
  if (Array.isArray(question[0]) && question.length > 1) throw new Error('multi-turn questions are not supported');
  const messages = Array.isArray(question[0]) ? question[0] : question;
  const turns: Turn[] = [];
  const system: string[] = [];
  for (const m of messages) {
    if (!isJsonObject(m) || typeof m.content !== 'string') throw new Error('every message needs a string content');
    if (m.role === 'system') system.push(m.content);
    else if (m.role === 'user' || m.role === 'assistant') turns.push({ role: m.role, content: m.content });
    else throw new Error(`unexpected role ${JSON.stringify(m.role)}`);
  }
  const functions = value.function;
  if (!Array.isArray(functions)) throw new Error('function must be a list');
  const tools = functions.map((f, i) => {
    const params = isJsonObject(f) ? f.parameters : undefined;
    if (!isJsonObject(f) || typeof f.name !== 'string' || !isJsonObject(params) || !isJsonObject(params.properties)) {
      throw new Error(`function[${i}] needs a name and parameters.properties`);
    }
    return f;
  });
  return { id: value.id, tools, turns, system: system.length > 0 ? system.join('\n\n') : undefined };
}

function answerFromRecord(value: Json): BfclAnswer {
  if (!isJsonObject(value) || typeof value.id !== 'string') throw new Error('record needs a string id');
  if (!Array.isArray(value.ground_truth)) throw new Error('ground_truth must be a list');
  const calls = value.ground_truth.map((call, i) => {
    const names = isJsonObject(call) ? Object.keys(call) : [];
    if (!isJsonObject(call) || names.length !== 1 || !isJsonObject(call[names[0]])) {
      throw new Error(`ground_truth[${i}] must be {"<function>": {"<param>": [values...]}}`);
    }
    const params: Record<string, Json[]> = {};
    for (const [param, alternatives] of Object.entries(call[names[0]] as JsonObject)) {
      if (!Array.isArray(alternatives)) throw new Error(`ground_truth[${i}].${param} must be a list of values`);
      params[param] = alternatives;
    }
    return { name: names[0], params };
  });
  return { id: value.id, calls };
}

export function parseBfclQuestions(text: string): LoadResult<BfclQuestion> {
  return parseRecords(text, questionFromRecord);
}

export function parseBfclAnswers(text: string): LoadResult<BfclAnswer> {
  return parseRecords(text, answerFromRecord);
}

// ---- the AST checker ------------------------------------------------------------------------------------

export interface CheckResult {
  valid: boolean;
  /** BFCL's error_type, e.g. "simple_function_checker:missing_required", or null when valid. */
  error: string | null;
}

const VALID: CheckResult = { valid: true, error: null };
const invalid = (error: string): CheckResult => ({ valid: false, error });

/** BFCL's Python types for its parameter type words ("any" is checked as a string, as BFCL does). */
const PY_TYPE_OF: Record<string, PyType> = {
  string: 'str',
  integer: 'int',
  float: 'float',
  boolean: 'bool',
  array: 'list',
  tuple: 'list',
  dict: 'dict',
  any: 'str',
};

interface ParamDoc {
  type?: string;
  itemsType?: string;
}

function paramDocs(doc: JsonObject): Record<string, ParamDoc> {
  const properties = (doc.parameters as JsonObject).properties as JsonObject;
  const docs: Record<string, ParamDoc> = {};
  for (const [name, p] of Object.entries(properties)) {
    const items = isJsonObject(p) ? p.items : undefined;
    docs[name] = {
      type: isJsonObject(p) && typeof p.type === 'string' ? p.type : undefined,
      itemsType: isJsonObject(items) && typeof items.type === 'string' ? items.type : undefined,
    };
  }
  return docs;
}

function requiredParams(doc: JsonObject): string[] {
  const required = (doc.parameters as JsonObject).required;
  return Array.isArray(required) ? required.filter((r): r is string => typeof r === 'string') : [];
}

/** Lower-cased, without the characters " ,./-_*^", single quotes turned double: "April 1, 2024" ~ "april12024". */
export function standardizeString(s: string): string {
  return s.replace(/[ ,./\-_*^]/g, '').toLowerCase().replaceAll("'", '"');
}

const standardized = (v: Json): Json => (typeof v === 'string' ? standardizeString(v) : v);
const includesValue = (options: Json[], value: Json) => options.some((o) => pyEquals(value, o));

/** The type of the first alternative that is not "": what the answer itself expects. */
function answerType(alternatives: Json[]): PyType | undefined {
  const first = alternatives.find((a) => a !== '');
  return first === undefined ? undefined : pyType(first);
}

interface TypeCheck {
  valid: boolean;
  /** The answer's values have another type than the doc's (BFCL calls it a variable): compare them plainly. */
  isVariable: boolean;
  error?: string;
}

/** BFCL's type_checker: the doc type, or else the answer's own type; array items checked one level deep. */
function typeCheck(value: Json, alternatives: Json[], expected: PyType | undefined, nested: PyType | undefined): TypeCheck {
  const fromAnswer = answerType(alternatives);
  const isVariable = fromAnswer !== undefined && fromAnswer !== expected;
  let nestedFailed = false;
  if (pyType(value) === expected) {
    if (nested === undefined) return { valid: true, isVariable };
    // Every item must have the item type (or the type of that alternative's items); a non-list alternative,
    // such as "", skips the check.
    const itemsFit = (alternative: Json) =>
      !Array.isArray(alternative) || (value as Json[]).every((item) => typeCheck(item, alternative, nested, undefined).valid);
    if (alternatives.some(itemsFit)) return { valid: true, isVariable };
    nestedFailed = true;
  }
  if (fromAnswer !== undefined && pyType(value) === fromAnswer) {
    return nestedFailed ? { valid: false, isVariable: true, error: 'type_error:nested' } : { valid: true, isVariable: true };
  }
  return { valid: false, isVariable, error: 'type_error:simple' };
}

function stringCheck(value: string, alternatives: Json[]): CheckResult {
  const options = alternatives.filter((a) => typeof a === 'string').map(standardized);
  return includesValue(options, standardizeString(value)) ? VALID : invalid('value_error:string');
}

function listCheck(value: Json[], alternatives: Json[]): CheckResult {
  // Python walks an alternative with len() and indexing, so a string alternative reads as its characters
  // ("" as the empty list); other non-lists cannot match.
  const options = alternatives.flatMap((a) =>
    Array.isArray(a) ? [a.map(standardized)] : typeof a === 'string' ? [Array.from(a, standardized)] : [],
  );
  return includesValue(options, value.map(standardized)) ? VALID : invalid('value_error:list/tuple');
}

/** Each model key must be in the alternative with an acceptable value; each key without "" must be given. */
function dictCheck(value: JsonObject, alternatives: Json[]): CheckResult {
  let result = invalid('dict_checker:unclear');
  for (const alternative of alternatives) {
    if (alternative === '') continue;
    result = invalid('dict_checker:unclear');
    let fits = true;
    const answer = isJsonObject(alternative) ? alternative : {};
    for (const [key, v] of Object.entries(value)) {
      const options = answer[key];
      if (!Object.hasOwn(answer, key)) {
        result = invalid('value_error:dict_key');
        fits = false;
        break;
      }
      if (!Array.isArray(options) || !includesValue(options.map(standardized), standardized(v))) {
        result = invalid('value_error:dict_value');
        fits = false;
        break;
      }
    }
    for (const [key, options] of Object.entries(answer)) {
      if (!Object.hasOwn(value, key) && !(Array.isArray(options) && options.includes(''))) {
        result = invalid('value_error:dict_key');
        fits = false;
        break;
      }
    }
    if (fits) return VALID;
  }
  return result;
}

/** A list of dicts: same length as an alternative, each dict checked against the one at its position. */
function listDictCheck(value: Json[], alternatives: Json[]): CheckResult {
  let result = invalid('list_dict_checker:unclear');
  for (const alternative of alternatives) {
    const expected = Array.isArray(alternative) ? alternative : typeof alternative === 'string' ? Array.from(alternative) : undefined;
    if (expected === undefined) continue;
    if (value.length !== expected.length) {
      result = invalid('value_error:list_dict_count');
      continue;
    }
    let fits = true;
    for (let i = 0; i < value.length && fits; i++) {
      result = dictCheck(value[i] as JsonObject, [expected[i]]);
      fits = result.valid;
    }
    if (fits) return VALID;
  }
  return result;
}

/** BFCL's simple_function_checker: one model call against one expected call and its function doc. */
function simpleCheck(doc: JsonObject | undefined, call: ToolCall, expected: BfclExpectedCall): CheckResult {
  if (!doc || call.name !== doc.name) return invalid('simple_function_checker:wrong_func_name');
  const args = call.arguments as JsonObject;
  const docs = paramDocs(doc);
  for (const param of requiredParams(doc)) {
    if (!Object.hasOwn(args, param)) return invalid('simple_function_checker:missing_required');
  }
  for (const [param, given] of Object.entries(args)) {
    if (!Object.hasOwn(docs, param) || !Object.hasOwn(expected.params, param)) {
      return invalid('simple_function_checker:unexpected_param');
    }
    const alternatives = expected.params[param];
    const docType = docs[param].type ?? '';
    const expectedType = PY_TYPE_OF[docType];
    const nestedType = docType === 'array' || docType === 'tuple' ? PY_TYPE_OF[docs[param].itemsType ?? ''] : undefined;
    // Python's int → float promotion for float parameters (top level only).
    const value = docType === 'float' && pyType(given) === 'int' ? pyFloat(Number((given as LosslessNumber).value)) : given;

    const types = typeCheck(value, alternatives, expectedType, nestedType);
    if (!types.valid) return invalid(types.error!);
    if (!types.isVariable) {
      let result: CheckResult | undefined;
      if (expectedType === 'dict') result = dictCheck(value as JsonObject, alternatives);
      else if (expectedType === 'list' && nestedType === 'dict') result = listDictCheck(value as Json[], alternatives);
      else if (expectedType === 'str') result = stringCheck(value as string, alternatives);
      else if (expectedType === 'list') result = listCheck(value as Json[], alternatives);
      if (result) {
        if (!result.valid) return result;
        continue;
      }
    }
    if (!includesValue(alternatives, value)) return invalid('value_error:others');
  }
  for (const [param, alternatives] of Object.entries(expected.params)) {
    if (!Object.hasOwn(args, param) && !alternatives.includes('')) {
      return invalid('simple_function_checker:missing_optional');
    }
  }
  return VALID;
}

const docNamed = (tools: JsonObject[], name: string) => tools.find((t) => t.name === name);

/** Each expected call, in order, takes the first unused model call that passes the simple check. */
function parallelCheck(tools: JsonObject[], calls: ToolCall[], expected: BfclExpectedCall[]): CheckResult {
  if (calls.length !== expected.length) return invalid('parallel_function_checker_no_order:wrong_count');
  const used = new Set<number>();
  for (const exp of expected) {
    const doc = docNamed(tools, exp.name);
    const match = calls.findIndex((call, i) => !used.has(i) && simpleCheck(doc, call, exp).valid);
    if (match < 0) return invalid('parallel_function_checker_no_order:cannot_find_match');
    used.add(match);
  }
  return VALID;
}

/** BFCL's ast_checker dispatch on the category name. */
export function astCheck(category: string, tools: JsonObject[], calls: ToolCall[], expected: BfclExpectedCall[]): CheckResult {
  if (category.includes('parallel')) return parallelCheck(tools, calls, expected);
  if (category.includes('multiple')) {
    if (calls.length !== expected.length) return invalid('multiple_function_checker:wrong_count');
    return simpleCheck(docNamed(tools, expected[0].name), calls[0], expected[0]);
  }
  if (calls.length !== 1) return invalid('simple_function_checker:wrong_count');
  return simpleCheck(tools[0], calls[0], expected[0]);
}

/** One completion judged the way BFCL judges its category. `answer` is unused for (ir)relevance. */
export function checkBfcl(category: string, question: BfclQuestion, answer: BfclAnswer | undefined, completion: string): CheckResult {
  const calls = decodeToolCalls(completion);
  const wellFormed = calls !== null && calls.every((c) => isJsonObject(c.arguments));
  if (isRelevanceCategory(category)) {
    // "No call": a decode failure, an empty list, or output not in {name: {arguments}} form.
    const hasCall = wellFormed && calls.length > 0;
    if (category.includes('irrelevance')) return hasCall ? invalid('irrelevance_error:decoder_success') : VALID;
    return hasCall ? VALID : invalid('relevance_error:decoder_failed');
  }
  if (!answer) throw new Error(`no possible answer for ${question.id}`);
  if (calls === null) return invalid('ast_decoder:decoder_failed');
  if (!wellFormed) return invalid('ast_decoder:decoder_wrong_output_format');
  return astCheck(category, question.tools, calls, answer.calls);
}

// ---- scores and summaries -------------------------------------------------------------------------------

export interface EntryResult extends CheckResult {
  id: string;
}

export interface CategoryScore {
  category: string;
  accuracy: number;
  correct: number;
  total: number;
}

/** What a question without a result scores as: wrong, like an empty completion would be. */
export const MISSING_RESULT = 'missing_result';

export interface BfclScoring {
  /** one per question, in question order */
  entries: EntryResult[];
  /** correct / total, total = every question record (unreadable ones included, as wrong) */
  score: CategoryScore;
  /** result ids that are no question of the category: not scored */
  unknownIds: string[];
  /** ids with more than one result: the first one is scored */
  duplicateIds: string[];
}

/**
 * Scores a category over its questions, not over the results: a question without a result counts as wrong
 * (MISSING_RESULT), and so does each of `unreadable` question records that could not be read.
 */
export function scoreBfcl(
  category: string,
  questions: BfclQuestion[],
  answers: BfclAnswer[] | undefined,
  results: { id: string; result: string }[],
  unreadable = 0,
): BfclScoring {
  const questionIds = new Set(questions.map((q) => q.id));
  const answerById = new Map((answers ?? []).map((a) => [a.id, a]));
  const resultById = new Map<string, string>();
  const unknownIds: string[] = [];
  const duplicateIds: string[] = [];
  for (const { id, result } of results) {
    if (!questionIds.has(id)) unknownIds.push(id);
    else if (resultById.has(id)) duplicateIds.push(id);
    else resultById.set(id, result);
  }
  const entries = questions.map((question): EntryResult => {
    const { id } = question;
    const result = resultById.get(id);
    if (result === undefined) return { id, valid: false, error: MISSING_RESULT };
    if (!isRelevanceCategory(category) && !answerById.has(id)) return { id, valid: false, error: 'missing_possible_answer' };
    return { id, ...checkBfcl(category, question, answerById.get(id), result) };
  });
  const correct = entries.filter((e) => e.valid).length;
  const total = entries.length + unreadable;
  return { entries, score: { category, accuracy: total > 0 ? correct / total : 0, correct, total }, unknownIds, duplicateIds };
}

export interface BfclSummary {
  /** The Tool-N1 paper's table. */
  paper: {
    /** Unweighted mean of Simple, Multiple, Parallel, Parallel-Multiple. */
    nonLive: number | null;
    /** Entry-weighted mean of the four live AST categories. */
    live: number | null;
    overall: number | null;
    /** BFCL's Simple averages Python, Java and JavaScript; only Python is scored here. */
    simpleLabel: string;
  };
  /** BFCL v3's own summaries. */
  bfcl: {
    /** Unweighted mean of the four non-live AST categories and irrelevance. */
    nonLiveOverall: number | null;
    /** Entry-weighted mean of the four live AST categories, live_irrelevance and live_relevance. */
    liveOverall: number | null;
  };
}

export function summarizeBfcl(scores: CategoryScore[]): BfclSummary {
  const byName = new Map(scores.map((s) => [s.category, s]));
  const pick = (names: string[]) => {
    const found = names.map((n) => byName.get(n));
    return found.every((s) => s !== undefined) ? (found as CategoryScore[]) : null;
  };
  const mean = (names: string[]) => {
    const s = pick(names);
    return s ? s.reduce((sum, c) => sum + c.accuracy, 0) / s.length : null;
  };
  const weighted = (names: string[]) => {
    const s = pick(names);
    return s ? s.reduce((n, c) => n + c.correct, 0) / s.reduce((n, c) => n + c.total, 0) : null;
  };
  const nonLiveAst = ['simple', 'multiple', 'parallel', 'parallel_multiple'];
  const liveAst = ['live_simple', 'live_multiple', 'live_parallel', 'live_parallel_multiple'];
  const nonLive = mean(nonLiveAst);
  const live = weighted(liveAst);
  return {
    paper: {
      nonLive,
      live,
      overall: nonLive !== null && live !== null ? (nonLive + live) / 2 : null,
      simpleLabel: 'Simple (Python only)',
    },
    bfcl: {
      nonLiveOverall: mean([...nonLiveAst, 'irrelevance']),
      liveOverall: weighted([...liveAst, 'live_irrelevance', 'live_relevance']),
    },
  };
}
