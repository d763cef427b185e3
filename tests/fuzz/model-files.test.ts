// Fuzz: the files a model folder holds (config.json, model.safetensors, tokenizer.json, tokenizer_config.json,
// generation_config.json), mutated field by field and byte by byte, loaded from memory through the same
// loader the CLI and the studio use. Every mutation is refused with a message naming the file and the field
// or tensor, within a bound, before anything is allocated for it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, type ModelSource } from '../../src/model/source.ts';
import { loadTokenizer, tokenizerForModel } from '../../src/model/tokenizer.ts';
import { MAX_POSITIONS } from '../../src/model/config.ts';
import { Rng } from '../../src/util/random.ts';
import { FIXTURES, TINY, deepJson, expectNoLeak } from './harness.ts';

type Files = Record<string, Uint8Array | string | undefined>;

/** A model folder in memory. */
function memory(files: Files): ModelSource {
  return {
    label: 'mem',
    where: (file) => `mem/${file}`,
    async open(file) {
      const content = files[file];
      if (content === undefined) return null;
      const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
      return { size: bytes.length, stream: new Blob([bytes as Uint8Array<ArrayBuffer>]).stream() };
    },
  };
}

const read = (dir: string, file: string) => new Uint8Array(readFileSync(join(dir, file)));
const F32 = join(FIXTURES, 'gqa-untied-f32');
const BF16 = join(FIXTURES, 'gqa-tied-bf16');
const F16 = join(FIXTURES, 'gqa3-tied-f16');
const CONFIG = JSON.parse(readFileSync(join(F32, 'config.json'), 'utf8')) as Record<string, unknown>;
const WEIGHTS = read(F32, 'model.safetensors');

/** The safetensors file split into its header (parsed) and data section. */
function split(bytes: Uint8Array): { header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
}

/** A safetensors file from a header object (or raw header text) and data; `length` overrides the length prefix. */
function join8(header: unknown, data: Uint8Array, length?: bigint): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

async function loadError(files: Files): Promise<string> {
  try {
    await loadModel(memory({ 'config.json': JSON.stringify(CONFIG), 'model.safetensors': WEIGHTS, ...files }));
  } catch (e) {
    const message = (e as Error).message;
    expectNoLeak(message);
    expect(e).not.toBeInstanceOf(TypeError);
    expect(e).not.toBeInstanceOf(RangeError);
    return message;
  }
  throw new Error('loaded without an error');
}

it('a tied config over untied weights loads: the redundant lm_head.weight is ignored, as Hugging Face does', async () => {
  const loaded = await loadModel(memory({ 'config.json': JSON.stringify({ ...CONFIG, tie_word_embeddings: true }), 'model.safetensors': WEIGHTS }));
  expect(loaded.tensors.has('lm_head.weight')).toBe(false);
});

it('the unmutated files load (the baseline every case below departs from)', async () => {
  const loaded = await loadModel(memory({ 'config.json': JSON.stringify(CONFIG), 'model.safetensors': WEIGHTS }));
  expect(loaded.tensors.size).toBe(27);
});

// ---- config.json ----------------------------------------------------------------------------------------

describe('config.json: every integer field, every wrong value', () => {
  const fields = ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'vocab_size', 'max_position_embeddings'];
  const values: unknown[] = [0, -1, 1.5, '8', true, [], {}, 2 ** 53];
  it.each(fields.flatMap((f) => values.map((v) => [f, v] as const)))('%s = %j', async (field, value) => {
    const message = await loadError({ 'config.json': JSON.stringify({ ...CONFIG, [field]: value }) });
    expect(message).toBe(`mem/config.json: field "${field}" must be a positive integer, got ${JSON.stringify(value)}`);
  });
  it.each(['hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'vocab_size'])('%s missing', async (field) => {
    const config = { ...CONFIG };
    delete config[field];
    expect(await loadError({ 'config.json': JSON.stringify(config) })).toBe(`mem/config.json: missing required field "${field}"`);
  });
  it.each(['rms_norm_eps', 'rope_theta'])('%s not a positive number', async (field) => {
    for (const v of [0, -1, 'x', []]) {
      const message = await loadError({ 'config.json': JSON.stringify({ ...CONFIG, [field]: v }) });
      expect(message).toBe(`mem/config.json: field "${field}" must be a positive number, got ${JSON.stringify(v)}`);
    }
  });
});

