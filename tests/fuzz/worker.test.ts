// Fuzz: the Worker's message handlers (src/worker/*: the Playground's loadModel and generate, the Benchmarks'
// runBenchmark) on the real engine, with what the page can send: picked model folders with broken files,
// out-of-range settings, bad benchmark files. Every one is a clear error, and a failed load keeps the model
// that was loaded before.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuRuntime } from '../../src/gpu/runtime.ts';
import { Playground } from '../../src/worker/playground.ts';
import { Benchmarks } from '../../src/worker/benchmark.ts';
import type { BenchArgs, GenerateArgs } from '../../src/worker/protocol.ts';
import { gpu } from '../helpers/gpu.ts';
import { TINY, deepJson, expectNoLeak } from './harness.ts';

/** The tiny model's folder as the files a folder picker gives, some replaced or left out. */
function pickedFolder(replace: Record<string, string | Uint8Array | null> = {}): File[] {
  const names = new Set([...readdirSync(TINY), ...Object.keys(replace)]);
  return [...names].flatMap((name) => {
    const content = name in replace ? replace[name] : readFileSync(join(TINY, name));
    return content === null ? [] : [new File([content as Uint8Array<ArrayBuffer>], name)];
  });
}

const CONFIG = JSON.parse(readFileSync(join(TINY, 'config.json'), 'utf8')) as Record<string, unknown>;
const TOKENIZER = JSON.parse(readFileSync(join(TINY, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
const hooks = { onUnload: () => {} };

let rt: GpuRuntime;
const playground = new Playground();
beforeAll(async () => {
  rt = await gpu();
});

async function failure(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (e) {
    expect(e).not.toBeInstanceOf(TypeError);
    expect(e).not.toBeInstanceOf(RangeError);
    expectNoLeak((e as Error).message);
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('worker: calls that need a model, before one is loaded', () => {
  it('generate', async () => {
    const args: GenerateArgs = { question: 'q', tools: [], n: 1, maxNewTokens: 1, sampling: { temperature: 0, topP: 1, topK: 0, seed: 0 } };
    expect(await failure(() => playground.generate(rt, args, { onStart() {}, onStep() {} }))).toBe('no model loaded: load one in the Playground first');
  });
});

describe('worker loadModel: a picked folder with broken files is refused; the loaded model stays', () => {
  it('loads the good folder first', async () => {
    const info = await playground.load(rt, { kind: 'files', files: pickedFolder() }, hooks);
    expect(info.vocab).toBe(CONFIG.vocab_size);
  });
  it.each([
    ['no config.json', { 'config.json': null }, 'picked files/config.json: not found'],
    ['config.json not JSON', { 'config.json': '{' }, 'picked files/config.json: not valid JSON'],
    ['10⁹ layers', { 'config.json': JSON.stringify({ ...CONFIG, num_hidden_layers: 1e9 }) }, 'holds 2 layers but config.json says num_hidden_layers=1000000000'],
    ['max_position_embeddings 1', { 'config.json': JSON.stringify({ ...CONFIG, max_position_embeddings: 1 }) }, 'max_position_embeddings 1 is outside 2..16777216'],
    ['a llama config', { 'config.json': JSON.stringify({ ...CONFIG, model_type: 'llama' }) }, 'model_type "llama" is not supported'],
    ['no weights', { 'model.safetensors': null }, 'picked files/model.safetensors: not found'],
    ['truncated weights', { 'model.safetensors': new Uint8Array(readFileSync(join(TINY, 'model.safetensors'))).subarray(0, 5000) }, /truncated/],
    ['weights that are text', { 'model.safetensors': 'hello world, not weights' }, /header length \d+ is not sane/],
    ['tokenizer.json not JSON', { 'tokenizer.json': '[' }, 'picked files/tokenizer.json: not valid JSON'],
    ['a WordPiece tokenizer', { 'tokenizer.json': JSON.stringify({ ...TOKENIZER, model: { ...(TOKENIZER.model as object), type: 'WordPiece' } }) }, 'model.type is "WordPiece"'],
    ['merges not strings', { 'tokenizer.json': JSON.stringify({ ...TOKENIZER, model: { ...(TOKENIZER.model as object), merges: [1, 2] } }) }, 'model.merges[0] must be "a b" or ["a", "b"], got 1'],
    ['added_tokens not a list', { 'tokenizer.json': JSON.stringify({ ...TOKENIZER, added_tokens: {} }) }, 'added_tokens must be a list'],
    ['tokenizer.json nested 100 000 deep', { 'tokenizer.json': `{"a": ${deepJson(100_000)}}` }, '"model" must be an object'],
    ['a broken chat template', { 'tokenizer_config.json': JSON.stringify({ chat_template: '{% for %}' }) }, 'chat_template is not a valid Jinja template'],
    ['eos_token_id a string', { 'generation_config.json': JSON.stringify({ eos_token_id: 'eos' }) }, 'generation_config.json: eos_token_id must be a token id'],
  ] as [string, Record<string, string | Uint8Array | null>, string | RegExp][])('%s', async (_, replace, message) => {
    const error = await failure(() => playground.load(rt, { kind: 'files', files: pickedFolder(replace) }, hooks));
    if (typeof message === 'string') expect(error).toContain(message);
    else expect(error).toMatch(message);
    expect(playground.loaded(rt).files.config.vocabSize).toBe(CONFIG.vocab_size); // the model loaded before is still there
  });
  it.each([['not a repo id', 'not a repo'], ['a path', '../etc/passwd']])('a Hub id that is %s', async (_, repo) => {
    expect(await failure(() => playground.load(rt, { kind: 'hub', repo }, hooks))).toBe(`"${repo}" is not a Hub repo id like "Qwen/Qwen2.5-0.5B-Instruct"`);
  });
});

describe('worker generate: settings out of range are refused before decoding', () => {
  const base: GenerateArgs = { question: 'q', tools: [], n: 1, maxNewTokens: 2, sampling: { temperature: 0.7, topP: 1, topK: 0, seed: 0 } };
  const run = (args: Partial<GenerateArgs> & { sampling?: Partial<GenerateArgs['sampling']> }) =>
    failure(() => playground.generate(rt, { ...base, ...args, sampling: { ...base.sampling, ...args.sampling } }, { onStart() {}, onStep() {} }));
  it.each([
    [{ n: 0 }, 'n must be a whole number ≥ 1, got 0'],
    [{ n: 1.5 }, 'n must be a whole number ≥ 1, got 1.5'],
    [{ n: NaN }, 'n must be a whole number ≥ 1, got NaN'],
    [{ maxNewTokens: 0 }, 'maxNewTokens must be a whole number ≥ 1, got 0'],
    [{ maxNewTokens: -5 }, 'maxNewTokens must be a whole number ≥ 1, got -5'],
    [{ maxNewTokens: 1e9 }, /prompt: \d+ ids \+ 1000000000 new tokens exceed the model's \d+ positions/],
    [{ sampling: { topP: 0 } }, 'topP must be in (0, 1] (1 = off), got 0'],
    [{ sampling: { topP: 1.5 } }, 'topP must be in (0, 1] (1 = off), got 1.5'],
    [{ sampling: { topK: -1 } }, 'topK must be a whole number ≥ 0 (0 = off), got -1'],
    [{ sampling: { topK: 2.5 } }, 'topK must be a whole number ≥ 0 (0 = off), got 2.5'],
    [{ sampling: { temperature: -1 } }, 'temperature must be a finite number ≥ 0 (0 = greedy), got -1'],
    [{ sampling: { temperature: Infinity } }, 'temperature must be a finite number ≥ 0 (0 = greedy), got Infinity'],
    [{ sampling: { seed: -1 } }, 'seed must be a whole number in [0, 2^32), got -1'],
    [{ sampling: { seed: 2 ** 32 } }, 'seed must be a whole number in [0, 2^32), got 4294967296'],
    [{ tools: ['rm_rf'] }, 'unknown tool "rm_rf" (not in the example set)'],
  ] as [Partial<GenerateArgs>, string | RegExp][])('%j', async (args, message) => {
    const error = await run(args);
    if (typeof message === 'string') expect(error).toBe(message);
    else expect(error).toMatch(message);
  });
});

describe('worker runBenchmark: settings and files checked before decoding', () => {
  const benchmarks = new Benchmarks();
  const synthetic: BenchArgs = { source: { bench: 'synthetic', level: 'tiny', seed: 0, count: 2 }, limit: 0, maxNewTokens: 2, batchSize: 2, model: 'loaded' };
  const run = (args: BenchArgs) => failure(() => benchmarks.run(playground.decoder(rt), args, { onStart() {}, onProgress() {} }));
  const file = (path: string, text: string) => ({ path, file: new File([text], path.split('/').pop()!) });
  it.each([
    [{ ...synthetic, limit: -1 }, 'limit must be a whole number in 0..'],
    [{ ...synthetic, maxNewTokens: 0 }, 'maxNewTokens must be a whole number in 1..'],
    [{ ...synthetic, batchSize: 0.5 }, 'batchSize must be a whole number in 1..'],
    [{ ...synthetic, source: { bench: 'synthetic', level: 'huge', seed: 0, count: 2 } }, 'unknown synthetic level "huge" (known: tiny, small, medium, hard)'],
    [{ ...synthetic, source: { bench: 'synthetic', level: 'tiny', seed: 0, count: 1e9 } }, 'count must be a whole number in 1..100000, got 1000000000'],
    [{ ...synthetic, source: { bench: 'synthetic', level: 'tiny', seed: -1, count: 2 } }, 'seed must be a whole number in 0..'],
    [{ ...synthetic, source: { bench: 'bfcl', files: [] } }, 'no BFCL_v3_<category>.json files found'],
    [{ ...synthetic, source: { bench: 'bfcl', files: [file('bfcl/BFCL_v3_simple.json', '{}')] } }, 'possible_answer/BFCL_v3_simple.json not found'],
    [{ ...synthetic, source: { bench: 'apibank', files: [file('x/notes.txt', 'x')] } }, 'pick level-1-api.json and/or level-2-api.json (API-Bank test-data)'],
    [{ ...synthetic, source: { bench: 'bfcl', url: 'http://127.0.0.1:9/' } }, 'GET http://127.0.0.1:9/BFCL_v3_simple.json: network error'],
  ] as [BenchArgs, string][])('%j', async (args, message) => {
    expect(await run(args)).toContain(message);
  });
});
