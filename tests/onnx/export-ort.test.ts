// The ONNX export run by onnxruntime-web against our engine and the PyTorch fixtures: prefill and cached
// decode logits, greedy tokens, f16 and external data, and the errors for graphs and exports that cannot work.
// The WASM EP does most checks (fast); one small check runs the WebGPU EP on the engine's Dawn device.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { gpu } from '../helpers/gpu.ts';
import { dirSource } from '../../src/model/source-node.ts';
import { loadModel, type LoadedModel } from '../../src/model/source.ts';
import { instantiateModel } from '../../src/model/instantiate.ts';
import { Generator } from '../../src/model/generate.ts';
import { exportOnnxFolder, exportOnnxGraph, OnnxExportError } from '../../src/onnx/export.ts';
import { OrtCausalLm, OrtModelError, ortCapabilityProblem, type OrtBackend } from '../../src/onnx/ort-model.ts';
import { loadOnnxFolder } from '../../src/onnx/onnx-source.ts';
import { OrtGenerator } from '../../src/onnx/ort-generator.ts';
import { GraphBuilder } from '../../src/onnx/graph-builder.ts';
import { setUpOrtForNode } from '../../src/onnx/ort-node.ts';
import { exportOnnx } from '../../src/cli/commands/export-onnx.ts';
import onnxProto from 'onnx-proto';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'models');
const names = readdirSync(FIXTURES).sort();
const GREEDY = { temperature: 0, topK: 0, topP: 1, seed: 0 };

/** max |a − b| relative to the largest |b| */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return worst / scale;
}

/** Logits at every position of `ids`: a prefill of the first `prefill` tokens, then one cached step per token. */
async function ortLogits(lm: OrtCausalLm, ids: number[], prefill: number): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  let out = await lm.forward(lm.emptyState(1), ids.slice(0, prefill), Array(prefill).fill(1), 0);
  parts.push(out.logits);
  for (const id of ids.slice(prefill)) {
    out = await lm.forward(out.state, [id], [1], 1);
    parts.push(out.logits);
  }
  lm.releaseState(out.state);
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
  return all;
}

const session = (loaded: LoadedModel, backend: OrtBackend, opts: Parameters<typeof exportOnnxGraph>[1] = { dtype: 'f32' }) => {
  const { onnx, externalData } = exportOnnxGraph(loaded, opts);
  const data = externalData && { path: 'model.onnx_data', data: concat(externalData) };
  return OrtCausalLm.create(onnx, { backend, where: `${loaded.source} (export)`, externalData: data ? [data] : undefined });
};

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, c) => (out.set(c, at), at + c.length), 0);
  return out;
}

beforeAll(() => setUpOrtForNode(1));

describe('ONNX export on onnxruntime-web (WASM EP)', () => {
  for (const name of names) {
    it(`${name}: prefill and cached decode match the engine and PyTorch within 1e-4${name === names[0] ? '; greedy tokens equal' : ''}`, async () => {
      const rt = await gpu();
      const expected = JSON.parse(readFileSync(join(FIXTURES, name, 'expected.json'), 'utf8')) as { ids: number[]; logits: number[][] };
      const loaded = await loadModel(dirSource(join(FIXTURES, name)));
      const model = instantiateModel(rt, loaded, { maxPositions: 64, matrixDtype: 'f32' });
      const gen = new Generator(model);
      const ours = await gen.allLogits(expected.ids);
      const lm = await session(loaded, 'wasm');
      const theirs = await ortLogits(lm, expected.ids, 4);
      expect(relError(theirs, ours)).toBeLessThan(1e-4);
      expect(relError(theirs, expected.logits.flat())).toBeLessThan(1e-4);

      if (name === names[0]) await expectSameGreedy(gen, lm, loaded.config.vocabSize, expected.ids.length);
      await lm.release();
      gen.release();
      model.release();
    }, 300_000); // the first test compiles the engine's pipelines (slow on SwiftShader)
  }

  /**
   * ORT's greedy batch (left-padded prompts of different lengths) against the engine's argmax at each
   * position, checked on sequences as long as the fixture's (the engine's kernels for that length are compiled).
   */
  async function expectSameGreedy(gen: Generator, lm: OrtCausalLm, vocab: number, length: number): Promise<void> {
    const prompts = [[3, 1, 4, 1, 5], [9, 2, 6]];
    const got = await new OrtGenerator(lm, vocab, 64).generateBatch(prompts, { n: 1, maxNewTokens: length - 3, eosIds: [], sampling: GREEDY });
    for (const [s, prompt] of prompts.entries()) {
      const tokens = got.tokens[s].slice(0, length - prompt.length);
      const logits = await gen.allLogits([...prompt, ...tokens]);
      const argmax = tokens.map((_, t) => {
        const row = logits.subarray((prompt.length - 1 + t) * vocab, (prompt.length + t) * vocab);
        return row.indexOf(Math.max(...row));
      });
      expect(tokens).toEqual(argmax);
    }
  }

  it('f16 export (model_fp16.onnx, float16 KV cache) stays within 1e-2; external data gives the same logits', async () => {
    const expected = JSON.parse(readFileSync(join(FIXTURES, names[0], 'expected.json'), 'utf8')) as { ids: number[]; logits: number[][] };
    const loaded = await loadModel(dirSource(join(FIXTURES, names[0])));
    const half = await session(loaded, 'wasm', { dtype: 'f16' });
    expect(half.signature.kvType).toBe('float16');
    expect(relError(await ortLogits(half, expected.ids, 3), expected.logits.flat())).toBeLessThan(1e-2);
    await half.release();

    const files = exportOnnxFolder(loaded, { dtype: 'f32', externalData: 'always' });
    expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['onnx/model.onnx', 'onnx/model.onnx_data', 'config.json', 'generation_config.json']));
    const external = await session(loaded, 'wasm', { dtype: 'f32', externalData: 'always' });
    expect(relError(await ortLogits(external, expected.ids, 7), expected.logits.flat())).toBeLessThan(1e-4);
    await external.release();
  });
});

