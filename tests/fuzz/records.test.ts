// Fuzz: the JSON and record readers (score cases, BFCL questions / answers / results, API-Bank, xLAM, ToolACE,
// instance files). Every bad record is rejected with its own message and line while the others load; no
// input reaches a JavaScript error; JSON follows Python (duplicate keys: last value wins).
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, parseJson, pyDumps } from '../../src/toolcall/json.ts';
import { parseDataset, type DatasetFormat } from '../../src/data/datasets.ts';
import { parseBfclAnswers, parseBfclQuestions } from '../../src/toolcall/bfcl.ts';
import { parseApiBank } from '../../src/toolcall/apibank.ts';
import { binaryReward } from '../../src/toolcall/reward.ts';
import { parsePythonCalls } from '../../src/data/toolace.ts';
import { Rng } from '../../src/util/random.ts';
import { cli, deepJson, expectFailure, expectNoLeak, tempDir, writeText, wrongKinds } from './harness.ts';

const dir = tempDir();
const line = (v: unknown) => JSON.stringify(v);

// ---- JSON ---------------------------------------------------------------------------------------------

/** A random JSON value of bounded size: every kind, escapes, int/float spellings, nesting. */
function randomJson(rng: Rng, depth = 0): unknown {
  const kind = rng.int(depth > 3 ? 5 : 7);
  switch (kind) {
    case 0: return null;
    case 1: return rng.next() < 0.5;
    case 2: return rng.pick(['', 'a', 'é', '\u0000', '"\\', '𝄞', '\n\t', '<tool_call>']) + rng.int(100);
    case 3: return rng.int(2000) - 1000;
    case 4: return (rng.next() - 0.5) * 10 ** rng.int(30);
    case 5: return Array.from({ length: rng.int(4) }, () => randomJson(rng, depth + 1));
    default: return Object.fromEntries(Array.from({ length: rng.int(4) }, (_, i) => [`k${i}${rng.pick(['', 'é', ' '])}`, randomJson(rng, depth + 1)]));
  }
}

/** The parsed value with lossless numbers turned back into JS numbers. */
const plain = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(plain) : v && typeof v === 'object' ? ('isLosslessNumber' in v ? Number((v as unknown as { value: string }).value) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))) : v;

describe('JSON: random documents parse as JSON.parse reads them', () => {
  const rng = new Rng(12);
  const docs = Array.from({ length: 40 }, () => randomJson(rng));
  it.each(docs.map((d, i) => [i, d]))('document %i', (_, doc) => {
    expect(plain(parseJson(JSON.stringify(doc)))).toEqual(JSON.parse(JSON.stringify(doc)));
  });
});

