// SFT→RL: a training config's `model` may name an SFT run's folder. A LoRA run's holds an adapter, merged over
// the base its train-config.json names after checking it against that base; no GPU in this file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStartModel } from '../../src/cli/model.ts';
import { embeddedDirSource } from '../../src/model/source-node.ts';
import { loadModel } from '../../src/model/source.ts';
import { toFloat32, writeSafetensors } from '../../src/model/safetensors.ts';
import { peftBaseName } from '../../src/train/run.ts';

const R = 2;
const ALPHA = 4;

async function sftRun(opts: { base?: string; width?: number } = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tooln1-sftrun-'));
  const base = await loadModel(embeddedDirSource());
  const D = base.config.hiddenSize;
  const q = base.config.numHeads * base.config.headDim;
  const width = opts.width ?? D;
  const A = Float32Array.from({ length: R * width }, (_, i) => ((i % 7) - 3) / 10);
  const B = Float32Array.from({ length: q * R }, (_, i) => ((i % 5) - 2) / 10);
  const name = 'base_model.model.model.layers.0.self_attn.q_proj';
  writeFileSync(join(dir, 'adapter_model.safetensors'), writeSafetensors([
    { name: `${name}.lora_A.weight`, dtype: 'F32', shape: [R, width], data: A },
    { name: `${name}.lora_B.weight`, dtype: 'F32', shape: [q, R], data: B },
  ], { format: 'pt' }));
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({
    peft_type: 'LORA', r: R, lora_alpha: ALPHA, target_modules: ['q_proj'], bias: 'none',
    base_model_name_or_path: opts.base ?? peftBaseName('embedded', embeddedDirSource()),
  }));
  writeFileSync(join(dir, 'train-config.json'), JSON.stringify({ method: 'sft', model: 'embedded', mode: 'lora', data: { synthetic: { level: 'tiny' } } }));
  return dir;
}

describe('a GRPO run from an SFT run’s LoRA folder', () => {
  it('starts from the base with the adapter merged in', async () => {
    const dir = await sftRun();
    const opened = await openStartModel(dir);
    const base = await loadModel(embeddedDirSource());
    const key = 'model.layers.0.self_attn.q_proj.weight';
    const W0 = toFloat32(base.tensors.get(key)!);
    const W = toFloat32(opened.loaded.tensors.get(key)!);
    const D = base.config.hiddenSize;
    // W[o, i] = W0[o, i] + (alpha / r) · Σ_r B[o, r] · A[r, i]
    const A = (r: number, i: number) => (((r * D + i) % 7) - 3) / 10;
    const B = (o: number, r: number) => (((o * R + r) % 5) - 2) / 10;
    for (const [o, i] of [[0, 0], [3, 5], [7, D - 1]]) {
      const delta = (ALPHA / R) * (B(o, 0) * A(0, i) + B(o, 1) * A(1, i));
      expect(W[o * D + i]).toBeCloseTo(W0[o * D + i] + delta, 5);
    }
    expect(toFloat32(opened.loaded.tensors.get('model.layers.0.self_attn.k_proj.weight')!)).toEqual(toFloat32(base.tensors.get('model.layers.0.self_attn.k_proj.weight')!));
  });

  it('refuses an adapter whose base does not match, naming both', async () => {
    const other = await sftRun({ base: 'Qwen/Qwen2.5-0.5B-Instruct' });
    await expect(openStartModel(other)).rejects.toThrow(/the adapter's base is Qwen\/Qwen2\.5-0\.5B-Instruct, but .*train-config\.json names .*: they do not match/);
    const wrongShape = await sftRun({ width: 5 });
    await expect(openStartModel(wrongShape)).rejects.toThrow(/has shape \[2,5\] but r=2 over this base needs .*is it the adapter of this base\?/);
  });
});
