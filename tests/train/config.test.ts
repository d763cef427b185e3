// The one training config (src/train/config.ts): values that would run for minutes or train on nonsense are
// clear errors naming the key, before any GPU work (no runtime is created in this file).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchFiles } from '../../src/cli/commands/eval.ts';
import { embeddedDirSource } from '../../src/model/source-node.ts';
import { loadModel } from '../../src/model/source.ts';
import { tokenizerForModel } from '../../src/model/tokenizer.ts';
import { parseTrainConfigText, resolveTrainConfig } from '../../src/train/config.ts';
import { prepareRun } from '../../src/train/run.ts';

const base = { model: 'embedded', data: { synthetic: { level: 'tiny', train: 4, heldout: 2 } } };
const grpo = (g: Record<string, unknown>) => () => resolveTrainConfig({ ...base, grpo: g });

describe('training config validation', () => {
  it.each([
    [{ temperature: 0 }, 'grpo.temperature must be a finite number > 0, got 0'],
    [{ temperature: -0.5 }, 'grpo.temperature must be a finite number > 0, got -0.5'],
    [{ temperature: Infinity }, 'grpo.temperature must be a finite number > 0, got Infinity'],
    [{ maxGradNorm: 0 }, 'grpo.maxGradNorm must be a finite number > 0'],
    [{ maxGradNorm: -1 }, 'grpo.maxGradNorm must be a finite number > 0'],
    [{ schedule: { kind: 'constant', lr: 0 } }, 'grpo.schedule.lr must be a finite number > 0'],
    [{ schedule: { kind: 'constant', lr: -1e-3 } }, 'grpo.schedule.lr must be a finite number > 0'],
    [{ schedule: { kind: 'cosine', lr: 1e-3, totalSteps: 10, warmupSteps: 10 } }, 'grpo.schedule.totalSteps must exceed warmupSteps (10)'],
    [{ checkpointEvery: -1 }, 'grpo.checkpointEvery must be a whole number ≥ 0, got -1'],
    [{ checkpointEvery: 1.5 }, 'grpo.checkpointEvery must be a whole number ≥ 0, got 1.5'],
    [{ evalEvery: -2 }, 'grpo.evalEvery must be a whole number ≥ 0, got -2'],
    [{ evalEvery: 0.5 }, 'grpo.evalEvery must be a whole number ≥ 0, got 0.5'],
    [{ evalSize: -1 }, 'grpo.evalSize must be a whole number ≥ 0, got -1'],
    [{ evalSize: 2.5 }, 'grpo.evalSize must be a whole number ≥ 0, got 2.5'],
    [{ steps: 0 }, 'grpo.steps must be a whole number ≥ 1, got 0'],
    [{ steps: -3 }, 'grpo.steps must be a whole number ≥ 1, got -3'],
    [{ steps: 2.5 }, 'grpo.steps must be a whole number ≥ 1, got 2.5'],
    [{ topP: 0 }, 'grpo.topP must be in (0, 1], got 0'],
    [{ beta1: 1 }, 'grpo.beta1 must be in [0, 1), got 1'],
    [{ objective: { beta: -0.1 } }, 'grpo.objective.beta must be a finite number ≥ 0'],
    [{ miniBatches: 0 }, 'grpo.miniBatches must be a whole number ≥ 1, got 0'],
    [{ promptsPerStep: 2, miniBatches: 3 }, 'grpo.miniBatches (3) must not exceed grpo.promptsPerStep (2): a mini-batch holds whole groups'],
  ])('grpo %j', (g, message) => {
    expect(grpo(g)).toThrow(message);
  });

  it('reads 1e999 from a file as the infinity it is, and refuses it', () => {
    expect(() => parseTrainConfigText('{"model": "embedded", "data": {"synthetic": {"level": "tiny"}}, "grpo": {"temperature": 1e999}}', 'c.json', (p) => p)).toThrow(
      'c.json: grpo.temperature must be a finite number > 0',
    );
  });

  it('a resolved config resolves to itself (the studio form holds one)', () => {
    const c = resolveTrainConfig({ ...base, mode: 'lora', grpo: { steps: 3, objective: { beta: 0 } } });
    expect(resolveTrainConfig(JSON.parse(JSON.stringify(c)))).toEqual(JSON.parse(JSON.stringify(c)));
  });

  it('a LoRA rank above a layer’s width is refused before the GPU is touched', async () => {
    const loaded = await loadModel(embeddedDirSource());
    const model = { source: embeddedDirSource(), loaded, tokenizer: await tokenizerForModel(loaded) };
    const width = loaded.config.numKvHeads * loaded.config.headDim;
    const config = resolveTrainConfig({ ...base, mode: 'lora', lora: { rank: width + 1, targets: ['k'] } });
    await expect(prepareRun(config, model, async () => '')).rejects.toThrow(`lora.rank ${width + 1} is above what the k projection (${loaded.config.hiddenSize} × ${width}) can hold: at most ${width}`);
    const fits = resolveTrainConfig({ ...base, mode: 'lora', lora: { rank: width, targets: ['k'] } });
    expect((await prepareRun(fits, model, async () => '')).task.train.length).toBe(4);
  });
});