describe('JSON: a depth limit instead of a stack overflow', () => {
  it.each([1, 100, MAX_JSON_DEPTH])('depth %i parses', (depth) => {
    expect(() => parseJson(deepJson(depth))).not.toThrow();
    expect(() => parseJson(deepJson(depth, 'object'))).not.toThrow();
  });
  it.each([MAX_JSON_DEPTH + 1, 5000, 50_000, 1_000_000])('depth %i is refused by name', (depth) => {
    expect(() => parseJson(deepJson(depth))).toThrow(`JSON nested ${depth} levels deep (the limit is ${MAX_JSON_DEPTH})`);
    expect(() => parseJson(deepJson(depth, 'object'))).toThrow(`JSON nested ${depth} levels deep`);
  });
  it('brackets inside strings do not count', () => {
    expect(parseJson(JSON.stringify('['.repeat(100_000)))).toBe('['.repeat(100_000));
    expect(parseJson(JSON.stringify({ a: '\\"[[[[' }))).toEqual({ a: '\\"[[[[' });
  });
  it.each([MAX_JSON_DEPTH + 1, 100_000])('a Python literal %i levels deep (ToolACE calls) is refused, not a crash', (depth) => {
    expect(() => parsePythonCalls(`[f(a=${'['.repeat(depth)}${']'.repeat(depth)})]`)).toThrow(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  });
});

describe('JSON: duplicate keys follow Python (first position, last value)', () => {
  // Expected texts from Python 3: json.dumps(json.loads(text)).
  it.each([
    ['{"a":1,"b":2,"a":3.0}', '{"a": 3.0, "b": 2}'],
    ['{"a":{"x":1},"a":{"y":[1,1.0]}}', '{"a": {"y": [1, 1.0]}}'],
    ['{"__proto__":1,"__proto__":2}', '{"__proto__": 2}'],
    ['{"name":"f","arguments":{"x":1},"arguments":{"x":2}}', '{"name": "f", "arguments": {"x": 2}}'],
    ['{"a":1,"a":1}', '{"a": 1}'],
    ['{"a":null,"a":[],"a":"s"}', '{"a": "s"}'],
  ])('%s', (text, python) => expect(pyDumps(parseJson(text))).toBe(python));

  it('the reward scores a completion with a repeated key as Python reads it', () => {
    const truth = [{ name: 'f', arguments: { x: parseJson('2') } }];
    const call = '<think>t</think><tool_call>[{"name": "f", "arguments": {"x": 1, "x": 2}}]</tool_call>';
    expect(binaryReward(call, truth as never).reward).toBe(1);
    expect(binaryReward(call.replace('"x": 2}', '"x": 2, "x": 1}'), truth as never).reward).toBe(0);
  });
});

describe('JSON: malformed texts are SyntaxErrors with a position, never a crash', () => {
  it.each(['', ' ', '{', '}', '[1,]', '{"a" 1}', '{"a":}', 'nul', 'tru', '"\\x"', '"abc', '[1 2]', '{"a":1,}', '{1:2}', "{'a':1}", '1 2', 'NaN', '--1', '\u0000'])(
    '%j',
    (text) => {
      let error: unknown;
      try {
        parseJson(text);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SyntaxError);
      expectNoLeak((error as Error).message);
    },
  );
});

// ---- score ----------------------------------------------------------------------------------------------

const GOOD_CASE = { completion: '<think>ok</think><tool_call>[{"name": "f", "arguments": {"x": 1}}]</tool_call>', ground_truth: [{ name: 'f', arguments: { x: 1 } }] };
const GOOD_OUT = { reward: 1, toolCallFound: true, jsonParsed: true, thinkTags: true, namesMatch: true, exactMatch: true };

describe('score: a bad case is an error line with its number; the others are scored; exit 1', () => {
  const bad: [string, string, string | RegExp][] = [
    ...wrongKinds('string').map((v): [string, string, string] => [`completion ${JSON.stringify(v)}`, line({ ...GOOD_CASE, completion: v }), 'case needs a string completion']),
    ...wrongKinds('list').filter((v) => v !== null).map((v): [string, string, string] => [`ground_truth ${JSON.stringify(v)}`, line({ ...GOOD_CASE, ground_truth: v }), 'ground_truth must be a list']),
    ['no ground_truth', line({ completion: 'x' }), 'ground_truth must be a list'],
    ['a call without a name', line({ ...GOOD_CASE, ground_truth: [{ arguments: {} }] }), 'ground_truth[0] has no name'],
    ['a name that is a number', line({ ...GOOD_CASE, ground_truth: [{ name: 1, arguments: {} }] }), 'ground_truth[0] has no name'],
    ['arguments a string', line({ ...GOOD_CASE, ground_truth: [{ name: 'f', arguments: '{}' }] }), 'ground_truth[0].arguments must be an object'],
    ['arguments a list', line({ ...GOOD_CASE, ground_truth: [{ name: 'f', arguments: [] }] }), 'ground_truth[0].arguments must be an object'],
    ['the second call broken', line({ ...GOOD_CASE, ground_truth: [GOOD_CASE.ground_truth[0], null] }), 'ground_truth[1] has no name'],
    ['a list, not an object', '[1, 2]', 'case needs a string completion'],
    ['a string', '"case"', 'case needs a string completion'],
    ['truncated JSON', '{"completion": "x", ', /expected|Unexpected|end/i],
    ['not JSON', 'completion = x', /expected|Unexpected/i],
    ['nested 100 000 deep', `{"completion": "x", "ground_truth": ${deepJson(100_000)}}`, 'JSON nested 100001 levels deep'],
    ['nested 600 deep', `{"completion": "x", "ground_truth": ${deepJson(599, 'object')}}`, 'JSON nested 600 levels deep'],
  ];
  it.each(bad)('%s', async (_, text, message) => {
    const path = writeText(dir, 'cases.jsonl', [line(GOOD_CASE), text, line(GOOD_CASE)]);
    const r = await cli(['score', '--in', path]);
    expectFailure(r, 1, '1 of 3 cases could not be scored');
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out[0]).toEqual(GOOD_OUT);
    expect(out[1].line).toBe(2);
    if (typeof message === 'string') expect(out[1].error).toContain(message);
    else expect(out[1].error).toMatch(message);
    expectNoLeak(out[1].error);
    expect(out[2]).toEqual(GOOD_OUT);
  });

  // Completions are model output: anything goes, and the reward is 0 (or 1) without an error.
  const completions: [string, string, number][] = [
    ['empty', '', 0],
    ['no block', 'hello', 0],
    ['an unclosed block', '<think>a</think><tool_call>[{"name": "f"', 0],
    ['a block nested 100 000 deep', `<think>a</think><tool_call>${deepJson(100_000)}</tool_call>`, 0],
    ['a block of a JSON string holding the calls', `<think>a</think><tool_call>${JSON.stringify(JSON.stringify([{ name: 'f', arguments: { x: 1 } }]))}</tool_call>`, 1],
    ['a single call object', '<think>a</think><tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>', 1],
    ['a repeated key, the last one right', '<think>a</think><tool_call>[{"name": "f", "arguments": {"x": 0, "x": 1}}]</tool_call>', 1],
    ['a float for an int', '<think>a</think><tool_call>[{"name": "f", "arguments": {"x": 1.0}}]</tool_call>', 0],
    ['1e999', '<think>a</think><tool_call>[{"name": "f", "arguments": {"x": 1e999}}]</tool_call>', 0],
    ['a huge int', `<think>a</think><tool_call>[{"name": "f", "arguments": {"x": ${'9'.repeat(400)}}}]</tool_call>`, 0],
    ['lone surrogates', '<think>\ud800</think><tool_call>[{"name": "\udc00", "arguments": {}}]</tool_call>', 0],
    ['a million characters', `<think>${'a'.repeat(1_000_000)}</think>`, 0],
    ['many blocks', '<tool_call>[]</tool_call>'.repeat(10_000), 0],
  ];
  it.each(completions)('completion: %s', async (_, completion, reward) => {
    const path = writeText(dir, 'completions.jsonl', [line({ ...GOOD_CASE, completion })]);
    const r = await cli(['score', '--in', path]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).reward).toBe(reward);
  });

  it.each([
    [['score'], 2, 'missing required option --in'],
    [['score', '--in', '/no/such/file.jsonl'], 1, /ENOENT|no such file/],
    [['score', '--in', dir], 1, /EISDIR|directory/],
    [['score', '--in', 'x', '--reward', 'nope'], 2, 'unknown reward "nope"'],
    [['score', '--in', 'x', '--rewrad', 'binary'], 2, "Unknown option '--rewrad'"],
    [['score', '--in', 'x', 'extra'], 2, 'Unexpected argument'],
  ] as [string[], 1 | 2, string | RegExp][])('%j', async (argv, code, message) => expectFailure(await cli(argv), code, message));

  it('an empty file is an error, not an empty success', async () => {
    expectFailure(await cli(['score', '--in', writeText(dir, 'empty.jsonl', '\n\n')]), 1, 'no cases');
  });
});

