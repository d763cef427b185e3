// A Qwen2 model with random weights built in memory (no files): for memory checks and quick benchmarks
// at shapes between the tiny embedded model and Qwen2.5-0.5B.
import { expectedTensors, parseQwen2Config, type Qwen2Config } from '../model/config.ts';
import type { LoadedModel } from '../model/source.ts';
import type { TensorView } from '../model/safetensors.ts';
import { Rng } from '../util/random.ts';

/** Qwen2.5-0.5B's config.json fields that set shapes (the real model's values). */
export const QWEN25_05B_CONFIG = {
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  hidden_act: 'silu',
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  vocab_size: 151936,
  tie_word_embeddings: true,
  max_position_embeddings: 32768,
  use_sliding_window: false,
  rope_scaling: null,
} as const;

export function qwen25HalfBConfig(overrides: Record<string, unknown> = {}): Qwen2Config {
  return parseQwen2Config({ ...QWEN25_05B_CONFIG, ...overrides }, 'qwen2.5-0.5b shape');
}

/**
 * Random f32 weights for `config`: matrices ~ U(−a, a) with a = 1/sqrt(fan-in), norms 1, biases small.
 * Deterministic in `seed`.
 */
export function randomModel(config: Qwen2Config, seed = 0, label = 'random model'): LoadedModel {
  const rng = new Rng(seed >>> 0);
  const tensors = new Map<string, TensorView>();
  for (const [name, shape] of expectedTensors(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (name.endsWith('norm.weight')) data = new Float32Array(n).fill(1);
    else if (name.endsWith('.bias')) data = rng.uniformArray(n, -0.1, 0.1);
    else {
      const a = 1 / Math.sqrt(shape[1] ?? 1);
      data = rng.uniformArray(n, -a, a);
    }
    tensors.set(name, { name, file: 'memory', dtype: 'F32', shape: [...shape], bytes: new Uint8Array(data.buffer) });
  }
  return { source: label, config, tensors };
}

/** Hugging Face's init in f32: normal(0, 0.02) matrices and embeddings, zero biases, unit norms. Deterministic in `seed`. */
export function hfInitModel(config: Qwen2Config, seed: number, label = 'random model (HF init)'): LoadedModel {
  const rng = new Rng(seed >>> 0);
  const tensors = new Map<string, TensorView>();
  for (const [name, shape] of expectedTensors(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('norm.weight')) data.fill(1);
    else if (!name.endsWith('.bias')) for (let i = 0; i < data.length; i++) data[i] = 0.02 * rng.normal();
    tensors.set(name, { name, file: 'memory', dtype: 'F32', shape: [...shape], bytes: new Uint8Array(data.buffer) });
  }
  return { source: label, config, tensors };
}