describe('SFT data that cannot teach is refused before the GPU, naming the file and line', () => {
  const model = async () => {
    const loaded = await loadModel(embeddedDirSource());
    return { source: embeddedDirSource(), loaded, tokenizer: await tokenizerForModel(loaded) };
  };
  const record = (extra: Record<string, unknown>) => JSON.stringify({ query: 'p', tools: [{ name: 'p' }], answers: [{ name: 'p', arguments: {} }], ...extra });
  const good = '<think></think>\n<tool_call>\n[{"name": "p", "arguments": {}}]\n</tool_call>';
  const sft = (reasoning: string) => resolveTrainConfig({ method: 'sft', model: 'embedded', data: { train: 'data.jsonl', heldoutFraction: 0 }, sft: { reasoning } });

  it('a record without a completion', async () => {
    const text = [record({ completion: good }), record({})].join('\n');
    await expect(prepareRun(sft('none'), await model(), async () => text)).rejects.toThrow('data.jsonl:2: an SFT record needs a "completion"');
  });

  it('a completion that is not a thinking-template answer for the reasoning mode', async () => {
    const text = [record({ completion: good }), record({ completion: '<think>I call p.</think>\n<tool_call>\n[{"name": "p", "arguments": {}}]\n</tool_call>' })].join('\n');
    await expect(prepareRun(sft('none'), await model(), async () => text)).rejects.toThrow(
      'data.jsonl:2: the completion is not a valid SFT target for sft.reasoning "none": reasoning "none" needs an empty think part',
    );
    await expect(prepareRun(sft('templated'), await model(), async () => record({ completion: 'just text' }))).rejects.toThrow('data.jsonl:1: the completion is not a valid SFT target');
  });

  it('targets rendered for xLAM records, from their reasoning field when they carry one', async () => {
    const xlam = JSON.stringify({ query: 'p', tools: JSON.stringify([{ name: 'p' }]), answers: JSON.stringify([{ name: 'p', arguments: {} }]), reasoning: 'The user wants p.' });
    const config = resolveTrainConfig({ method: 'sft', model: 'embedded', data: { train: 'x.jsonl', format: 'xlam', heldoutFraction: 0 } });
    const m = await model();
    const run = await prepareRun(config, m, async () => xlam);
    expect(m.tokenizer.decode(run.sftTrain![0].targetIds)).toBe('<think> The user wants p. </think>\n<tool_call>[{"name": "p", "arguments": {}}]</tool_call><|im_end|>');
  });

  it('sft settings are checked like grpo’s', () => {
    expect(() => resolveTrainConfig({ ...base, method: 'sft', sft: { reasoning: 'some' } })).toThrow('sft.reasoning must be one of templated, none, got "some"');
    expect(() => resolveTrainConfig({ ...base, method: 'sft', sft: { batchSize: 0 } })).toThrow('sft.batchSize must be a whole number ≥ 1, got 0');
    expect(() => resolveTrainConfig({ ...base, method: 'sft', sft: { schedule: { kind: 'constant', lr: -1 } } })).toThrow('sft.schedule.lr must be a finite number > 0');
    expect(() => resolveTrainConfig({ ...base, method: 'dpo' })).toThrow('method must be one of grpo, sft, got "dpo"');
  });
});