// ---- dataset files: instance, xLAM, ToolACE ---------------------------------------------------------------

const TOOL = { name: 'get_weather', description: 'Weather.', parameters: { city: { type: 'str' } } };
const INSTANCE = { id: 'a', query: 'Weather in Oslo?', tools: [TOOL], answers: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] };
const XLAM = { id: 7, query: 'Weather in Oslo?', tools: JSON.stringify([TOOL]), answers: JSON.stringify(INSTANCE.answers) };
const TOOLACE_SYSTEM = `Here is a list of functions in JSON format that you can invoke:\n${JSON.stringify([TOOL])}.`;
const TOOLACE = { system: TOOLACE_SYSTEM, conversations: [{ from: 'user', value: 'Oslo?' }, { from: 'assistant', value: "[get_weather(city='Oslo')]" }] };

const DATASET_CASES: [DatasetFormat, string, unknown, string | RegExp][] = [
  // instance
  ['instance', 'a list', [1], 'record must be an object'],
  ['instance', 'neither query nor messages', { tools: [TOOL], answers: [] }, 'record needs exactly one of query or messages'],
  ['instance', 'both query and messages', { ...INSTANCE, messages: [{ role: 'user', content: 'x' }] }, 'record needs exactly one of query or messages'],
  ...wrongKinds('string').filter((v) => v !== null).map((v): [DatasetFormat, string, unknown, string] => ['instance', `query ${JSON.stringify(v)}`, { ...INSTANCE, query: v }, 'query must be a string']),
  ...wrongKinds('list').map((v): [DatasetFormat, string, unknown, string] => ['instance', `tools ${JSON.stringify(v)}`, { ...INSTANCE, tools: v }, 'tools must be a list']),
  ...wrongKinds('list').map((v): [DatasetFormat, string, unknown, string] => ['instance', `answers ${JSON.stringify(v)}`, { ...INSTANCE, answers: v }, 'answers must be a list']),
  ['instance', 'a tool without a name', { ...INSTANCE, tools: [{ description: 'x' }] }, 'tools[0] has no name'],
  ['instance', 'a tool that is a string', { ...INSTANCE, tools: ['get_weather'] }, 'tools[0] has no name'],
  ['instance', 'an answer to an unknown tool', { ...INSTANCE, answers: [{ name: 'other', arguments: {} }] }, 'answers call "other", which is not among the tools'],
  ['instance', 'answer arguments as text', { ...INSTANCE, answers: [{ name: 'get_weather', arguments: '{}' }] }, 'answers[0].arguments must be an object'],
  ['instance', 'an id that is a list', { ...INSTANCE, id: [1] }, 'id must be a string or a number'],
  ['instance', 'empty messages', { id: 'm', messages: [], tools: [], answers: [] }, 'messages must be a non-empty list'],
  ['instance', 'messages not a list', { id: 'm', messages: 'hi', tools: [], answers: [] }, 'messages must be a non-empty list'],
  ['instance', 'a message without content', { id: 'm', messages: [{ role: 'user' }], tools: [], answers: [] }, 'messages[0] needs a string content'],
  ['instance', 'an unknown role', { id: 'm', messages: [{ role: 'robot', content: 'x' }], tools: [], answers: [] }, 'messages[0] has an unexpected role "robot"'],
  ['instance', 'a second system message', { id: 'm', messages: [{ role: 'user', content: 'x' }, { role: 'system', content: 'y' }], tools: [], answers: [] }, 'messages[1] has an unexpected role "system"'],
  ['instance', 'ending on the assistant', { id: 'm', messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y' }], tools: [], answers: [] }, 'the last message must come from the user or a tool'],
  ['instance', 'bad tool_calls in the history', { id: 'm', messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: '', tool_calls: [{}] }, { role: 'user', content: 'z' }], tools: [], answers: [] }, 'messages[1].tool_calls[0] has no name'],
  ['instance', 'nested 10 000 deep', JSON.parse(`{"query": "q", "tools": [], "answers": [], "x": ${deepJson(3)}}`), '' /* valid: extra keys are ignored */],
  // xLAM
  ['xlam', 'tools not JSON', { ...XLAM, tools: '[{"name": ' }, 'tools is not valid JSON'],
  ['xlam', 'answers not JSON', { ...XLAM, answers: '[{' }, 'answers is not valid JSON'],
  ['xlam', 'answers nested 10 000 deep', { ...XLAM, answers: deepJson(10_000) }, 'answers is not valid JSON: JSON nested 10000 levels deep'],
  ['xlam', 'no query', { ...XLAM, query: undefined }, 'query must be a string'],
  ['xlam', 'tools a number', { ...XLAM, tools: 3 }, 'tools must be a list'],
  ['xlam', 'answers an object text', { ...XLAM, answers: '{"name": "get_weather"}' }, 'answers must be a list'],
  ['xlam', 'an answer to an unknown tool', { ...XLAM, answers: '[{"name": "x", "arguments": {}}]' }, 'answers call "x"'],
  ['xlam', 'a record that is a string', 'row', 'record must be an object'],
  // ToolACE
  ['toolace', 'system not a string', { ...TOOLACE, system: 1 }, 'system must be a string'],
  ['toolace', 'conversations not a list', { ...TOOLACE, conversations: {} }, 'conversations must be a list'],
  ['toolace', 'no tool list', { ...TOOLACE, system: 'no tools' }, 'no JSON tool list found in the system text'],
  ['toolace', 'a tool list of unnamed tools', { ...TOOLACE, system: 'tools: [{"description": "x"}]' }, 'no JSON tool list found in the system text'],
  ['toolace', 'a turn without a value', { ...TOOLACE, conversations: [{ from: 'user' }] }, 'conversations[0] needs a string value'],
  ['toolace', 'an unknown sender', { ...TOOLACE, conversations: [{ from: 'bot', value: 'x' }] }, 'conversations[0] has an unexpected sender "bot"'],
  ['toolace', 'a record that is a list', [TOOLACE], 'record must be an object'],
];

