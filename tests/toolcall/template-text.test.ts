// A template given as one text with placeholders: the project's layout written as text renders identically,
// a prompt laid out like the paper's (dataset system text first, literal braces as {{ }}) comes out verbatim,
// and mistakes are named with their line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATE, renderPrompt, resolveTemplate, systemText, templateText, type Conversation } from '../../src/toolcall/template.ts';
import { readTemplateFile } from '../../src/cli/template-file.ts';
import { parseJson, type JsonObject } from '../../src/toolcall/json.ts';

const tools = [parseJson('{"name": "get_weather", "parameters": {"city": {"type": "str", "default": 1.0}}}') as JsonObject, { name: 'noop' }];
const conv: Conversation = { tools, turns: [{ role: 'user', content: 'Weather in Paris?' }] };
const withSystem: Conversation = { ...conv, system: 'You are a travel agent.' };

// The shape of the paper's system prompt (own wording): a format string as its code writes one.
const PAPER_LIKE = [
  '{system}# Tools',
  '',
  'Functions you may call, inside <tools></tools>:',
  '',
  '<tools>',
  '{tools}',
  '</tools>',
  '',
  'Reply with <think> </think> and then <tool_call>[{{"name": <name>, "arguments": <args>}}, ...]</tool_call>.',
  'For example: {example}',
].join('\n');

describe('text templates', () => {
  it('the default layout as text renders exactly as the four parts do', () => {
    const asText = { ...DEFAULT_TEMPLATE, text: templateText(DEFAULT_TEMPLATE) };
    for (const c of [conv, withSystem]) expect(systemText(c, asText)).toBe(systemText(c, DEFAULT_TEMPLATE));
    const braces = { ...DEFAULT_TEMPLATE, instructions: 'Answer {"name": ...} or {}.' };
    expect(systemText(conv, { ...braces, text: templateText(braces) })).toBe(systemText(conv, braces));
  });

  it('a paper-style prompt comes out verbatim: system text first, braces literal, tool lines', () => {
    const template = resolveTemplate({ text: PAPER_LIKE });
    const toolLines = '{"type": "function", "function": {"name": "get_weather", "parameters": {"city": {"type": "str", "default": 1.0}}}}\n{"type": "function", "function": {"name": "noop"}}';
    expect(systemText(withSystem, template)).toBe(
      'You are a travel agent.# Tools\n\nFunctions you may call, inside <tools></tools>:\n\n<tools>\n' + toolLines + '\n</tools>\n\n' +
        'Reply with <think> </think> and then <tool_call>[{"name": <name>, "arguments": <args>}, ...]</tool_call>.\nFor example: ' + DEFAULT_TEMPLATE.exampleReply,
    );
    expect(renderPrompt(conv, template)).toMatch(/^<\|im_start\|>system\n# Tools\n[\s\S]*<\|im_end\|>\n<\|im_start\|>user\nWeather in Paris\?<\|im_end\|>\n<\|im_start\|>assistant\n$/);
    // Without {system}, the dataset's system text is appended rather than lost.
    expect(systemText(withSystem, resolveTemplate({ text: 'T {tools}' }))).toBe(`T ${toolLines}\n\nYou are a travel agent.`);
  });

  it('names mistakes with their line', () => {
    expect(() => resolveTemplate({ text: 'a\n{tools}\nsee {tool}' })).toThrow('template line 3: "{tool}" is not a placeholder (known: {tools}, {example}, {system}; write {{ and }} for literal braces)');
    expect(() => resolveTemplate({ text: '{tools} {"name": 1}' })).toThrow('"{"name": 1}" is not a placeholder');
    expect(() => resolveTemplate({ text: '{tools} }' })).toThrow('template line 1: a single "}"');
    expect(() => resolveTemplate({ text: 'no tools here' })).toThrow('no {tools} placeholder');
    expect(() => resolveTemplate({ txt: 'x' })).toThrow('template.txt is not a setting');
  });

  it('--template FILE: a .txt is one text, a .json template fields or a train config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooln1-template-'));
    writeFileSync(join(dir, 'paper.txt'), PAPER_LIKE + '\n');
    expect(readTemplateFile(join(dir, 'paper.txt')).text).toBe(PAPER_LIKE);
    writeFileSync(join(dir, 'fields.json'), '{"preamble": "P" /* comment */}');
    expect(readTemplateFile(join(dir, 'fields.json'))).toEqual({ ...DEFAULT_TEMPLATE, preamble: 'P' });
    writeFileSync(join(dir, 'train-config.json'), JSON.stringify({ model: 'embedded', template: { text: 'X {tools}' } }));
    expect(readTemplateFile(join(dir, 'train-config.json')).text).toBe('X {tools}');
    writeFileSync(join(dir, 'bad.txt'), '{tool}');
    expect(() => readTemplateFile(join(dir, 'bad.txt'))).toThrow(/bad\.txt: template line 1/);
  });
});