describe('config.json: absurd sizes fail at once against the weights, before anything is allocated', () => {
  it.each([3, 1000, 10 ** 9, 2 ** 31, Number.MAX_SAFE_INTEGER])('num_hidden_layers = %i', async (layers) => {
    expect(await loadError({ 'config.json': JSON.stringify({ ...CONFIG, num_hidden_layers: layers }) })).toBe(
      `mem/model.safetensors: holds 2 layers but config.json says num_hidden_layers=${layers} (does config.json match these weights?)`,
    );
  }, 5000);
  it.each([
    ['hidden_size', 2 ** 30, /tensor "model\.embed_tokens\.weight" has shape \[96,32\] but config\.json implies \[96,1073741824\]/],
    ['intermediate_size', 10 ** 9, /tensor "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[64,32\] but config\.json implies \[1000000000,32\]/],
    ['vocab_size', 10 ** 12, /tensor "model\.embed_tokens\.weight" has shape \[96,32\] but config\.json implies \[1000000000000,32\]/],
    ['num_attention_heads', 2 ** 20, /hidden_size 32 is not divisible by num_attention_heads 1048576/],
    ['num_key_value_heads', 3, /num_attention_heads 4 is not a multiple of num_key_value_heads 3/],
    ['head_dim', 3, /head_dim 3 must be even for rotary embeddings/],
    ['head_dim', 2 ** 24, /tensor "model\.layers\.0\.self_attn\.q_proj\.weight" has shape \[32,32\] but config\.json implies \[67108864,32\]/],
  ] as [string, number, RegExp][])('%s = %i', async (field, value, message) => {
    expect(await loadError({ 'config.json': JSON.stringify({ ...CONFIG, [field]: value }) })).toMatch(message);
  }, 5000);
  it.each([1, 2 ** 24 + 1, 2 ** 40])('max_position_embeddings = %i', async (n) => {
    expect(await loadError({ 'config.json': JSON.stringify({ ...CONFIG, max_position_embeddings: n }) })).toBe(
      `mem/config.json: max_position_embeddings ${n} is outside 2..${MAX_POSITIONS} (the RoPE tables' range)`,
    );
  });
});

describe('config.json: what the engine does not implement is refused by name', () => {
  it.each([
    ['model_type', 'llama', 'model_type "llama" is not supported (expected "qwen2")'],
    ['model_type', 3, 'model_type "3" is not supported (expected "qwen2")'],
    ['hidden_act', 'gelu', 'hidden_act "gelu" is not supported (expected "silu")'],
    ['rope_scaling', { type: 'yarn', factor: 4 }, 'rope_scaling is not supported (expected null)'],
    ['use_sliding_window', true, 'use_sliding_window=true is not supported'],
    ['tie_word_embeddings', 'yes', 'field "tie_word_embeddings" must be a boolean, got "yes"'],
  ])('%s = %j', async (field, value, message) => {
    expect(await loadError({ 'config.json': JSON.stringify({ ...CONFIG, [field]: value }) })).toContain(message);
  });
  it.each([
    ['not JSON', '{"hidden_size": ', /mem\/config\.json: not valid JSON/],
    ['empty', '', /mem\/config\.json: not valid JSON/],
    ['a list', '[1]', /mem\/config\.json: not a JSON object/],
    ['null', 'null', /mem\/config\.json: not a JSON object/],
    ['nested 100 000 deep', `{"x": ${deepJson(100_000)}}`, /mem\/config\.json: missing required field "hidden_size"/],
    ['absent', undefined, /mem\/config\.json: not found/],
  ] as [string, string | undefined, RegExp][])('config.json %s', async (_, text, message) => {
    expect(await loadError({ 'config.json': text })).toMatch(message);
  });
});

// ---- model.safetensors ----------------------------------------------------------------------------------

describe('model.safetensors: header mutations', () => {
  const { header, data } = split(WEIGHTS);
  const first = 'model.embed_tokens.weight';
  const edit = (name: string, patch: Record<string, unknown>) => join8({ ...header, [name]: { ...header[name], ...patch } }, data);
  it.each([
    ['length prefix 0', join8(header, data, 0n), /header length 0 is not sane/],
    ['length prefix 2^63', join8(header, data, 2n ** 63n), /header length 9223372036854775808 is not sane/],
    ['length prefix past the file', join8(header, data, 99_000_000n), /truncated: header needs 99000008 bytes/],
    ['a header that is not JSON', join8('{"a": ', data), /header is not valid UTF-8 JSON/],
    ['a header that is a list', join8('[1]', data), /header JSON is not an object/],
    ['a header nested 100 000 deep', join8(`{"a": ${deepJson(100_000)}}`, data), /tensor "a": entry is not an object|unsupported dtype/],
    ['invalid UTF-8 in the header', new Uint8Array([7, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), /header is not valid UTF-8 JSON \(The encoded data was not valid for encoding utf-8\)/],
    ['__metadata__ with a number', join8({ ...header, __metadata__: { format: 1 } }, data), /__metadata__ must map strings to strings/],
    ['dtype F64', edit(first, { dtype: 'F64' }), /tensor "model\.embed_tokens\.weight": unsupported dtype "F64"/],
    ['dtype missing', edit(first, { dtype: undefined }), /unsupported dtype undefined/],
    ['dtype I32', edit(first, { dtype: 'I32', shape: header[first].shape }), /tensor "model\.embed_tokens\.weight" has dtype I32; weights must be F32, F16 or BF16/],
    ['a negative dimension', edit(first, { shape: [-96, 32] }), /shape \[-96,32\] is not a list of non-negative integers/],
    ['a fractional dimension', edit(first, { shape: [96.5, 32] }), /shape \[96\.5,32\] is not a list of non-negative integers/],
    ['a string dimension', edit(first, { shape: ['96', 32] }), /is not a list of non-negative integers/],
    ['shape not a list', edit(first, { shape: 96 }), /shape 96 is not a list/],
    ['a shape that needs more bytes', edit(first, { shape: [97, 32] }), /holds 12288 bytes but F32\[97,32\] needs 12416/],
    ['a huge shape', edit(first, { shape: [2 ** 40, 2 ** 40] }), /needs \d+/],
    ['offsets reversed', edit(first, { data_offsets: [12288, 0] }), /data_offsets \[12288,0\] is not \[begin, end\] with begin <= end/],
    ['offsets of three numbers', edit(first, { data_offsets: [0, 1, 2] }), /is not \[begin, end\]/],
    ['offsets negative', edit(first, { data_offsets: [-4, 12284] }), /is not \[begin, end\]/],
    ['overlapping tensors', edit('model.norm.weight', { data_offsets: [0, 128] }), /data_offsets overlap tensor/],
    ['a gap between tensors', edit(first, { data_offsets: [4, 12292] }), /unindexed bytes before this tensor|overlap/],
    ['an extra tensor', join8({ ...header, 'model.extra.weight': { dtype: 'F32', shape: [0], data_offsets: [data.length, data.length] } }, data), /tensor "model\.extra\.weight" is not part of a Qwen2 model with 2 layers/],
    ['a missing tensor', join8(Object.fromEntries(Object.entries(header).filter(([k]) => k !== 'model.norm.weight')), data), /unindexed bytes|tensor "model\.norm\.weight" \[32\] is missing/],
    ['a transposed weight', edit('lm_head.weight', { shape: [32, 96] }), /tensor "lm_head\.weight" has shape \[32,96\] but config\.json implies \[96,32\]/],
    ['trailing bytes', new Uint8Array([...WEIGHTS, 0, 0, 0, 0]), /4 trailing bytes after the last tensor/],
    ['an empty file', new Uint8Array(0), /file is 0 bytes, too short for a header/],
    ['seven bytes', WEIGHTS.subarray(0, 7), /file is 7 bytes, too short for a header/],
  ] as [string, Uint8Array, RegExp][])('%s', async (_, bytes, message) => {
    expect(await loadError({ 'model.safetensors': bytes })).toMatch(message);
  });

  const rng = new Rng(3);
  const cuts = Array.from({ length: 16 }, () => 8 + rng.int(WEIGHTS.length - 8));
  it.each(cuts)('truncated at byte %i', async (cut) => {
    expect(await loadError({ 'model.safetensors': WEIGHTS.subarray(0, cut) })).toMatch(/mem\/model\.safetensors: .*truncated/);
  });

  it.each([
    ['no weights at all', { 'model.safetensors': undefined }, /mem\/model\.safetensors: not found \(and no model\.safetensors\.index\.json either\)/],
    ['an index that is not JSON', { 'model.safetensors': undefined, 'model.safetensors.index.json': '{' }, /model\.safetensors\.index\.json: not valid JSON/],
    ['an index without weight_map', { 'model.safetensors': undefined, 'model.safetensors.index.json': '{}' }, /"weight_map" must map tensor names to shard file names/],
    ['an index naming a path', { 'model.safetensors': undefined, 'model.safetensors.index.json': '{"weight_map": {"a": "../x"}}' }, /"weight_map" must map tensor names to shard file names/],
    ['an index claiming 10⁹ layers', { 'model.safetensors': undefined, 'model.safetensors.index.json': JSON.stringify({ weight_map: { 'model.layers.999999999.mlp.up_proj.weight': 's.safetensors' } }) }, /holds 1000000000 layers but config\.json says num_hidden_layers=2/],
  ] as [string, Files, RegExp][])('%s', async (_, files, message) => {
    expect(await loadError(files)).toMatch(message);
  });
});

describe('model.safetensors: a NaN or ±Inf anywhere is named with its tensor and element', () => {
  const rng = new Rng(7);
  const poison = (dir: string, dtype: 'F32' | 'BF16' | 'F16', value: 'NaN' | 'Infinity' | '-Infinity') => {
    const bytes = new Uint8Array(read(dir, 'model.safetensors'));
    const { header } = split(bytes);
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    const name = rng.pick(names);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const width = dtype === 'F32' ? 4 : 2;
    const count = (header[name].data_offsets[1] - header[name].data_offsets[0]) / width;
    const index = rng.int(count);
    const at = 8 + n + header[name].data_offsets[0] + index * width;
    const view = new DataView(bytes.buffer);
    const x = Number(value);
    if (dtype === 'F32') view.setFloat32(at, x, true);
    else if (dtype === 'BF16') view.setUint16(at, value === 'NaN' ? 0x7fc0 : x > 0 ? 0x7f80 : 0xff80, true);
    else view.setUint16(at, value === 'NaN' ? 0x7e00 : x > 0 ? 0x7c00 : 0xfc00, true);
    return { bytes, name, index };
  };
  const cases = ([[F32, 'F32'], [BF16, 'BF16'], [F16, 'F16']] as const).flatMap(([dir, dtype]) =>
    (['NaN', 'Infinity', '-Infinity'] as const).flatMap((value) => [0, 1].map((k) => [dtype, value, k, dir] as const)));
  it.each(cases)('%s %s (#%i)', async (dtype, value, _, dir) => {
    const { bytes, name, index } = poison(dir, dtype, value);
    const config = readFileSync(join(dir, 'config.json'), 'utf8');
    expect(await loadError({ 'config.json': config, 'model.safetensors': bytes })).toBe(
      `mem/model.safetensors: tensor "${name}" holds ${value} at element ${index}: the weights are corrupt`,
    );
  });
});

// ---- tokenizer files -----------------------------------------------------------------------------------

const TOKENIZER = JSON.parse(readFileSync(join(TINY, 'tokenizer.json'), 'utf8')) as Record<string, Record<string, unknown>>;
const TOKENIZER_CONFIG = JSON.parse(readFileSync(join(TINY, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;

function tokenizerError(json: unknown, config: Record<string, unknown> = TOKENIZER_CONFIG, generation?: Record<string, unknown>): string {
  try {
    loadTokenizer(json as object, config, generation, 'mem/tokenizer.json');
  } catch (e) {
    expectNoLeak((e as Error).message);
    expect(e).not.toBeInstanceOf(TypeError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('tokenizer.json: each malformed field named', () => {
  const model = TOKENIZER.model;
  const merges = model.merges as unknown[];
  it('the unmutated tokenizer loads', () => expect(loadTokenizer(TOKENIZER, TOKENIZER_CONFIG).vocabSize).toBeGreaterThan(4000));
  it.each([
    ['not an object', [1], 'mem/tokenizer.json: the file is not a JSON object'],
    ['no model', { ...TOKENIZER, model: undefined }, 'mem/tokenizer.json: "model" must be an object'],
    ['model a string', { ...TOKENIZER, model: 'BPE' }, 'mem/tokenizer.json: "model" must be an object'],
    ['a WordPiece model', { ...TOKENIZER, model: { ...model, type: 'WordPiece' } }, 'mem/tokenizer.json: model.type is "WordPiece": only byte-level "BPE" (Qwen2.5\'s) is supported'],
    ['a Unigram model', { ...TOKENIZER, model: { ...model, type: 'Unigram' } }, 'model.type is "Unigram"'],
    ['no model type', { ...TOKENIZER, model: { ...model, type: undefined } }, 'model.type is undefined'],
    ['vocab a list', { ...TOKENIZER, model: { ...model, vocab: ['a'] } }, 'model.vocab must map tokens to ids'],
    ['a negative id', { ...TOKENIZER, model: { ...model, vocab: { ...(model.vocab as object), x: -1 } } }, 'model.vocab["x"] must be a token id (an integer ≥ 0), got -1'],
    ['a string id', { ...TOKENIZER, model: { ...model, vocab: { ...(model.vocab as object), x: '5' } } }, 'model.vocab["x"] must be a token id (an integer ≥ 0), got "5"'],
    ['merges an object', { ...TOKENIZER, model: { ...model, merges: {} } }, 'model.merges must be a list'],
    ['merges missing', { ...TOKENIZER, model: { ...model, merges: undefined } }, 'model.merges must be a list'],
    ['a merge that is a number', { ...TOKENIZER, model: { ...model, merges: [merges[0], 7] } }, 'model.merges[1] must be "a b" or ["a", "b"], got 7'],
    ['a merge of one part', { ...TOKENIZER, model: { ...model, merges: [['a']] } }, 'model.merges[0] must be "a b" or ["a", "b"], got ["a"]'],
    ['a merge without a space', { ...TOKENIZER, model: { ...model, merges: ['ab'] } }, 'model.merges[0] must be "a b" or ["a", "b"], got "ab"'],
    ['a merge of numbers', { ...TOKENIZER, model: { ...model, merges: [[1, 2]] } }, 'model.merges[0] must be "a b" or ["a", "b"], got [1,2]'],
    ['added_tokens an object', { ...TOKENIZER, added_tokens: {} }, 'added_tokens must be a list'],
    ['added_tokens a string', { ...TOKENIZER, added_tokens: '<|im_end|>' }, 'added_tokens must be a list'],
    ['an added token without an id', { ...TOKENIZER, added_tokens: [{ content: 'x' }] }, 'added_tokens[0] must be {"id": integer ≥ 0, "content": string, ...}'],
    ['an added token without content', { ...TOKENIZER, added_tokens: [{ id: 1 }] }, 'added_tokens[0] must be'],
    ['a Whitespace pre-tokenizer', { ...TOKENIZER, pre_tokenizer: { type: 'Whitespace' } }, 'pre_tokenizer has no ByteLevel step: not a byte-level BPE tokenizer'],
    ['no pre-tokenizer', { ...TOKENIZER, pre_tokenizer: null }, 'pre_tokenizer has no ByteLevel step'],
    ['a Sequence without ByteLevel', { ...TOKENIZER, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits' }] } }, 'pre_tokenizer has no ByteLevel step'],
    ['a WordPiece decoder', { ...TOKENIZER, decoder: { type: 'WordPiece' } }, 'decoder has no ByteLevel step'],
    ['without <|im_start|>', { ...TOKENIZER, added_tokens: (TOKENIZER.added_tokens as unknown as { content: string }[]).filter((t) => t.content !== '<|im_start|>') }, 'tokenizer has no "<|im_start|>" token; not a Qwen2.5 tokenizer?'],
    ['without <tool_call>', { ...TOKENIZER, added_tokens: (TOKENIZER.added_tokens as unknown as { content: string }[]).filter((t) => t.content !== '<tool_call>') }, 'tokenizer has no "<tool_call>" token'],
  ] as [string, unknown, string][])('%s', (_, json, message) => {
    expect(tokenizerError(json)).toContain(message);
  });

  it.each([
    ['chat_template a number', { ...TOKENIZER_CONFIG, chat_template: 5 }, 'tokenizer_config.json: chat_template must be a string, got number'],
    ['chat_template a list', { ...TOKENIZER_CONFIG, chat_template: [{ name: 'default', template: 'x' }] }, 'chat_template must be a string, got object'],
    ['an unclosed block', { ...TOKENIZER_CONFIG, chat_template: '{% if messages %}' }, 'tokenizer_config.json: chat_template is not a valid Jinja template (it does not parse)'],
    ['an unclosed expression', { ...TOKENIZER_CONFIG, chat_template: '{{ messages' }, 'chat_template is not a valid Jinja template'],
  ] as [string, Record<string, unknown>, string][])('tokenizer_config.json %s', (_, config, message) => {
    expect(tokenizerError(TOKENIZER, config)).toContain(message);
  });

  it.each([['a string', 'x'], ['an empty list', []], ['a negative id', -1], ['a list with a string', [1, 'x']], ['a fraction', 1.5]])(
    'generation_config.json eos_token_id %s',
    (_, eos) => {
      expect(tokenizerError(TOKENIZER, TOKENIZER_CONFIG, { eos_token_id: eos })).toBe(
        `generation_config.json: eos_token_id must be a token id or a non-empty list of them, got ${JSON.stringify(eos)}`,
      );
    },
  );

  it('a tokenizer with more tokens than the model is refused', async () => {
    const loaded = await loadModel(memory({ 'config.json': JSON.stringify(CONFIG), 'model.safetensors': WEIGHTS, 'tokenizer.json': JSON.stringify(TOKENIZER) }));
    await expect(tokenizerForModel(loaded)).rejects.toThrow(/mem: the tokenizer has \d+ tokens, the model only 96/);
  });

  it.each([['not JSON', '{"model": '], ['a list', '[]']])('tokenizer.json %s', async (_, text) => {
    expect(await loadError({ 'tokenizer.json': text })).toMatch(/mem\/tokenizer\.json: not (valid JSON|a JSON object)/);
  });
});
