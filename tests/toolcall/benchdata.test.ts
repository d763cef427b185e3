// Extended test on the real benchmark files in ../shared/benchdata (skipped when absent): every record loads,
// and ground truths written as perfect completions score 100% on every category, except four BFCL live entries
// that no output can pass under the official checker (listed below, with the error each gets).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BFCL_CATEGORIES,
  isRelevanceCategory,
  parseBfclAnswers,
  parseBfclQuestions,
  scoreBfcl,
  summarizeBfcl,
  type BfclAnswer,
  type BfclQuestion,
  type CategoryScore,
} from '../../src/toolcall/bfcl.ts';
import { parseApiBank, scoreApiBank } from '../../src/toolcall/apibank.ts';
import { isJsonObject, pyDumps, type Json, type JsonObject } from '../../src/toolcall/json.ts';
import { renderPrompt, toolCallBlock } from '../../src/toolcall/template.ts';

const BENCHDATA = resolve(__dirname, '../../../shared/benchdata');

/** BFCL entries no output can pass under the official rules (the error our perfect completion gets):
 *  live_simple 106 and 112 have required array parameters with no acceptable value at all ([]), which fail the
 *  type check when given and missing_required when left out; live_multiple 862 expects a parameter the function
 *  does not declare, and 964 expects `question` where the function requires `statement`. */
const UNANSWERABLE: Record<string, string> = {
  'live_simple_106-63-0': 'simple_function_checker:missing_required',
  'live_simple_112-68-0': 'simple_function_checker:missing_required',
  'live_multiple_862-181-3': 'simple_function_checker:missing_optional',
  'live_multiple_964-207-0': 'simple_function_checker:missing_required',
};
const read = (...parts: string[]) => readFileSync(join(BENCHDATA, ...parts), 'utf8');
const lineCount = (text: string) => text.split('\n').filter((l) => l.trim() !== '').length;

/** The first acceptable value; "" (or nothing) means leave the parameter out. */
const firstAcceptable = (alternatives: Json[]) => alternatives.find((a) => a !== '');

function dictFromAlternatives(answer: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, alternatives] of Object.entries(answer)) {
    const v = Array.isArray(alternatives) ? firstAcceptable(alternatives) : undefined;
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** A completion that gives exactly the first acceptable value of every parameter. In the simple categories BFCL
 *  checks against the one function offered, whatever name the answer gives (simple_363 names another). */
function perfectCompletion(category: string, question: BfclQuestion, answer: BfclAnswer): string {
  const simple = !category.includes('parallel') && !category.includes('multiple');
  const calls = answer.calls.map((expected) => {
    const doc = simple ? question.tools[0] : question.tools.find((t) => t.name === expected.name)!;
    const properties = (doc.parameters as JsonObject).properties as JsonObject;
    const args: JsonObject = {};
    const required = (doc.parameters as JsonObject).required as Json[];
    for (const [param, alternatives] of Object.entries(expected.params)) {
      // A required parameter whose only acceptable value is "" must be given as "" (live_multiple_507).
      let value = firstAcceptable(alternatives);
      if (value === undefined && required.includes(param) && alternatives.includes('')) value = '';
      const p = properties[param];
      // A parameter the function does not declare can only be right when left out.
      if (value === undefined || !isJsonObject(p)) continue;
      const itemsType = isJsonObject(p.items) ? p.items.type : undefined;
      // Dict values are written as dicts of alternatives, one level deep.
      if (p.type === 'dict' && isJsonObject(value)) args[param] = dictFromAlternatives(value);
      else if (p.type === 'array' && itemsType === 'dict' && Array.isArray(value)) {
        args[param] = value.map((d) => (isJsonObject(d) ? dictFromAlternatives(d) : d));
      } else args[param] = value;
    }
    return { name: doc.name as string, arguments: args };
  });
  return `<think>The ground truth.</think>\n<tool_call>${pyDumps(calls)}</tool_call>`;
}

describe.skipIf(!existsSync(BENCHDATA))('benchdata (../shared/benchdata)', () => {
  it('BFCL v3: every record loads and perfect completions pass every entry the official rules can pass', () => {
    const scores: CategoryScore[] = [];
    for (const category of BFCL_CATEGORIES) {
      const questionText = read('bfcl', `BFCL_v3_${category}.json`);
      const questions = parseBfclQuestions(questionText);
      expect(questions.errors).toEqual([]);
      expect(questions.records.length).toBe(lineCount(questionText));
      expect(renderPrompt(questions.records[0])).toMatch(/<tools>\n\{"type": "function", "function": /);

      let answers: BfclAnswer[] | undefined;
      let results: { id: string; result: string }[];
      if (isRelevanceCategory(category)) {
        // Irrelevance: no call is right; relevance: any decodable call is.
        results = questions.records.map((q) => ({
          id: q.id,
          result: category.includes('irrelevance')
            ? '<think>Nothing fits.</think>\n<tool_call>[]</tool_call>'
            : `<think>A call.</think>\n${toolCallBlock([{ name: q.tools[0].name as string, arguments: {} }])}`,
        }));
      } else {
        const answerText = read('bfcl', 'possible_answer', `BFCL_v3_${category}.json`);
        const parsed = parseBfclAnswers(answerText);
        expect(parsed.errors).toEqual([]);
        expect(parsed.records.length).toBe(lineCount(answerText));
        answers = parsed.records;
        const byId = new Map(answers.map((a) => [a.id, a]));
        results = questions.records.map((q) => ({ id: q.id, result: perfectCompletion(category, q, byId.get(q.id)!) }));
      }
      const { entries, score } = scoreBfcl(category, questions.records, answers, results);
      const failures = Object.fromEntries(entries.filter((e) => !e.valid).map((e) => [e.id, e.error]));
      const expectedFailures = Object.fromEntries(Object.entries(UNANSWERABLE).filter(([id]) => id.startsWith(`${category}_`)));
      expect(failures, category).toEqual(expectedFailures);
      scores.push(score);
      console.log(`BFCL ${category}: ${score.correct}/${score.total} = ${(100 * score.accuracy).toFixed(2)}%`);
    }
    const summary = summarizeBfcl(scores);
    const liveAst = 1 - Object.keys(UNANSWERABLE).length / (258 + 1053 + 16 + 24);
    expect(summary.paper.nonLive).toBe(1);
    expect(summary.paper.live).toBeCloseTo(liveAst, 12);
    console.log('BFCL summary', JSON.stringify(summary));
  });

  it('API-Bank: every level-1/level-2 sample loads and perfect completions score 100%', () => {
    for (const level of [1, 2] as const) {
      const text = read('apibank', 'test-data', `level-${level}-api.json`);
      const samples = parseApiBank(text, level);
      expect(samples.errors).toEqual([]);
      expect(samples.records.length).toBe((JSON.parse(text) as unknown[]).length);
      const completions = samples.records.map((s) => `<think>The ground truth.</think>\n${toolCallBlock([s.expected])}`);
      const [score] = scoreApiBank(samples.records, completions);
      expect(score).toMatchObject({ level, accuracy: 1, total: samples.records.length });
      console.log(`API-Bank level ${level}: ${score.correct}/${score.total} = ${(100 * score.accuracy).toFixed(2)}%`);
    }
  });
});
