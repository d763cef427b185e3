import { describe, expect, it } from 'vitest';
import {
  categoryOfFileName,
  categoryOfId,
  checkBfcl,
  parseBfclAnswers,
  parseBfclQuestions,
  scoreBfcl,
  standardizeString,
  summarizeBfcl,
} from '../../src/toolcall/bfcl.ts';

// Small questions and possible answers in BFCL's own JSON Lines format.
const AREA_DOC = {
  name: 'calc.area',
  description: 'Area of a shape.',
  parameters: {
    type: 'dict',
    properties: {
      base: { type: 'integer' },
      height: { type: 'float' },
      mode: { type: 'string' },
      unit: { type: 'string' },
      tags: { type: 'array', items: { type: 'string' } },
      opts: { type: 'dict', properties: { precise: { type: 'boolean' }, digits: { type: 'integer' } } },
      points: { type: 'array', items: { type: 'dict' } },
      flag: { type: 'boolean' },
      anything: { type: 'any' },
      ref: { type: 'integer' },
      size: { type: 'tuple', items: { type: 'float' } },
      extra_doc_only: { type: 'string' },
    },
    required: ['base', 'height'],
  },
};
const AREA_ANSWER = {
  'calc.area': {
    base: [10],
    height: [5.0],
    mode: ['fast'],
    unit: ['cm', ''],
    tags: [['a', 'b'], ''],
    opts: [{ precise: [true], digits: [2, ''] }, ''],
    points: [[{ x: [1], y: [2] }], ''],
    flag: [false, ''],
    anything: ['x', ''],
    ref: ['my_var', ''],
    size: [[1.5, 2.0], ''],
  },
};
const LISTS_DOC = {
  name: 'lists',
  description: 'Array checks without optional alternatives.',
  parameters: {
    type: 'dict',
    properties: { xs: { type: 'array', items: { type: 'integer' } }, pts: { type: 'array', items: { type: 'dict' } } },
    required: ['xs', 'pts'],
  },
};
const weather = (name: string) => ({ name, description: name, parameters: { type: 'dict', properties: { city: { type: 'string' } }, required: ['city'] } });

const QUESTIONS = [
  { id: 'simple_0', question: [[{ role: 'user', content: 'Area?' }]], function: [AREA_DOC] },
  { id: 'simple_1', question: [[{ role: 'user', content: 'Lists' }]], function: [LISTS_DOC] },
  { id: 'multiple_0', question: [[{ role: 'system', content: 'Be exact.' }, { role: 'user', content: 'Weather in Oslo' }]], function: [weather('a.weather'), weather('b.weather')] },
  { id: 'parallel_0', question: [[{ role: 'user', content: 'Paris and Rome' }]], function: [weather('w')] },
  { id: 'irrelevance_0', question: [[{ role: 'user', content: 'Tell a joke' }]], function: [weather('w')] },
  { id: 'live_relevance_0-0-0', question: [[{ role: 'user', content: 'Weather?' }]], function: [weather('w')] },
].map((q) => JSON.stringify(q));
const ANSWERS = [
  { id: 'simple_0', ground_truth: [AREA_ANSWER] },
  { id: 'simple_1', ground_truth: [{ lists: { xs: [[1, 2]], pts: [[{ x: [1], y: ['a', 'b'] }]] } }] },
  { id: 'multiple_0', ground_truth: [{ 'b.weather': { city: ['Oslo'] } }] },
  { id: 'parallel_0', ground_truth: [{ w: { city: ['Paris'] } }, { w: { city: ['Rome', 'Roma'] } }] },
].map((a) => JSON.stringify(a));

const questions = new Map(parseBfclQuestions(QUESTIONS.join('\n')).records.map((q) => [q.id, q]));
const answers = new Map(parseBfclAnswers(ANSWERS.join('\n')).records.map((a) => [a.id, a]));

const call = (name: string, args: string) => `{"name": "${name}", "arguments": ${args}}`;
const completion = (...calls: string[]) => `<think>ok</think>\n<tool_call>[${calls.join(', ')}]</tool_call>`;
/** calc.area with the required and must-give arguments, plus `more` (JSON members). */
const area = (more = '', base = '"base": 10, "height": 5.0, "mode": "fast"') => call('calc.area', `{${[base, more].filter(Boolean).join(', ')}}`);

