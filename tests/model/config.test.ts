import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, expectedTensors, parseQwen2Config } from '../../src/model/config.ts';
import { numel } from '../../src/model/safetensors.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'models');
const fixtureConfig = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name, 'config.json'), 'utf8')) as Record<string, unknown>;

// Qwen/Qwen2.5-0.5B-Instruct's config.json (the fields the engine reads).
const QWEN25_05B = {
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  hidden_act: 'silu',
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  rope_scaling: null,
  sliding_window: 32768,
  use_sliding_window: false,
  max_position_embeddings: 32768,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  vocab_size: 151936,
};

describe('parseQwen2Config', () => {
  it('reads Qwen2.5-0.5B-Instruct', () => {
    expect(parseQwen2Config(QWEN25_05B, 'config.json')).toEqual({
      hiddenSize: 896,
      intermediateSize: 4864,
      numLayers: 24,
      numHeads: 14,
      numKvHeads: 2,
      headDim: 64,
      vocabSize: 151936,
      rmsNormEps: 1e-6,
      ropeTheta: 1e6,
      tieWordEmbeddings: true,
      maxPositionEmbeddings: 32768,
      torchDtype: 'bfloat16',
    });
  });

  it('reads the fixtures', () => {
    const c = parseQwen2Config(fixtureConfig('gqa3-tied-f16'), 'gqa3');
    expect([c.hiddenSize, c.numHeads, c.numKvHeads, c.headDim, c.tieWordEmbeddings]).toEqual([48, 6, 2, 8, true]);
    expect(parseQwen2Config(fixtureConfig('gqa-untied-f32'), 'x').tieWordEmbeddings).toBe(false);
  });

  it('applies Hugging Face defaults for optional fields', () => {
    const { rope_theta: _theta, tie_word_embeddings: _tie, num_key_value_heads: _kv, max_position_embeddings: _max, ...rest } = QWEN25_05B;
    const c = parseQwen2Config(rest, 'config.json');
    expect(c.ropeTheta).toBe(10000);
    expect(c.tieWordEmbeddings).toBe(false);
    expect(c.numKvHeads).toBe(14);
    expect(c.maxPositionEmbeddings).toBe(32768);
    expect(parseQwen2Config({ ...QWEN25_05B, head_dim: 128 }, 'c').headDim).toBe(128);
  });

  it('names the missing field and the file', () => {
    for (const field of ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'vocab_size', 'rms_norm_eps']) {
      const json: Record<string, unknown> = { ...QWEN25_05B };
      delete json[field];
      expect(() => parseQwen2Config(json, 'org/model/config.json')).toThrow(new ConfigError('org/model/config.json', `missing required field "${field}"`));
    }
  });

  it('rejects invalid values with the field name', () => {
    const bad = (patch: Record<string, unknown>) => () => parseQwen2Config({ ...QWEN25_05B, ...patch }, 'c.json');
    expect(bad({ hidden_size: '896' })).toThrow(/c\.json: field "hidden_size" must be a positive integer, got "896"/);
    expect(bad({ num_hidden_layers: 0 })).toThrow(/"num_hidden_layers" must be a positive integer/);
    expect(bad({ rms_norm_eps: -1 })).toThrow(/"rms_norm_eps" must be a positive number/);
    expect(bad({ tie_word_embeddings: 'yes' })).toThrow(/"tie_word_embeddings" must be a boolean/);
    expect(bad({ num_key_value_heads: 3 })).toThrow(/num_attention_heads 14 is not a multiple of num_key_value_heads 3/);
    expect(bad({ hidden_size: 900 })).toThrow(/hidden_size 900 is not divisible by num_attention_heads 14/);
    expect(bad({ model_type: 'llama' })).toThrow(/model_type "llama" is not supported/);
    expect(bad({ rope_scaling: { type: 'yarn', factor: 4 } })).toThrow(/rope_scaling is not supported/);
    expect(bad({ use_sliding_window: true })).toThrow(/use_sliding_window/);
    expect(() => parseQwen2Config([], 'c.json')).toThrow(/not a JSON object/);
  });
});

describe('expectedTensors', () => {
  it('lists every Qwen2.5-0.5B tensor: 494,032,768 parameters, no lm_head when tied', () => {
    const shapes = expectedTensors(parseQwen2Config(QWEN25_05B, 'c'));
    expect(shapes.size).toBe(1 + 24 * 12 + 1);
    expect(shapes.has('lm_head.weight')).toBe(false);
    let params = 0;
    for (const s of shapes.values()) params += numel(s);
    expect(params).toBe(494_032_768);
    expect(shapes.get('model.layers.23.self_attn.k_proj.weight')).toEqual([128, 896]);
    expect(shapes.get('model.layers.0.self_attn.o_proj.weight')).toEqual([896, 896]);
    expect(shapes.get('model.layers.0.mlp.down_proj.weight')).toEqual([896, 4864]);
  });

  it('adds lm_head.weight [vocab, hidden] when untied', () => {
    const shapes = expectedTensors(parseQwen2Config({ ...QWEN25_05B, tie_word_embeddings: false }, 'c'));
    expect(shapes.get('lm_head.weight')).toEqual([151936, 896]);
  });
});