describe('dataset files: a bad record is reported with its line, the rest load (JSON Lines and JSON array)', () => {
  const good = { instance: INSTANCE, xlam: XLAM, toolace: TOOLACE };
  it.each(DATASET_CASES)('%s: %s', (format, _, record, message) => {
    const records = [good[format], record, good[format]];
    for (const text of [records.map(line).join('\n'), `[${records.map(line).join(',\n')}]`]) {
      const loaded = parseDataset(text, format);
      if (message === '') {
        expect(loaded.errors).toEqual([]);
        continue;
      }
      expect(loaded.records.length, JSON.stringify(loaded.errors)).toBe(2);
      expect(loaded.errors).toHaveLength(1);
      expect(loaded.errors[0].line).toBe(2);
      if (typeof message === 'string') expect(loaded.errors[0].message).toContain(message);
      else expect(loaded.errors[0].message).toMatch(message);
      expectNoLeak(loaded.errors[0].message);
    }
  });

  it.each(['instance', 'xlam', 'toolace'] as DatasetFormat[])('%s: a line nested 200 000 deep is one error, the next line loads', (format) => {
    const loaded = parseDataset([deepJson(200_000, 'object'), line(good[format])].join('\n'), format);
    expect(loaded.errors).toEqual([{ line: 1, message: 'JSON nested 200000 levels deep (the limit is 512)' }]);
    expect(loaded.records).toHaveLength(1);
  });

  it.each(['instance', 'xlam', 'toolace'] as DatasetFormat[])('%s: structural damage to a JSON array file is reported', (format) => {
    expect(parseDataset(`[${line(good[format])}, `, format).errors.map((e) => e.message)).toEqual(['unterminated JSON array']);
    expect(parseDataset(`[${line(good[format])}] trailing`, format).errors.map((e) => e.message)).toEqual(['unexpected text after the JSON array']);
    expect(parseDataset('', format)).toMatchObject({ records: [], errors: [] });
  });
});

