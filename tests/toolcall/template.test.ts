import { describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATE, buildMessages, renderChatML, renderPrompt, type Conversation } from '../../src/toolcall/template.ts';
import { parseJson, pyInt, type JsonObject } from '../../src/toolcall/json.ts';
import { PLAYGROUND_EXAMPLES } from '../../src/toolcall/examples.ts';
import { REWARDS } from '../../src/toolcall/reward.ts';

const weather = parseJson('{"name": "get_weather", "description": "Weather now.", "parameters": {"type": "dict", "properties": {"city": {"type": "string", "default": 1.0}}}}') as JsonObject;

describe('thinking template', () => {
  it('renders one system turn with the tools, one JSON object per line, then the dialogue', () => {
    const conv: Conversation = { tools: [weather, { type: 'function', function: { name: 'noop' } }], turns: [{ role: 'user', content: 'Weather in Oslo?' }] };
    const prompt = renderPrompt(conv);
    expect(prompt.startsWith('<|im_start|>system\n')).toBe(true);
    expect(prompt.endsWith('<|im_end|>\n<|im_start|>user\nWeather in Oslo?<|im_end|>\n<|im_start|>assistant\n')).toBe(true);
    // Tools as given (BFCL types and number spellings kept), wrapped once, key order kept.
    expect(prompt).toContain(
      '<tools>\n{"type": "function", "function": {"name": "get_weather", "description": "Weather now.", "parameters": {"type": "dict", "properties": {"city": {"type": "string", "default": 1.0}}}}}\n' +
        '{"type": "function", "function": {"name": "noop"}}\n</tools>',
    );
    expect(prompt).toContain('<think>');
    expect(prompt).toContain(DEFAULT_TEMPLATE.exampleReply);
  });

  it('turns earlier calls into <tool_call> blocks and tool results into user turns', () => {
    const messages = buildMessages({
      tools: [weather],
      system: 'The current year is 2023.',
      turns: [
        { role: 'user', content: 'Weather in Oslo and Rome?' },
        {
          role: 'assistant',
          content: 'Checking.',
          toolCalls: [
            { name: 'get_weather', arguments: { city: 'Oslo' } },
            { name: 'get_weather', arguments: { city: 'Rome', days: pyInt(2) } },
          ],
        },
        { role: 'tool', content: '{"temp": 3}' },
        { role: 'tool', content: '{"temp": 18}' },
        { role: 'user', content: 'And Lima?' },
      ],
    });
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'user']);
    expect(messages[0].content.endsWith('\n\nThe current year is 2023.')).toBe(true);
    expect(messages[2].content).toBe(
      'Checking.\n<tool_call>[{"name": "get_weather", "arguments": {"city": "Oslo"}}, {"name": "get_weather", "arguments": {"city": "Rome", "days": 2}}]</tool_call>',
    );
    expect(messages[3].content).toBe('<tool_response>\n{"temp": 3}\n</tool_response>\n<tool_response>\n{"temp": 18}\n</tool_response>');
  });

  it('is configurable', () => {
    const options = { ...DEFAULT_TEMPLATE, preamble: 'Be brief.', exampleReply: '<think>x</think>\n<tool_call>[]</tool_call>' };
    const system = buildMessages({ tools: [], turns: [{ role: 'user', content: 'hi' }] }, options)[0].content;
    expect(system.startsWith('Be brief.\n\n')).toBe(true);
    expect(system).toContain('Example reply:\n<think>x</think>\n<tool_call>[]</tool_call>');
    expect(renderChatML([{ role: 'user', content: 'q' }])).toBe('<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n');
  });

  it('renders every playground example, and the example reply has the format the reward wants', () => {
    for (const ex of PLAYGROUND_EXAMPLES) {
      expect(renderPrompt({ tools: ex.tools, turns: [{ role: 'user', content: ex.question }] })).toContain(ex.question);
    }
    const example = REWARDS.binary(DEFAULT_TEMPLATE.exampleReply, [{ name: 'function_name', arguments: { parameter: 'value' } }]);
    expect(example.reward).toBe(1);
  });
});
