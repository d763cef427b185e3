import { describe, expect, it } from 'vitest';
import { REWARDS, isRewardName, rewardSignals, type RewardName } from '../../src/toolcall/reward.ts';
import { decodeToolCalls, parseCompletion } from '../../src/toolcall/decode.ts';
import { parseJson } from '../../src/toolcall/json.ts';
import { validateCalls } from '../../src/data/instance.ts';

/** Ground truth written as JSON text, so 1 and 1.0 keep their spelling. */
const truth = (json: string) => validateCalls(parseJson(json), 'ground truth');
const GT = truth('[{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}, {"name": "set_timer", "arguments": {"minutes": 1.0}}]');
const THINK = '<think>reasoning</think>';
const block = (json: string) => `<tool_call>${json}</tool_call>`;
const WEATHER = '{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}';
const TIMER = '{"name": "set_timer", "arguments": {"minutes": 1.0}}';

// [description, completion, ground truth, rewards for binary / binary_no_think / partial_format / partial_names]
const CASES: [string, string, ReturnType<typeof truth>, [number, number, number, number]][] = [
  ['exact match', `${THINK}${block(`[${WEATHER}, ${TIMER}]`)}`, GT, [1, 1, 1, 1]],
  ['calls reordered', `${THINK}${block(`[${TIMER}, ${WEATHER}]`)}`, GT, [1, 1, 1, 1]],
  ['keys reordered', `${THINK}${block(`[{"arguments": {"days": 3, "city": "Paris"}, "name": "get_weather"}, ${TIMER}]`)}`, GT, [1, 1, 1, 1]],
  ['1 instead of 1.0', `${THINK}${block(`[${WEATHER}, {"name": "set_timer", "arguments": {"minutes": 1}}]`)}`, GT, [0, 0, 0.2, 0.4]],
  ['"1.0" instead of 1.0', `${THINK}${block(`[${WEATHER}, {"name": "set_timer", "arguments": {"minutes": "1.0"}}]`)}`, GT, [0, 0, 0.2, 0.4]],
  ['3.0 instead of 3', `${THINK}${block(`[{"name": "get_weather", "arguments": {"city": "Paris", "days": 3.0}}, ${TIMER}]`)}`, GT, [0, 0, 0.2, 0.4]],
  ['missing call', `${THINK}${block(`[${WEATHER}]`)}`, GT, [0, 0, 0.2, 0.2]],
  ['duplicated call', `${THINK}${block(`[${WEATHER}, ${WEATHER}, ${TIMER}]`)}`, GT, [0, 0, 0.2, 0.2]],
  ['duplicate instead of the other call', `${THINK}${block(`[${WEATHER}, ${WEATHER}]`)}`, GT, [0, 0, 0.2, 0.2]],
  ['extra optional argument', `${THINK}${block(`[${WEATHER}, {"name": "set_timer", "arguments": {"minutes": 1.0, "label": "x"}}]`)}`, GT, [0, 0, 0.2, 0.4]],
  ['no think tags', block(`[${WEATHER}, ${TIMER}]`), GT, [0, 1, 0.8, 0.8]],
  ['only <think> without </think>', `<think>${block(`[${WEATHER}, ${TIMER}]`)}`, GT, [0, 1, 0.8, 0.8]],
  ['think after tool_call (presence only)', `${block(`[${WEATHER}, ${TIMER}]`)}${THINK}`, GT, [1, 1, 1, 1]],
  ['two blocks: the last one counts', `${THINK}${block('[]')}${block(`[${WEATHER}, ${TIMER}]`)}`, GT, [1, 1, 1, 1]],
  ['two blocks: a right first one does not help', `${THINK}${block(`[${WEATHER}, ${TIMER}]`)}${block('[]')}`, GT, [0, 0, 0.2, 0.2]],
  ['invalid JSON', `${THINK}${block(`[${WEATHER}, ${TIMER}`)}`, GT, [0, 0, 0.2, 0.2]],
  ['no block', `${THINK} I would call get_weather.`, GT, [0, 0, 0.2, 0.2]],
  ['single object instead of a list', `${THINK}${block(WEATHER)}`, truth(`[${WEATHER}]`), [1, 1, 1, 1]],
  ['list as a JSON string', `${THINK}${block(JSON.stringify(`[${WEATHER}]`))}`, truth(`[${WEATHER}]`), [1, 1, 1, 1]],
  ['item without arguments', `${THINK}${block('[{"name": "get_weather"}]')}`, truth(`[${WEATHER}]`), [0, 0, 0.2, 0.2]],
  ['item that is not an object', `${THINK}${block('["get_weather"]')}`, truth(`[${WEATHER}]`), [0, 0, 0.2, 0.2]],
  ['both lists empty', `${THINK}${block('[]')}`, [], [1, 1, 1, 1]],
  ['whitespace around the list', `${THINK}<tool_call>\n  []\n</tool_call>`, [], [1, 1, 1, 1]],
  ['calls where none are expected', `${THINK}${block(`[${WEATHER}]`)}`, [], [0, 0, 0.2, 0.2]],
  ['empty list where calls are expected', `${THINK}${block('[]')}`, GT, [0, 0, 0.2, 0.2]],
  ['list order inside a value matters', `${THINK}${block('[{"name": "f", "arguments": {"xs": [2, 1]}}]')}`, truth('[{"name": "f", "arguments": {"xs": [1, 2]}}]'), [0, 0, 0.2, 0.4]],
];

describe('rewards', () => {
  const names: RewardName[] = ['binary', 'binary_no_think', 'partial_format', 'partial_names'];
  for (const [description, completion, groundTruth, expected] of CASES) {
    it(description, () => {
      expect(names.map((n) => REWARDS[n](completion, groundTruth).reward)).toEqual(expected);
    });
  }

  it('reports the sub-signals', () => {
    expect(rewardSignals(`${THINK}${block(`[${WEATHER}, {"name": "set_timer", "arguments": {"minutes": 1}}]`)}`, GT)).toEqual({
      toolCallFound: true,
      jsonParsed: true,
      thinkTags: true,
      namesMatch: true,
      exactMatch: false,
    });
    expect(rewardSignals(block('[{'), GT)).toEqual({ toolCallFound: true, jsonParsed: false, thinkTags: false, namesMatch: false, exactMatch: false });
    expect(rewardSignals('', [])).toMatchObject({ toolCallFound: false, exactMatch: false });
  });

  it('has a registry by name', () => {
    expect(Object.keys(REWARDS)).toEqual(['binary', 'binary_no_think', 'partial_format', 'partial_names']);
    expect(isRewardName('binary')).toBe(true);
    expect(isRewardName('toString')).toBe(false);
  });
});

describe('evaluation decoding', () => {
  it('takes the first block where the reward takes the last', () => {
    const text = `${block('[{"name": "a", "arguments": {}}]')} ${block('[{"name": "b", "arguments": {}}]')}`;
    expect(decodeToolCalls(text)?.map((c) => c.name)).toEqual(['a']);
    expect(parseCompletion(text, 'last').calls?.map((c) => c.name)).toEqual(['b']);
  });

  it('fails on a missing block or bad JSON', () => {
    expect(decodeToolCalls('no call')).toBeNull();
    expect(decodeToolCalls(block('[{"name": "a", "arguments": {}'))).toBeNull();
  });
});
