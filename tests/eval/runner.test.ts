// The evaluation runner on real WebGPU with the embedded tiny model (its 2-token completions here hold no call, so
// the judges are checked on hand-written perfect completions), and the benchmark adapters on small files in
// BFCL's and the project's own formats. Prompts use a one-letter template and completions 2 tokens:
// SwiftShader prefills a few hundred tokens a second at best.
import { beforeAll, describe, expect, it } from 'vitest';
import { gpu } from '../helpers/gpu.ts';
import type { GpuRuntime } from '../../src/gpu/runtime.ts';
import { embeddedDirSource } from '../../src/model/source-node.ts';
import { loadModel, type LoadedModel } from '../../src/model/source.ts';
import { loadTokenizer, type QwenTokenizer } from '../../src/model/tokenizer.ts';
import { instantiateModel } from '../../src/model/instantiate.ts';
import { Generator } from '../../src/model/generate.ts';
import { parseInstances } from '../../src/data/instance.ts';
import { PROMPT_TOO_LONG, runEvaluation, type EvalItem, type EvalProgress } from '../../src/eval/runner.ts';
import { aggregateBench, instanceSuite, limitPerCategory, loadBfclSuite, type FileReader } from '../../src/eval/suites.ts';
import { toolCallBlock, type TemplateOptions } from '../../src/toolcall/template.ts';

const SHORT: TemplateOptions = { preamble: 'P', toolsIntro: 'T', instructions: 'I', exampleReply: 'E' };