// [category, question id, completion, BFCL error_type or null when valid]
const CASES: [string, string, string, string | null][] = [
  ['simple', 'simple_0', completion(area()), null],
  ['simple', 'simple_0', completion(area('', '"base": 10, "height": 5, "mode": "fast"')), null], // int → float
  ['simple', 'simple_0', completion(area('', '"base": 10.0, "height": 5.0, "mode": "fast"')), 'type_error:simple'],
  ['simple', 'simple_0', completion(area('', '"base": true, "height": 5.0, "mode": "fast"')), 'type_error:simple'], // bool is not int
  ['simple', 'simple_0', completion(area('', '"base": "10", "height": 5.0, "mode": "fast"')), 'type_error:simple'],
  ['simple', 'simple_0', completion(area('', '"base": 11, "height": 5.0, "mode": "fast"')), 'value_error:others'],
  ['simple', 'simple_0', completion(area('', '"height": 5.0, "mode": "fast"')), 'simple_function_checker:missing_required'],
  ['simple', 'simple_0', completion(area('', '"base": 10, "height": 5.0')), 'simple_function_checker:missing_optional'],
  ['simple', 'simple_0', completion(area('"color": "red"')), 'simple_function_checker:unexpected_param'], // not in the doc
  ['simple', 'simple_0', completion(area('"extra_doc_only": "x"')), 'simple_function_checker:unexpected_param'], // not in the answer
  ['simple', 'simple_0', completion(call('calc_area', '{"base": 10, "height": 5.0, "mode": "fast"}')), 'simple_function_checker:wrong_func_name'],
  ['simple', 'simple_0', completion(area(), area()), 'simple_function_checker:wrong_count'],
  ['simple', 'simple_0', completion(), 'simple_function_checker:wrong_count'],
  // strings: case, spaces and ",./-_*^" do not matter
  ['simple', 'simple_0', completion(area('"unit": "C-M"')), null],
  ['simple', 'simple_0', completion(area('"unit": "mm"')), 'value_error:string'],
  ['simple', 'simple_0', completion(area('"unit": 5')), 'type_error:simple'],
  ['simple', 'simple_0', completion(area('"anything": "X."')), null],
  ['simple', 'simple_0', completion(area('"anything": 5')), 'type_error:simple'], // any is checked as a string
  // arrays: order matters, strings normalised; with "" among the alternatives the item types are not checked
  ['simple', 'simple_0', completion(area('"tags": ["A", "b"]')), null],
  ['simple', 'simple_0', completion(area('"tags": ["b", "a"]')), 'value_error:list/tuple'],
  ['simple', 'simple_0', completion(area('"tags": [1, "b"]')), 'value_error:list/tuple'],
  ['simple', 'simple_0', completion(area('"tags": "a"')), 'type_error:simple'],
  ['simple', 'simple_0', completion(area('"size": [1.5, 2]')), null], // tuple; 2 == 2.0 in the value check
  // dicts, one level deep
  ['simple', 'simple_0', completion(area('"opts": {"precise": true}')), null],
  ['simple', 'simple_0', completion(area('"opts": {"precise": true, "digits": 2}')), null],
  ['simple', 'simple_0', completion(area('"opts": {"precise": false}')), 'value_error:dict_value'],
  ['simple', 'simple_0', completion(area('"opts": {"precise": true, "other": 1}')), 'value_error:dict_key'],
  ['simple', 'simple_0', completion(area('"opts": {"digits": 2}')), 'value_error:dict_key'],
  // lists of dicts, position by position (the error reported is the last alternative's: here "" → count)
  ['simple', 'simple_0', completion(area('"points": [{"x": 1, "y": 2}]')), null],
  ['simple', 'simple_0', completion(area('"points": []')), null], // "" reads as an empty list
  ['simple', 'simple_0', completion(area('"points": [{"x": 1, "y": 3}]')), 'value_error:list_dict_count'],
  // item types are checked when no alternative is ""; there is no int → float promotion inside arrays
  ['simple', 'simple_1', completion(call('lists', '{"xs": [1, 2], "pts": [{"x": 1, "y": "B"}]}')), null],
  ['simple', 'simple_1', completion(call('lists', '{"xs": [1, 2.0], "pts": [{"x": 1, "y": "a"}]}')), 'type_error:nested'],
  ['simple', 'simple_1', completion(call('lists', '{"xs": [1, 2], "pts": [1]}')), 'type_error:nested'],
  ['simple', 'simple_1', completion(call('lists', '{"xs": [1, 2], "pts": [{"x": 2, "y": "a"}]}')), 'value_error:dict_value'],
  ['simple', 'simple_1', completion(call('lists', '{"xs": [1, 2], "pts": [{"x": 1}]}')), 'value_error:dict_key'],
  ['simple', 'simple_1', completion(call('lists', '{"xs": [1, 2], "pts": []}')), 'value_error:list_dict_count'],
  ['simple', 'simple_1', completion(call('lists', '{"xs": [2, 1], "pts": [{"x": 1, "y": "a"}]}')), 'value_error:list/tuple'],
  // booleans and "variables" (answer values of another type than the doc's)
  ['simple', 'simple_0', completion(area('"flag": false')), null],
  ['simple', 'simple_0', completion(area('"flag": 0')), 'type_error:simple'],
  ['simple', 'simple_0', completion(area('"ref": "my_var"')), null],
  ['simple', 'simple_0', completion(area('"ref": 5')), 'value_error:others'],
  // multiple: exactly one call, checked against the expected function
  ['multiple', 'multiple_0', completion(call('b.weather', '{"city": "oslo"}')), null],
  ['multiple', 'multiple_0', completion(call('a.weather', '{"city": "Oslo"}')), 'simple_function_checker:wrong_func_name'],
  ['multiple', 'multiple_0', completion(call('b.weather', '{"city": "Oslo"}'), call('a.weather', '{"city": "Oslo"}')), 'multiple_function_checker:wrong_count'],
  // parallel: order-free, each expected call takes the first unused match
  ['parallel', 'parallel_0', completion(call('w', '{"city": "Roma"}'), call('w', '{"city": "Paris"}')), null],
  ['parallel', 'parallel_0', completion(call('w', '{"city": "Paris"}'), call('w', '{"city": "Paris"}')), 'parallel_function_checker_no_order:cannot_find_match'],
  ['parallel', 'parallel_0', completion(call('w', '{"city": "Paris"}')), 'parallel_function_checker_no_order:wrong_count'],
  // decoding
  ['simple', 'simple_0', 'I think the area is 25.', 'ast_decoder:decoder_failed'],
  ['simple', 'simple_0', '<tool_call>[{"name": "calc.area", "arguments": {"base": 10,}}]</tool_call>', 'ast_decoder:decoder_failed'],
  ['simple', 'simple_0', completion(call('calc.area', '"base=10"')), 'ast_decoder:decoder_wrong_output_format'],
  // (ir)relevance: only whether a decodable, non-empty call is there
  ['irrelevance', 'irrelevance_0', completion(), null],
  ['irrelevance', 'irrelevance_0', 'No function fits.', null],
  ['irrelevance', 'irrelevance_0', completion(call('w', '"x"')), null],
  ['irrelevance', 'irrelevance_0', completion(call('w', '{"city": "x"}')), 'irrelevance_error:decoder_success'],
  ['live_relevance', 'live_relevance_0-0-0', completion(call('w', '{}')), null],
  ['live_relevance', 'live_relevance_0-0-0', completion(), 'relevance_error:decoder_failed'],
];

