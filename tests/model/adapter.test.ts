// PEFT LoRA adapters over a base: attached on the GPU they give the logits of the host-merged model; bad
// adapters fail naming the file; `eval --model BASE --adapter DIR`; merged exports keep the base's dtype.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gpu, maxRelError } from '../helpers/gpu.ts';
import { dirSource, embeddedDirSource } from '../../src/model/source-node.ts';
import { loadModel, type LoadedModel } from '../../src/model/source.ts';
import { instantiateModel } from '../../src/model/instantiate.ts';
import { Generator } from '../../src/model/generate.ts';
import { attachAdapter, loadPeftAdapter } from '../../src/model/adapter.ts';
import { PEFT_MODULE, loraGeometry, type LoraTarget } from '../../src/model/lora.ts';
import { parseSafetensors, toFloat32, writeSafetensors, type WritableTensor } from '../../src/model/safetensors.ts';
import { bf16BitsToF32, f32ToBf16Bits } from '../../src/gpu/half.ts';
import { Policy } from '../../src/train/policy.ts';
import { exportMerged } from '../../src/train/checkpoint.ts';
import { evaluate } from '../../src/cli/commands/eval.ts';
import { Rng } from '../../src/util/random.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'models');

/** A PEFT folder with random A and B for the given targets on every layer; returns the folder. */
function writeAdapter(base: LoadedModel, targets: LoraTarget[], rank: number, alpha: number, extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tooln1-adapter-'));
  const rng = new Rng(5);
  const geometry = loraGeometry(base.config);
  const tensors: WritableTensor[] = [];
  for (let l = 0; l < base.config.numLayers; l++) {
    for (const t of targets) {
      const { inWidth, outRows } = geometry[t];
      const name = `base_model.model.model.layers.${l}.${PEFT_MODULE[t]}`;
      tensors.push({ name: `${name}.lora_A.weight`, dtype: 'F32', shape: [rank, inWidth], data: rng.uniformArray(rank * inWidth, -0.3, 0.3) });
      tensors.push({ name: `${name}.lora_B.weight`, dtype: 'F32', shape: [outRows, rank], data: rng.uniformArray(outRows * rank, -0.3, 0.3) });
    }
  }
  writeFileSync(join(dir, 'adapter_model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  const config = { peft_type: 'LORA', task_type: 'CAUSAL_LM', r: rank, lora_alpha: alpha, bias: 'none', target_modules: targets.map((t) => PEFT_MODULE[t].split('.')[1]), ...extra };
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(config));
  return dir;
}

/** base + scale·B·A on the host, in f32: what PEFT's merge_and_unload computes. */
function mergeOnHost(base: LoadedModel, adapterDir: string, scale: number): LoadedModel {
  const { tensors: lora } = parseSafetensors(readFileSync(join(adapterDir, 'adapter_model.safetensors')), 'adapter');
  const tensors = new Map(base.tensors);
  for (const [name, a] of lora) {
    if (!name.endsWith('lora_A.weight')) continue;
    const module = name.slice('base_model.model.'.length, -'.lora_A.weight'.length);
    const b = lora.get(name.replace('lora_A', 'lora_B'))!;
    const W = toFloat32(base.tensors.get(`${module}.weight`)!).slice();
    const A = toFloat32(a);
    const B = toFloat32(b);
    const [rank, inW] = a.shape;
    for (let o = 0; o < b.shape[0]; o++) for (let r = 0; r < rank; r++) for (let i = 0; i < inW; i++) W[o * inW + i] += scale * B[o * rank + r] * A[r * inW + i];
    const bytes = new Uint8Array(W.buffer);
    tensors.set(`${module}.weight`, { name: `${module}.weight`, file: 'merged', dtype: 'F32', shape: [b.shape[0], inW], bytes });
  }
  return { ...base, tensors };
}

async function logitsOf(loaded: LoadedModel, ids: number[], adapterDir?: string): Promise<Float32Array> {
  const rt = await gpu();
  const model = instantiateModel(rt, loaded, { maxPositions: 16, matrixDtype: 'f32' });
  const detach = adapterDir ? attachAdapter(rt, model, await loadPeftAdapter(dirSource(adapterDir), loaded.config)) : undefined;
  const gen = new Generator(model);
  const logits = await gen.allLogits(ids);
  gen.release();
  detach?.();
  model.release();
  return logits;
}

afterEach(() => vi.restoreAllMocks());

describe('LoRA adapters over a base', () => {
  it('attached on the GPU: the logits of the merged model (r=2, α=4; rsLoRA scales by α/√r)', async () => {
    const base = await loadModel(dirSource(join(FIXTURES, 'gqa-untied-f32')));
    const ids = [3, 1, 4, 1, 5, 9];
    const plain = await logitsOf(base, ids);
    const dir = writeAdapter(base, ['q', 'v', 'o', 'up', 'down'], 2, 4);
    const attached = await logitsOf(base, ids, dir);
    const merged = await logitsOf(mergeOnHost(base, dir, 2), ids);
    expect(maxRelError(attached, merged)).toBeLessThan(1e-4);
    expect(maxRelError(attached, plain)).toBeGreaterThan(1e-2); // the adapter changes something
    const rs = await loadPeftAdapter(dirSource(writeAdapter(base, ['q'], 2, 4, { use_rslora: true })), base.config);
    expect(rs.scale).toBe(4 / Math.sqrt(2));
  });

  it('refuses adapters that do not fit, naming the file', async () => {
    const base = await loadModel(dirSource(join(FIXTURES, 'gqa-untied-f32')));
    const other = await loadModel(dirSource(join(FIXTURES, 'gqa3-tied-f16')));
    const load = (dir: string, cfg = base.config) => loadPeftAdapter(dirSource(dir), cfg);
    const dir = writeAdapter(other, ['q'], 2, 4);
    if (other.config.hiddenSize !== base.config.hiddenSize || other.config.numHeads !== base.config.numHeads) {
      await expect(load(dir)).rejects.toThrow(/adapter_model\.safetensors: tensor "base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight" has shape/);
    }
    await expect(load(writeAdapter(base, ['q'], 2, 4, { use_dora: true }))).rejects.toThrow(/adapter_config\.json: DoRA adapters/);
    await expect(load(writeAdapter(base, ['q'], 2, 4, { peft_type: 'IA3' }))).rejects.toThrow(/peft_type is "IA3"/);
    await expect(load(mkdtempSync(join(tmpdir(), 'tooln1-empty-')))).rejects.toThrow(/adapter_config\.json: not found/);
  });
});

describe('eval --adapter', () => {
  it('evaluates an adapter over its base, and says how when given the adapter as --model', async () => {
    const base = await loadModel(embeddedDirSource());
    const adapterDir = writeAdapter(base, ['q', 'down'], 2, 4);
    const data = join(adapterDir, 'items.jsonl');
    writeFileSync(data, JSON.stringify({ id: 'a', query: 'p', tools: [{ name: 'p' }], answers: [{ name: 'p', arguments: {} }] }) + '\n');
    const template = join(adapterDir, 'template.json');
    writeFileSync(template, JSON.stringify({ preamble: 'P', toolsIntro: 'T', instructions: 'I', exampleReply: 'E' }));
    const stdout: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const common = ['--bench', 'synthetic', '--data', data, '--max-new-tokens', '1', '--max-prompt-tokens', '100', '--batch', '1', '--template', template];
    await evaluate.run(['--model', 'embedded', '--adapter', adapterDir, ...common]);
    expect(JSON.parse(stdout.join(''))).toMatchObject({ adapter: expect.any(String), entries: 1 });
    await expect(evaluate.run(['--model', adapterDir, ...common])).rejects.toThrow(/holds a LoRA adapter, not a model: load it over its base with --model BASE --adapter/);
  });
});

describe('merged export keeps the base dtype', () => {
  it('BF16 base + LoRA → BF16 weights: merged tensors rounded from f32, the others byte for byte', async () => {
    const rt = await gpu();
    const base = await loadModel(dirSource(join(FIXTURES, 'gqa-tied-bf16')));
    const policy = Policy.create(rt, base, { mode: 'lora', lora: { rank: 2, alpha: 4, targets: ['q'] }, maxPositions: 16, seed: 1 });
    const adapter = policy.model.adapters![0].qkv[0];
    const B = new Rng(2).uniformArray(adapter.B.size, -0.5, 0.5);
    rt.write(adapter.B, B);
    const A = (await rt.read(adapter.A)) as Float32Array;
    const { tensors } = parseSafetensors(await exportMerged(policy, base), 'export');
    policy.release();
    expect(new Set([...tensors.values()].map((t) => t.dtype))).toEqual(new Set(['BF16']));
    expect([...tensors.keys()].sort()).toEqual([...base.tensors.keys()].sort());
    const k = 'model.layers.0.self_attn.k_proj.weight';
    expect(tensors.get(k)!.bytes).toEqual(base.tensors.get(k)!.bytes);
    const name = 'model.layers.0.self_attn.q_proj.weight';
    const W = toFloat32(base.tensors.get(name)!);
    const [rank, inW] = adapter.A.shape;
    const got = new Uint16Array(new Uint8Array(tensors.get(name)!.bytes).buffer);
    let changed = 0;
    for (let o = 0; o < adapter.B.shape[0]; o++) {
      for (let i = 0; i < inW; i++) {
        let w = W[o * inW + i];
        for (let r = 0; r < rank; r++) w = Math.fround(w + adapter.scale * B[o * rank + r] * A[r * inW + i]);
        expect(got[o * inW + i]).toBe(f32ToBf16Bits(w));
        if (bf16BitsToF32(got[o * inW + i]) !== W[o * inW + i]) changed++;
      }
    }
    expect(changed).toBeGreaterThan(0);
  });
});