describe('ONNX bad input', () => {
  it('an ONNX folder without onnx/ is refused, naming where it looked; an export folder loads', async () => {
    const plain = join(FIXTURES, names[0]);
    await expect(loadOnnxFolder(dirSource(plain))).rejects.toThrow(/onnx\/: no ONNX graph \(looked for onnx\/model\.onnx, onnx\/model_fp16\.onnx\)/);
    const out = mkdtempSync(join(tmpdir(), 'onnx-folder-'));
    await exportOnnx.run(['--model', plain, '--out', out]);
    const folder = await loadOnnxFolder(dirSource(out));
    expect(folder.where).toMatch(/onnx\/model\.onnx$/);
    expect(folder.config.numLayers).toBe(2);
  });

  it('a backend that cannot start names the missing capability', () => {
    expect(ortCapabilityProblem('webgpu', 1, {})).toMatch(/needs WebGPU \(navigator\.gpu\)/);
    expect(ortCapabilityProblem('wasm', 2, { crossOriginIsolated: false, SharedArrayBuffer })).toMatch(/2 threads needs SharedArrayBuffer/);
    expect(ortCapabilityProblem('wasm', 1, {})).toBeNull();
  });

  it('an export too big for one protobuf without external data is refused, naming the limit', async () => {
    const loaded = await loadModel(dirSource(join(FIXTURES, names[0])));
    expect(() => exportOnnxGraph(loaded, { dtype: 'f32', externalData: 'never', protobufLimit: 2 ** 20 })).toThrow(OnnxExportError);
    expect(() => exportOnnxGraph(loaded, { dtype: 'f32', externalData: 'never', protobufLimit: 2 ** 20 })).toThrow(/over the 0\.00 GiB a single protobuf.*external data/);
    expect(exportOnnxGraph(loaded, { dtype: 'f32', protobufLimit: 2 ** 20 }).externalData).not.toBeNull(); // auto
  });

  it('a graph that is not a causal LM with a KV cache is refused, naming the file and what is missing', async () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', [1]);
    g.op('Identity', ['x'], {}, 'y');
    g.output('y', 'float32', [1]);
    const bytes = onnxProto.onnx.ModelProto.encode(g.model(17, 'test').model).finish();
    await expect(OrtCausalLm.create(bytes, { backend: 'wasm', where: 'onnx/model.onnx' })).rejects.toThrow(
      /onnx\/model\.onnx is not a causal language model with a KV cache: missing input_ids, attention_mask, past_key_values\.0\.key/,
    );
    await expect(OrtCausalLm.create(new Uint8Array([1, 2, 3]), { backend: 'wasm', where: 'broken.onnx' })).rejects.toThrow(OrtModelError);
  });
});

describe('export-onnx CLI', () => {
  it('writes the folder layout that onnxruntime-web loads; a bad --dtype is a usage error', async () => {
    const out = mkdtempSync(join(tmpdir(), 'onnx-export-'));
    await exportOnnx.run(['--model', 'embedded', '--out', out, '--dtype', 'f16']);
    for (const f of ['onnx/model_fp16.onnx', 'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'qwen2', torch_dtype: 'float16', 'transformers.js_config': { kv_cache_dtype: { fp16: 'float16' } } });
    const lm = await OrtCausalLm.create(readFileSync(join(out, 'onnx/model_fp16.onnx')), { backend: 'wasm', where: 'model_fp16.onnx' });
    expect(lm.signature).toMatchObject({ layers: config.num_hidden_layers, kvHeads: config.num_key_value_heads, kvType: 'float16', hasLogitsToKeep: false });
    await lm.release();
    await expect(exportOnnx.run(['--model', 'embedded', '--out', out, '--dtype', 'q4'])).rejects.toThrow(/--dtype must be f32 or f16/);
  });
});