// ---- BFCL and API-Bank records ---------------------------------------------------------------------------

const DOC = { name: 'area', description: 'Area.', parameters: { type: 'dict', properties: { base: { type: 'integer' } }, required: ['base'] } };
const QUESTION = { id: 'simple_0', question: [[{ role: 'user', content: 'Area of 10?' }]], function: [DOC] };
const ANSWER = { id: 'simple_0', ground_truth: [{ area: { base: [10] } }] };

describe('BFCL questions and possible answers: each bad record named', () => {
  const questionCases: [string, unknown, string][] = [
    ...wrongKinds('string').map((v): [string, unknown, string] => [`id ${JSON.stringify(v)}`, { ...QUESTION, id: v }, 'record needs a string id']),
    ['question empty', { ...QUESTION, question: [] }, 'question must be a non-empty list'],
    ['question a string', { ...QUESTION, question: 'q' }, 'question must be a non-empty list'],
    ['multi-turn', { ...QUESTION, question: [[{ role: 'user', content: 'a' }], [{ role: 'user', content: 'b' }]] }, 'multi-turn questions are not supported'],
    ['a message without content', { ...QUESTION, question: [[{ role: 'user' }]] }, 'every message needs a string content'],
    ['a tool role', { ...QUESTION, question: [[{ role: 'tool', content: 'x' }]] }, 'unexpected role "tool"'],
    ['function not a list', { ...QUESTION, function: DOC }, 'function must be a list'],
    ['a function without parameters', { ...QUESTION, function: [{ name: 'area' }] }, 'function[0] needs a name and parameters.properties'],
    ['a function without a name', { ...QUESTION, function: [{ ...DOC, name: 3 }] }, 'function[0] needs a name and parameters.properties'],
    ['properties a list', { ...QUESTION, function: [{ ...DOC, parameters: { type: 'dict', properties: [] } }] }, 'function[0] needs a name and parameters.properties'],
  ];
  it.each(questionCases)('question: %s', (_, record, message) => {
    const parsed = parseBfclQuestions([QUESTION, record, { ...QUESTION, id: 'simple_2' }].map(line).join('\n'));
    expect(parsed.records.map((q) => q.id)).toEqual(['simple_0', 'simple_2']);
    expect(parsed.errors).toEqual([{ line: 2, message }]);
  });

  const answerCases: [string, unknown, string][] = [
    ['no id', { ground_truth: [] }, 'record needs a string id'],
    ['ground_truth an object', { ...ANSWER, ground_truth: {} }, 'ground_truth must be a list'],
    ['two functions in one call', { ...ANSWER, ground_truth: [{ a: {}, b: {} }] }, 'ground_truth[0] must be {"<function>": {"<param>": [values...]}}'],
    ['params a list', { ...ANSWER, ground_truth: [{ area: [] }] }, 'ground_truth[0] must be {"<function>": {"<param>": [values...]}}'],
    ['a call that is a string', { ...ANSWER, ground_truth: ['area'] }, 'ground_truth[0] must be {"<function>": {"<param>": [values...]}}'],
    ['alternatives not a list', { ...ANSWER, ground_truth: [{ area: { base: 10 } }] }, 'ground_truth[0].base must be a list of values'],
  ];
  it.each(answerCases)('possible answer: %s', (_, record, message) => {
    const parsed = parseBfclAnswers([ANSWER, record].map(line).join('\n'));
    expect(parsed.records).toHaveLength(1);
    expect(parsed.errors).toEqual([{ line: 2, message }]);
  });
});