describe('benchmark accuracy during training: the config’s `benchmark`', () => {
  const bench = (b: Record<string, unknown>) => resolveTrainConfig({ ...base, benchmark: b }, (p) => `/cfg/${p}`);

  it('defaults, names and paths: a folder is relative to the config, a URL and LEVEL:SEED are names', () => {
    expect(bench({ bench: 'synthetic', data: 'tiny:0' }).benchmark).toEqual({ bench: 'synthetic', data: 'tiny:0', categories: null, limit: 16, every: 10, maxNewTokens: 256 });
    expect(bench({ bench: 'bfcl', data: 'bfcl', categories: ['simple'], every: 5 }).benchmark).toMatchObject({ data: '/cfg/bfcl', categories: ['simple'], every: 5 });
    expect(bench({ bench: 'apibank', data: 'https://x.org/test-data/' }).benchmark!.data).toBe('https://x.org/test-data/');
    expect(resolveTrainConfig(base).benchmark).toBeNull();
  });

  it.each([
    [{ bench: 'mmlu', data: 'x' }, 'benchmark.bench must be one of bfcl, apibank, synthetic, got "mmlu"'],
    [{ bench: 'bfcl' }, 'benchmark.data (a folder or URL) must be a non-empty string'],
    [{ bench: 'synthetic', data: 'tiny:0', every: 0 }, 'benchmark.every must be a whole number ≥ 1, got 0'],
    [{ bench: 'synthetic', data: 'tiny:0', limit: 2.5 }, 'benchmark.limit must be a whole number ≥ 1, got 2.5'],
    [{ bench: 'synthetic', data: 'tiny:0', categories: [] }, 'benchmark.categories must be a non-empty list of names, or null for all'],
    [{ bench: 'synthetic', data: 'tiny:0', evry: 3 }, 'benchmark.evry is not a setting'],
  ])('%j is refused', (b, message) => {
    expect(() => bench(b)).toThrow(message);
  });

  it('prepareRun reads the subset as eval does: the first `limit` of each category, prompts given room', async () => {
    const loaded = await loadModel(embeddedDirSource());
    const model = { source: embeddedDirSource(), loaded, tokenizer: await tokenizerForModel(loaded) };
    // Two BFCL categories written here, three questions in one.
    const tool = { name: 'area', description: 'Area.', parameters: { type: 'dict', properties: { b: { type: 'integer' } }, required: ['b'] } };
    const q = (id: string) => JSON.stringify({ id, question: [[{ role: 'user', content: `area ${id}` }]], function: [tool] });
    const files: Record<string, string> = {
      'BFCL_v3_simple.json': ['simple_0', 'simple_1', 'simple_2'].map(q).join('\n'),
      'possible_answer/BFCL_v3_simple.json': ['simple_0', 'simple_1', 'simple_2'].map((id) => JSON.stringify({ id, ground_truth: [{ area: { b: [1] } }] })).join('\n'),
      'BFCL_v3_irrelevance.json': q('irrelevance_0'),
    };
    const read = () => async (f: string) => files[f] ?? null;
    const config = resolveTrainConfig({ ...base, benchmark: { bench: 'bfcl', data: 'd', categories: ['simple', 'irrelevance'], limit: 2, maxNewTokens: 300 } });
    const run = await prepareRun(config, model, async () => '', read);
    expect(run.benchItems!.map((i) => i.id)).toEqual(['simple_0', 'simple_1', 'irrelevance_0']);
    expect(run.benchItems![0].expected).toBe('[{"area": {"b": [1]}}]');
    expect(run.maxPositions).toBeGreaterThan(300);
    expect(run.notes.at(-1)!.message).toBe('benchmark every 10 steps: 3 bfcl entries (simple, irrelevance), greedy, ≤ 300 new tokens');
    const missing = resolveTrainConfig({ ...base, benchmark: { bench: 'bfcl', data: 'd', categories: ['multiple'] } });
    await expect(prepareRun(missing, model, async () => '', read)).rejects.toThrow('benchmark: BFCL_v3_multiple.json not found');
    // In the browser, without picked files, only a URL can be read.
    await expect(prepareRun(missing, model, async () => '')).rejects.toThrow('benchmark.data d: only a base URL can be read here');

    // The CLI reads a folder, relative to the config file, as eval --data does.
    const root = mkdtempSync(join(tmpdir(), 'tooln1-bench-'));
    mkdirSync(join(root, 'bfcl', 'possible_answer'), { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(root, 'bfcl', name), text);
    const fromFile = parseTrainConfigText(
      JSON.stringify({ ...base, benchmark: { bench: 'bfcl', data: 'bfcl', categories: ['simple'], limit: 1 } }), 'c.json', (p) => resolve(root, p),
    );
    expect((await prepareRun(fromFile, model, async () => '', benchFiles('benchmark.data'))).benchItems!.map((i) => i.id)).toEqual(['simple_0']);
    const gone = resolveTrainConfig({ ...base, benchmark: { bench: 'bfcl', data: join(root, 'nothing') } });
    await expect(prepareRun(gone, model, async () => '', benchFiles('benchmark.data'))).rejects.toThrow(`benchmark: benchmark.data ${join(root, 'nothing')} is not a directory`);
  });
});