describe('BFCL AST checker', () => {
  for (const [category, id, text, error] of CASES) {
    it(`${category} ${text.replace(/^<think>ok<\/think>\n/, '').slice(0, 120)} → ${error ?? 'valid'}`, () => {
      expect(checkBfcl(category, questions.get(id)!, answers.get(id), text)).toEqual({ valid: error === null, error });
    });
  }

  it('normalises strings as BFCL does', () => {
    expect(standardizeString("April 1, 2024 - O'Neil_x*y^z./")).toBe('april12024o"neilxyz');
  });
});

describe('BFCL loading, scores and summaries', () => {
  it('keeps the system message and the functions as the prompt needs them', () => {
    const q = questions.get('multiple_0')!;
    expect(q.system).toBe('Be exact.');
    expect(q.turns).toEqual([{ role: 'user', content: 'Weather in Oslo' }]);
    expect(q.tools.map((t) => t.name)).toEqual(['a.weather', 'b.weather']);
  });

  it('skips malformed records and reports their lines', () => {
    const text = [QUESTIONS[0], '{"id": "x", "question": [], "function": []}', 'not json', '', QUESTIONS[1], '{"id": "y", "question": [[{"role": "user", "content": "q"}]], "function": [{"name": "f"}]}'].join('\n');
    const parsed = parseBfclQuestions(text);
    expect(parsed.records.map((q) => q.id)).toEqual(['simple_0', 'simple_1']);
    expect(parsed.errors.map((e) => e.line)).toEqual([2, 3, 6]);
    const badAnswers = parseBfclAnswers('{"id": "a", "ground_truth": [{"f": {"x": 1}}]}\n{"id": "b", "ground_truth": [{"f": {}, "g": {}}]}');
    expect(badAnswers.errors.map((e) => e.line)).toEqual([1, 2]);
  });

  it('names categories from files and ids', () => {
    expect(categoryOfFileName('BFCL_v3_live_parallel_multiple.json')).toBe('live_parallel_multiple');
    expect(categoryOfFileName('results.jsonl')).toBeUndefined();
    expect(categoryOfId('live_simple_19-3-15')).toBe('live_simple');
    expect(categoryOfId('parallel_multiple_7')).toBe('parallel_multiple');
  });

  it('scores a category over its questions: a missing result is wrong, an unknown id is set apart', () => {
    const parallel = [...questions.values()].filter((q) => q.id.startsWith('parallel_'));
    const second = { ...parallel[0], id: 'parallel_1' };
    const { entries, score, unknownIds, duplicateIds } = scoreBfcl('parallel', [...parallel, second], [...answers.values()], [
      { id: 'parallel_0', result: completion(call('w', '{"city": "Rome"}'), call('w', '{"city": "Paris"}')) },
      { id: 'parallel_0', result: completion() },
      { id: 'parallel_9', result: completion() },
    ], 1);
    expect(entries).toEqual([
      { id: 'parallel_0', valid: true, error: null },
      { id: 'parallel_1', valid: false, error: 'missing_result' },
    ]);
    expect(unknownIds).toEqual(['parallel_9']);
    expect(duplicateIds).toEqual(['parallel_0']);
    expect(score).toEqual({ category: 'parallel', accuracy: 1 / 3, correct: 1, total: 3 }); // + 1 unreadable question
  });

  it("summarises as the paper does (Non-live mean, Live weighted) and as BFCL does", () => {
    const s = (category: string, correct: number, total: number) => ({ category, accuracy: correct / total, correct, total });
    const scores = [
      s('simple', 90, 100), s('multiple', 80, 100), s('parallel', 70, 100), s('parallel_multiple', 60, 100), s('irrelevance', 50, 100),
      s('live_simple', 30, 40), s('live_multiple', 50, 100), s('live_parallel', 5, 10), s('live_parallel_multiple', 0, 10),
      s('live_irrelevance', 40, 40), s('live_relevance', 0, 0.5 * 2),
    ];
    const summary = summarizeBfcl(scores);
    expect(summary.paper.nonLive).toBeCloseTo(0.75, 12);
    expect(summary.paper.live).toBeCloseTo(85 / 160, 12);
    expect(summary.paper.overall).toBeCloseTo((0.75 + 85 / 160) / 2, 12);
    expect(summary.paper.simpleLabel).toMatch(/Python only/);
    expect(summary.bfcl.nonLiveOverall).toBeCloseTo(0.7, 12);
    expect(summary.bfcl.liveOverall).toBeCloseTo(125 / 201, 12);
    expect(summarizeBfcl(scores.slice(0, 3)).paper).toMatchObject({ nonLive: null, live: null, overall: null });
  });
});
