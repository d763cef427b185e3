import { describe, expect, it } from 'vitest';
import { parseDataset } from '../../src/data/datasets.ts';
import { parsePythonCalls, parsePythonLiteral, toolsInText } from '../../src/data/toolace.ts';
import { canonicalJson, pyDumps } from '../../src/toolcall/json.ts';

const TOOL = { name: 'get_weather', description: 'Weather.', parameters: { city: { type: 'str', description: 'City' } } };

describe('plain instance format', () => {
  it('accepts query or messages, and validates every record', () => {
    const lines = [
      JSON.stringify({ id: 'a', query: 'Weather in Oslo?', tools: [TOOL], answers: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] }),
      JSON.stringify({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Weather?' },
          { role: 'assistant', content: '', tool_calls: [{ name: 'get_weather', arguments: { city: 'Rome' } }] },
          { role: 'tool', content: '{"temp": 20}' },
          { role: 'user', content: 'And nothing else.' },
        ],
        tools: [{ type: 'function', function: TOOL }],
        answers: [],
      }),
      JSON.stringify({ query: 'x', messages: [], tools: [], answers: [] }),
      JSON.stringify({ query: 'x', tools: [{ description: 'no name' }], answers: [] }),
      JSON.stringify({ query: 'x', tools: [TOOL], answers: [{ name: 'other_tool', arguments: {} }] }),
      JSON.stringify({ query: 'x', tools: [TOOL], answers: [{ name: 'get_weather', arguments: '{"city": "Oslo"}' }] }),
      JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }], tools: [], answers: [] }),
      '{"query": ',
    ].join('\n');
    const { records, errors, dropped } = parseDataset(lines, 'instance');
    expect(records.map((r) => r.id)).toEqual(['a', '2']);
    expect(records[1].system).toBe('Be brief.');
    expect(records[1].turns.map((t) => t.role)).toEqual(['user', 'assistant', 'tool', 'user']);
    expect(errors.map((e) => [e.line, e.message.split(',')[0]])).toEqual([
      [3, 'record needs exactly one of query or messages'],
      [4, 'tools[0] has no name'],
      [5, 'answers call "other_tool"'],
      [6, 'answers[0].arguments must be an object'],
      [7, 'the last message must come from the user or a tool'],
      [8, expect.any(String)],
    ]);
    expect(dropped).toBe(0);
  });
});

describe('xLAM', () => {
  it('parses tools and answers from JSON strings, keeping int/float spellings', () => {
    const row = {
      id: 7,
      query: 'Convert 2.0 km',
      tools: JSON.stringify([{ name: 'convert', description: 'Convert.', parameters: { value: { type: 'float', description: 'v', default: 1.0 } } }]),
      answers: '[{"name": "convert", "arguments": {"value": 2.0, "digits": 3}}]',
    };
    const { records, errors } = parseDataset(JSON.stringify([row, { ...row, id: 8, answers: '[{"name": "convert", "arguments": {' }]), 'xlam');
    expect(records).toHaveLength(1);
    expect(records[0].id).toBe('7');
    expect(canonicalJson(records[0].answers[0].arguments)).toBe('{"digits": 3, "value": 2.0}');
    expect(pyDumps(records[0].tools[0])).toContain('"default": 1');
    expect(errors).toEqual([{ line: 1, message: expect.stringContaining('answers is not valid JSON') }]);
  });
});

describe('ToolACE', () => {
  const system =
    'You are an expert in composing functions. [Read this first.]\nHere is a list of functions in JSON format that you can invoke:\n' +
    JSON.stringify([
      { name: 'newAddress', description: 'New address.', parameters: { type: 'dict', properties: { coin: { type: 'string' } }, required: ['coin'] } },
      { name: 'Market Trends API', description: 'Trends.', parameters: { type: 'dict', properties: {} } },
    ]) +
    '. \nShould you decide to return the function call(s), Put it in the format of [func1(params_name=params_value, params_name2=params_value2...), func2(params)]\n';
  const dialogue = {
    system,
    conversations: [
      { from: 'user', value: 'Make me an ETH address and show trends.' },
      { from: 'assistant', value: '[newAddress(coin="ETH"), Market Trends API(trend_type=\'MARKET_INDEXES\', top=3)]' },
      { from: 'tool', value: '[{"name": "newAddress", "results": {"address": "0xabc"}}]' },
      { from: 'assistant', value: 'Here is your address: 0xabc.' },
      { from: 'user', value: 'Now a BTC one, and the price.' },
      { from: 'assistant', value: '[newAddress(coin="BTC"), getPrice(coin="BTC")]' },
      { from: 'user', value: 'Just the address then.' },
      { from: 'assistant', value: '[newAddress(coin="BTC")]' },
    ],
  };

  it('cuts a dialogue into one instance per call turn and drops calls to unknown tools', () => {
    const { records, errors, dropped } = parseDataset(JSON.stringify(dialogue) + '\n{"system": "no tools here", "conversations": []}', 'toolace');
    expect(errors).toEqual([{ line: 2, message: 'no JSON tool list found in the system text' }]);
    expect(dropped).toBe(1);
    expect(records.map((r) => r.id)).toEqual(['1-1', '1-7']);
    expect(records[0].turns).toEqual([{ role: 'user', content: 'Make me an ETH address and show trends.' }]);
    expect(canonicalJson(records[0].answers.map((a) => [a.name, a.arguments]))).toBe(
      '[["newAddress", {"coin": "ETH"}], ["Market Trends API", {"top": 3, "trend_type": "MARKET_INDEXES"}]]',
    );
    expect(records[1].turns.map((t) => t.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user', 'assistant', 'user']);
    expect(records[1].system).toBeUndefined();
    expect(toolsInText(system)?.map((t) => t.name)).toEqual(['newAddress', 'Market Trends API']);
  });
});

describe('Python-call syntax', () => {
  it('parses calls with every literal kind', () => {
    const calls = parsePythonCalls("[f(a=1, b='x', c=[1,2], d={'k': True}, e=None), spotify.play(ids=(1, 2.5,), neg=-3e-2, s=\"it's\\n\"), g()]");
    expect(calls.map((c) => `${c.name} ${pyDumps(c.arguments)}`)).toEqual([
      'f {"a": 1, "b": "x", "c": [1, 2], "d": {"k": true}, "e": null}',
      'spotify.play {"ids": [1, 2.5], "neg": -0.03, "s": "it\'s\\n"}',
      'g {}',
    ]);
    expect(parsePythonCalls('f(x=1.0)')[0].arguments).toEqual({ x: expect.objectContaining({ value: '1.0' }) });
    expect(pyDumps(parsePythonLiteral("{1: 'a', 'u': '\\u00e9\\x41'}"))).toBe('{"1": "a", "u": "\\u00e9A"}');
  });

  it('rejects what is not a call list', () => {
    for (const bad of ['[f(1)]', '[f(a=1]', "f(a='x)", 'f(a=undefined_name)', '[f(a=1)] trailing', 'hello']) {
      expect(() => parsePythonCalls(bad), bad).toThrow();
    }
  });
});