describe('bfcl-check: the denominator is the questions', () => {
  const questions = writeText(dir, 'BFCL_v3_simple.json', [0, 1, 2].map((i) => line({ ...QUESTION, id: `simple_${i}` })));
  const answers = writeText(dir, 'answers.json', [0, 1, 2].map((i) => line({ ...ANSWER, id: `simple_${i}` })));
  const right = (id: string) => line({ id, result: '<tool_call>[{"name": "area", "arguments": {"base": 10}}]</tool_call>' });
  const check = (results: string[], extra: string[] = []) =>
    cli(['bfcl-check', '--questions', questions, '--answers', answers, '--results', writeText(dir, 'results.jsonl', results), ...extra]);
  const summary = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);

  it('every question answered right: accuracy 1, exit 0', async () => {
    const r = await check(['simple_0', 'simple_1', 'simple_2'].map(right));
    expect(r.code, r.stderr).toBe(0);
    expect(summary(r.stdout)).toEqual({ category: 'simple', accuracy: 1, correct: 3, total: 3 });
  });

  it.each([
    ['one result for three questions', ['simple_0'].map(right), 1, 'no result for 2 of 3 questions, counted as wrong: simple_1, simple_2', 0],
    ['no results at all', [], 0, 'no result for 3 of 3 questions', 0],
    ['a result for an unknown id', [...['simple_0', 'simple_1', 'simple_2'].map(right), right('simple_9')], 3, 'result for "simple_9", which is not a question', 0],
    ['a duplicated result', [...['simple_0', 'simple_1', 'simple_2'].map(right), line({ id: 'simple_0', result: 'wrong' })], 3, 'more than one result for "simple_0": the first one is scored', 0],
    ['an unreadable result line', [right('simple_0'), right('simple_1'), '{"id": "simple_2", "result": 1}'], 2, 'result needs a string id and a string result', 1],
    ['a result line nested 100 000 deep', [right('simple_0'), right('simple_1'), deepJson(100_000)], 2, 'JSON nested 100000 levels deep', 1],
  ] as [string, string[], number, string, 0 | 1][])('%s', async (_, results, correct, message, code) => {
    const r = await check(results);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toContain(message);
    expectNoLeak(r.stderr);
    expect(summary(r.stdout)).toEqual({ category: 'simple', accuracy: correct / 3, correct, total: 3 });
  });

  it('an unreadable question counts as wrong and is listed', async () => {
    const broken = writeText(tempDir(), 'BFCL_v3_simple.json', [line(QUESTION), '{"id": 5}']);
    const r = await cli(['bfcl-check', '--questions', broken, '--answers', answers, '--results', writeText(dir, 'r.jsonl', [right('simple_0')])]);
    expectFailure(r, 1, '1 unreadable lines');
    expect(r.stderr).toContain(':2: record needs a string id');
    expect(r.stdout).toContain('"error":"unreadable_question"');
    expect(summary(r.stdout)).toEqual({ category: 'simple', accuracy: 0.5, correct: 1, total: 2 });
  });

  it.each([
    [['--category', 'simpel'], 2, '--category "simpel" is not a BFCL v3 single-turn category'],
    [['--category', 'multi_turn_base'], 2, '--category "multi_turn_base" is not a BFCL v3 single-turn category'],
    [['--category', ''], 2, 'cannot tell the category from the file name: pass --category'],
  ] as [string[], 2, string][])('%j', async (extra, code, message) => expectFailure(await check([right('simple_0')], extra), code, message));

  it.each([
    [['bfcl-check'], 2, 'missing required option --questions'],
    [['bfcl-check', '--questions', 'q'], 2, 'missing required option --results'],
    [['bfcl-check', '--questions', '/no/such.json', '--results', 'r'], 1, /ENOENT/],
    [['bfcl-check', '--questions', writeText(dir, 'unnamed.json', [line(QUESTION)]), '--results', writeText(dir, 'r2.jsonl', [right('simple_0')])], 2, '--answers is required for the simple category'],
    [['bfcl-check', '--questions', writeText(dir, 'nothing.json', ''), '--results', writeText(dir, 'r3.jsonl', '')], 2, 'cannot tell the category'],
    [['bfcl-check', '--questions', writeText(dir, 'BFCL_v3_irrelevance.json', ''), '--results', writeText(dir, 'r4.jsonl', '')], 1, 'no questions'],
    [['bfcl-check', '--questions', writeText(dir, 'BFCL_v3_nonsense.json', [line(QUESTION)]), '--results', writeText(dir, 'r5.jsonl', '')], 2, 'the category of'],
  ] as [string[], 1 | 2, string | RegExp][])('%j', async (argv, code, message) => expectFailure(await cli(argv), code, message));
});