const jsonl = (records: object[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
const DOC = { name: 'area', description: 'Area.', parameters: { type: 'dict', properties: { base: { type: 'integer' } }, required: ['base'] } };
const question = (id: string, text: string) => ({ id, question: [[{ role: 'user', content: text }]], function: [DOC] });
const BFCL_FILES: Record<string, string> = {
  'BFCL_v3_simple.json': jsonl([question('simple_0', 'area 10'), question('simple_1', 'area 3')]),
  'possible_answer/BFCL_v3_simple.json': jsonl([{ id: 'simple_0', ground_truth: [{ area: { base: [10] } }] }]), // simple_1 has none
  'BFCL_v3_irrelevance.json': jsonl([question('irrelevance_0', 'hello')]),
};
const files = (map: Record<string, string>): FileReader => async (file) => map[file] ?? null;

const TOOL = { name: 'ping', parameters: { type: 'dict', properties: { h: { type: 'string' } }, required: ['h'] } };
const INSTANCES = parseInstances(jsonl([
  { id: 'one', query: 'ping x', tools: [TOOL], answers: [{ name: 'ping', arguments: { h: 'x' } }] },
  { id: 'none', query: 'hi', tools: [TOOL], answers: [] },
  { id: 'two', query: 'ping x and y', tools: [TOOL], answers: [{ name: 'ping', arguments: { h: 'x' } }, { name: 'ping', arguments: { h: 'y' } }] },
])).records;

let rt: GpuRuntime;
let loaded: LoadedModel;
let tokenizer: QwenTokenizer;

beforeAll(async () => {
  rt = await gpu();
  loaded = await loadModel(embeddedDirSource());
  tokenizer = loadTokenizer(loaded.tokenizerJson!, loaded.tokenizerConfig, loaded.generationConfig);
});

const judge = (items: EvalItem[], id: string, completion: string) => items.find((i) => i.id === id)!.judge(completion);

describe('benchmark adapters', () => {
  it('BFCL: categories from the file names, answers from possible_answer/, relevance without answers', async () => {
    const suite = await loadBfclSuite(files(BFCL_FILES));
    expect(suite.items.map((i) => [i.id, i.category])).toEqual([['simple_0', 'simple'], ['simple_1', 'simple'], ['irrelevance_0', 'irrelevance']]);
    expect(suite.items[0].conversation!.turns).toEqual([{ role: 'user', content: 'area 10' }]);
    const call = (base: string) => `<tool_call>[{"name": "area", "arguments": {"base": ${base}}}]</tool_call>`;
    expect(judge(suite.items, 'simple_0', call('10'))).toEqual({ correct: true, error: null });
    expect(judge(suite.items, 'simple_0', call('11'))).toEqual({ correct: false, error: 'value_error:others' });
    expect(judge(suite.items, 'simple_1', call('3'))).toEqual({ correct: false, error: 'missing_possible_answer' });
    expect(judge(suite.items, 'irrelevance_0', '<tool_call>[]</tool_call>').correct).toBe(true);
    expect(judge(suite.items, 'irrelevance_0', call('1'))).toEqual({ correct: false, error: 'irrelevance_error:decoder_success' });

    expect((await loadBfclSuite(files(BFCL_FILES), ['irrelevance'])).items).toHaveLength(1);
    await expect(loadBfclSuite(files(BFCL_FILES), ['parallel'])).rejects.toThrow('BFCL_v3_parallel.json not found');
    await expect(loadBfclSuite(files(BFCL_FILES), ['java'])).rejects.toThrow('unknown BFCL category "java"');
    const noAnswers = { ...BFCL_FILES, 'possible_answer/BFCL_v3_simple.json': undefined } as unknown as Record<string, string>;
    await expect(loadBfclSuite(files(noAnswers))).rejects.toThrow('possible_answer/BFCL_v3_simple.json not found');
  });

  it('instances: the binary reward decides, exact match of the calls is reported beside it', () => {
    const { items } = instanceSuite(INSTANCES);
    expect(items.map((i) => i.category)).toEqual(['single', 'no_call', 'parallel']);
    const perfect = `<think> two pings </think>\n${toolCallBlock(INSTANCES[2].answers)}<|im_end|>`;
    expect(judge(items, 'two', perfect)).toMatchObject({ correct: true, error: null, signals: { exactMatch: true, thinkTags: true } });
    expect(judge(items, 'two', toolCallBlock(INSTANCES[2].answers))).toMatchObject({ correct: false, error: 'missing_think_tags', signals: { exactMatch: true } });
    expect(judge(items, 'none', '<think></think><tool_call>[]</tool_call>').correct).toBe(true);
    expect(judge(items, 'one', '<think></think><tool_call>[{"name": "ping", "arguments": {"h": "y"}}]</tool_call>').error).toBe('wrong_arguments');
    expect(limitPerCategory([...items, ...items], 1).map((i) => i.id)).toEqual(['one', 'none', 'two']);
  });
});

describe('runEvaluation', () => {
  it('decodes batches greedily, judges every entry, summarises per category, and stops when aborted', async () => {
    const model = instantiateModel(rt, loaded, { maxPositions: 256 });
    const generator = new Generator(model);
    const items = [...(await loadBfclSuite(files(BFCL_FILES))).items, ...instanceSuite(INSTANCES).items];
    const opts = { template: SHORT, maxNewTokens: 2 };

    const abort = new AbortController();
    const partial = await runEvaluation(generator, tokenizer, items, { ...opts, batchSize: 2, signal: abort.signal, onProgress: () => abort.abort() });
    expect(partial.stopped).toBe(true);
    expect(partial.entries.map((e) => e.id)).toEqual(['simple_0', 'simple_1']);

    const reports: EvalProgress[] = [];
    const decoded: string[] = [];
    const run = await runEvaluation(generator, tokenizer, items, { ...opts, batchSize: 8, onProgress: (p) => reports.push(p), onDecode: (k, n) => decoded.push(`${k}/${n}`) });
    expect(run.stopped).toBe(false);
    expect(decoded[0]).toBe('1/2'); // the batch's decode steps as they finish
    expect(decoded.length).toBeLessThanOrEqual(2);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ done: 6, total: 6 });
    expect(run.entries.map((e) => [e.id, e.category])).toEqual(items.map((i) => [i.id, i.category]));
    for (const e of run.entries) {
      expect(e.completionTokens).toBeGreaterThan(0);
      expect(e.completionTokens).toBeLessThanOrEqual(2);
      expect(e.promptTokens).toBeGreaterThan(20);
      const verdict = judge(items, e.id, e.completion);
      expect([e.correct, e.error]).toEqual([verdict.correct, verdict.error ?? null]);
    }
    // Greedy decoding does not depend on which prompts share a batch.
    expect(run.entries.slice(0, 2).map((e) => e.completion)).toEqual(partial.entries.map((e) => e.completion));
    expect(run.categories.map((c) => [c.category, c.total])).toEqual([['simple', 2], ['irrelevance', 1], ['single', 1], ['no_call', 1], ['parallel', 1]]);
    expect(run.categories[0].correct).toBe(0); // simple_1 has no possible answer; a 2-token completion holds no call
    expect(run.categories.find((c) => c.category === 'single')!.rates).toMatchObject({ exactMatch: 0, thinkTags: 0 });
    expect(run.completionTokens).toBe(run.entries.reduce((n, e) => n + e.completionTokens, 0));
    generator.release();
    model.release();
  });

  it('counts prompts that do not fit the model as skipped and wrong, without decoding them', async () => {
    const model = instantiateModel(rt, loaded, { maxPositions: 40 });
    const generator = new Generator(model);
    const { items } = instanceSuite(INSTANCES);
    const run = await runEvaluation(generator, tokenizer, items, { template: SHORT, maxNewTokens: 8 });
    expect(run.entries.map((e) => [e.correct, e.error, e.completion])).toEqual(items.map(() => [false, PROMPT_TOO_LONG, '']));
    expect(run.categories.map((c) => c.skipped)).toEqual([1, 1, 1]);
    expect(aggregateBench('synthetic', run.categories)).toEqual({ meanReward: 0, exactMatch: 0 });
    generator.release();
    model.release();
  });

  it('aggregates BFCL as the paper and BFCL do, API-Bank by level', () => {
    const cat = (category: string, correct: number, total: number) => ({ category, accuracy: correct / total, correct, total, skipped: 0 });
    const bfcl = aggregateBench('bfcl', [cat('simple', 1, 2), cat('multiple', 1, 1), cat('parallel', 0, 1), cat('parallel_multiple', 1, 1), cat('irrelevance', 1, 1)]);
    expect(bfcl).toMatchObject({ paper: { nonLive: 0.625, live: null, overall: null }, bfcl: { nonLiveOverall: 0.7 } });
    expect(aggregateBench('apibank', [cat('level-1', 3, 4)])).toEqual({ level1: 0.75, level2: null });
  });
});
