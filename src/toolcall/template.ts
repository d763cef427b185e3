// The thinking template: how a question and its tools become a ChatML prompt.
//
// One system turn holds a short preamble, the tools (one `{"type": "function", "function": <spec>}` JSON object
// per line inside <tools></tools>, specs exactly as the dataset gives them), the instruction to reason inside
// <think></think> and answer with ONE <tool_call> block holding a JSON list, and one example reply. The Qwen
// chat template's own tool block is not used. Earlier assistant calls become <tool_call> blocks in their turns
// and tool results become user turns wrapped in <tool_response></tool_response>. The same template serves
// training, evaluation and the playground.
//
// A template is either the four parts above in the project's fixed layout, or one text with placeholders (the
// `text` field) for prompts laid out differently, such as the exact system prompt of the paper's code. The
// text is read as a Python format string, as that code writes it: {tools} (the tool lines), {example} (the
// example reply), {system} (the dataset's own system text); {{ and }} are literal braces.

import { isJsonObject, pyDumps, type Json, type JsonObject } from './json.ts';
import type { ToolCall } from './decode.ts';

export type Turn =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; content: string };

/** What a prompt is made of: tools as the dataset gives them, the dialogue so far, the dataset's system text. */
export interface Conversation {
  tools: Json[];
  turns: Turn[];
  system?: string;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface TemplateOptions {
  /** The opening line of the system turn. */
  preamble: string;
  /** Placed right before the <tools> block. */
  toolsIntro: string;
  /** How to answer: reasoning, then one <tool_call> block with a JSON list. */
  instructions: string;
  /** One complete reply in the expected format. */
  exampleReply: string;
  /** The whole system turn as one text with {tools}, {example}, {system}: replaces the layout of the parts above. */
  text?: string;
}

export class TemplateError extends Error {}

export const PLACEHOLDERS = ['tools', 'example', 'system'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];
type TextPiece = string | { placeholder: Placeholder };

const lineAt = (text: string, i: number) => text.slice(0, i).split('\n').length;

/** A text template → literal pieces and placeholders, with str.format's rules for braces. */
export function parseTemplateText(text: string): TextPiece[] {
  const pieces: TextPiece[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ((c === '{' || c === '}') && text[i + 1] === c) {
      literal += c;
      i++;
    } else if (c === '{') {
      const end = text.indexOf('}', i);
      const name = end < 0 ? text.slice(i) : text.slice(i + 1, end);
      if (end < 0 || !(PLACEHOLDERS as readonly string[]).includes(name)) {
        const shown = end < 0 ? text.slice(i, i + 20) : text.slice(i, end + 1);
        throw new TemplateError(
          `template line ${lineAt(text, i)}: "${shown}" is not a placeholder (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}; write {{ and }} for literal braces)`,
        );
      }
      if (literal) pieces.push(literal);
      literal = '';
      pieces.push({ placeholder: name as Placeholder });
      i = end;
    } else if (c === '}') {
      throw new TemplateError(`template line ${lineAt(text, i)}: a single "}" (write }} for a literal brace)`);
    } else {
      literal += c;
    }
  }
  if (literal) pieces.push(literal);
  if (!pieces.some((p) => typeof p !== 'string' && p.placeholder === 'tools')) throw new TemplateError('the template has no {tools} placeholder: the model would never see the tools');
  return pieces;
}

/** Python format-string escaping: braces doubled. */
const escapeBraces = (s: string) => s.replace(/[{}]/g, (b) => b + b);

/** The four-part template as one text with placeholders (what the studio's editor starts from). */
export function templateText(options: TemplateOptions = DEFAULT_TEMPLATE): string {
  if (options.text !== undefined) return options.text;
  return [
    escapeBraces(options.preamble),
    `${escapeBraces(options.toolsIntro)}\n<tools>\n{tools}\n</tools>`,
    escapeBraces(options.instructions),
    'Example reply:\n{example}',
  ].join('\n\n');
}

/** Template fields (a config's "template", eval's --template JSON) over DEFAULT_TEMPLATE, checked. */
export function resolveTemplate(v: unknown): TemplateOptions {
  if (v === undefined) return DEFAULT_TEMPLATE;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TemplateError('template must be an object');
  const known = [...Object.keys(DEFAULT_TEMPLATE), 'text'];
  for (const [k, s] of Object.entries(v)) {
    if (s === undefined) continue; // a form's cleared field
    if (!known.includes(k)) throw new TemplateError(`template.${k} is not a setting (known: ${known.join(', ')})`);
    if (typeof s !== 'string' || s === '') throw new TemplateError(`template.${k} must be a non-empty string`);
  }
  const given = Object.fromEntries(Object.entries(v).filter(([, s]) => s !== undefined)) as Partial<TemplateOptions>;
  const template = { ...DEFAULT_TEMPLATE, ...given };
  if (template.text !== undefined) parseTemplateText(template.text);
  return template;
}

export const DEFAULT_TEMPLATE: TemplateOptions = {
  preamble: 'You are an assistant that fulfils requests by calling functions.',
  toolsIntro: 'These functions are available, one JSON object per line:',
  instructions:
    'First reason about the request inside <think> </think>. Then answer with exactly one <tool_call> </tool_call> ' +
    'block holding a JSON list of calls, each {"name": <function name>, "arguments": <object of arguments>}. ' +
    'Use only the functions listed, and only the arguments the request gives. ' +
    'If no function fits the request, answer with an empty list: <tool_call>[]</tool_call>.',
  exampleReply:
    '<think> Which function fits, and which values does the request give for its parameters? </think>\n' +
    '<tool_call>[{"name": "function_name", "arguments": {"parameter": "value"}}]</tool_call>',
};

/** A tool spec wrapped as the template shows it; an already wrapped one is kept as is. */
function functionEntry(tool: Json): Json {
  if (isJsonObject(tool) && tool.type === 'function' && isJsonObject(tool.function)) return tool;
  return { type: 'function', function: tool };
}

/** The assistant's tool-call block, as the model is asked to write it. */
export function toolCallBlock(calls: ToolCall[]): string {
  const list: JsonObject[] = calls.map((c) => ({ name: c.name, arguments: c.arguments }));
  return `<tool_call>${pyDumps(list)}</tool_call>`;
}

export function systemText(conv: Conversation, options: TemplateOptions = DEFAULT_TEMPLATE): string {
  const tools = conv.tools.map((t) => pyDumps(functionEntry(t))).join('\n');
  if (options.text !== undefined) {
    const pieces = parseTemplateText(options.text);
    const values: Record<Placeholder, string> = { tools, example: options.exampleReply, system: conv.system ?? '' };
    const text = pieces.map((p) => (typeof p === 'string' ? p : values[p.placeholder])).join('');
    // The dataset's system text is never lost: without {system} it follows, as in the four-part layout.
    const placed = pieces.some((p) => typeof p !== 'string' && p.placeholder === 'system');
    return conv.system && !placed ? `${text}\n\n${conv.system}` : text;
  }
  const parts = [
    options.preamble,
    `${options.toolsIntro}\n<tools>\n${tools}\n</tools>`,
    options.instructions,
    `Example reply:\n${options.exampleReply}`,
  ];
  if (conv.system) parts.push(conv.system);
  return parts.join('\n\n');
}

/** Conversation → ChatML messages: one system turn, then the dialogue with tool results as user turns. */
export function buildMessages(conv: Conversation, options: TemplateOptions = DEFAULT_TEMPLATE): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: 'system', content: systemText(conv, options) }];
  for (const turn of conv.turns) {
    if (turn.role === 'tool') {
      const response = `<tool_response>\n${turn.content}\n</tool_response>`;
      const last = messages[messages.length - 1];
      // Results of one round of calls share a user turn.
      if (last.role === 'user' && last.content.startsWith('<tool_response>')) last.content += `\n${response}`;
      else messages.push({ role: 'user', content: response });
    } else if (turn.role === 'assistant' && turn.toolCalls) {
      const text = turn.content ? `${turn.content}\n` : '';
      messages.push({ role: 'assistant', content: text + toolCallBlock(turn.toolCalls) });
    } else {
      messages.push({ role: turn.role, content: turn.content });
    }
  }
  return messages;
}

/** ChatML text, ending with the opening of the assistant turn the model completes. */
export function renderChatML(messages: ChatMessage[]): string {
  const turns = messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join('');
  return `${turns}<|im_start|>assistant\n`;
}

export function renderPrompt(conv: Conversation, options: TemplateOptions = DEFAULT_TEMPLATE): string {
  return renderChatML(buildMessages(conv, options));
}