describe('API-Bank records: each bad one named, the rest load', () => {
  const api = JSON.stringify({ name: 'GetToday', description: 'Today.', input_parameters: {}, output_parameters: {} });
  const SAMPLE = { file: 'GetToday-level-1-1.jsonl', id: 0, instruction: `Generate an API request.\nAPI descriptions:\n${api}`, input: 'User: What day is it?\nGenerate API Request:\n', expected_output: 'API-Request: [GetToday()]' };
  const cases: [string, unknown, string | RegExp][] = [
    ...(['file', 'instruction', 'input', 'expected_output'] as const).flatMap((field) =>
      wrongKinds('string').map((v): [string, unknown, string] => [`${field} ${JSON.stringify(v)}`, { ...SAMPLE, [field]: v }, 'record needs string file, instruction, input and expected_output'])),
    ['no API descriptions', { ...SAMPLE, instruction: 'nothing' }, 'no API descriptions in the instruction'],
    ['an unknown API', { ...SAMPLE, expected_output: 'API-Request: [NoSuchApi()]' }, 'unknown API NoSuchApi'],
    ['an API description that is not JSON', { ...SAMPLE, instruction: 'API descriptions:\n{"name": ' }, /expected|Unexpected|end/i],
    ['an API description nested 10 000 deep', { ...SAMPLE, instruction: `API descriptions:\n{"a": ${deepJson(10_000)}}` }, 'JSON nested 10001 levels deep'],
    ['a record that is a number', 5, 'record must be an object'],
  ];
  it.each(cases)('%s', (_, record, message) => {
    const parsed = parseApiBank([SAMPLE, record, SAMPLE].map(line).join('\n'), 1);
    expect(parsed.records).toHaveLength(2);
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0].line).toBe(2);
    if (typeof message === 'string') expect(parsed.errors[0].message).toContain(message);
    else expect(parsed.errors[0].message).toMatch(message);
    expectNoLeak(parsed.errors[0].message);
  });
});
