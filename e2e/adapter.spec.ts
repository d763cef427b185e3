import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { collectPageErrors } from './page-errors.ts';
import { writeSafetensors, type WritableTensor } from '../src/model/safetensors.ts';

/** A PEFT adapter folder for the embedded model's q projection, rank r (shapes from its config.json). */
function adapterFolder(name: string, rank: number, inWidthOffset = 0): string {
  const c = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'public', 'models', 'tiny', 'config.json'), 'utf8'));
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  const tensors: WritableTensor[] = [];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `base_model.model.model.layers.${l}.self_attn.q_proj`;
    const inW = c.hidden_size + inWidthOffset;
    tensors.push({ name: `${p}.lora_A.weight`, dtype: 'F32', shape: [rank, inW], data: new Float32Array(rank * inW).fill(0.01) });
    tensors.push({ name: `${p}.lora_B.weight`, dtype: 'F32', shape: [c.num_attention_heads * headDim, rank], data: new Float32Array(c.num_attention_heads * headDim * rank).fill(0.01) });
  }
  const dir = join(mkdtempSync(join(tmpdir(), 'tooln1-e2e-adapter-')), name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'adapter_model.safetensors'), writeSafetensors(tensors));
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: rank, lora_alpha: 2 * rank, target_modules: ['q_proj'], base_model_name_or_path: 'embedded' }));
  return dir;
}

test('a LoRA adapter loads over the Playground model, is refused when it does not fit, and serves the Benchmarks tab too', async ({ page }) => {
  const pageErrors = collectPageErrors(page);
  await page.goto('/');
  await expect(page.getByTestId('gpu-status')).toHaveAttribute('data-status', 'ready');
  await page.getByTestId('tab-playground').click();
  await page.getByTestId('source-embedded').click();
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('model-info')).toContainText('embedded tiny model');

  const state = page.getByTestId('adapter-state');
  await expect(state).toContainText('No LoRA adapter');
  await page.getByTestId('adapter-input').setInputFiles(adapterFolder('good-adapter', 2));
  await expect(state).toContainText('LoRA adapter good-adapter: r = 2, α = 4');
  // An adapter for another base is refused, naming the tensor, and the attached one stays.
  await page.getByTestId('adapter-input').setInputFiles(adapterFolder('other-base', 2, 8));
  await expect(page.getByTestId('adapter-error')).toContainText('has shape');
  await expect(state).toContainText('good-adapter');

  await page.getByTestId('tab-benchmarks').click();
  await expect(page.getByTestId('adapter-state')).toContainText('good-adapter');
  await page.getByTestId('adapter-remove').click();
  await expect(page.getByTestId('adapter-state')).toContainText('No LoRA adapter');
  expect(pageErrors).toEqual([]);
});
