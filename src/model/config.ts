// Qwen2 config.json → a validated, camelCase config, and the tensor names/shapes it implies.
// Defaults follow Hugging Face's Qwen2Config where a field may be absent.

export interface Qwen2Config {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  maxPositionEmbeddings: number;
  /** Storage dtype the checkpoint was saved in ("bfloat16", "float32", ...), informational. */
  torchDtype: string | undefined;
}

/** Positions beyond 2^24 are not exact in f32 (the rotary angles), and no device holds tables that long. */
export const MAX_POSITIONS = 2 ** 24;

export class ConfigError extends Error {
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates a parsed config.json. `source` names the file in errors (e.g. "Qwen/Qwen2.5-0.5B-Instruct/config.json").
 */
export function parseQwen2Config(json: unknown, source: string): Qwen2Config {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(source, 'config is not a JSON object');
  const c = json as Record<string, unknown>;

  const int = (field: string, fallback?: number): number => {
    const v = c[field] ?? fallback;
    if (v === undefined) throw new ConfigError(source, `missing required field "${field}"`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
      throw new ConfigError(source, `field "${field}" must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const positive = (field: string, fallback?: number): number => {
    const v = c[field] ?? fallback;
    if (v === undefined) throw new ConfigError(source, `missing required field "${field}"`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new ConfigError(source, `field "${field}" must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  };

  // Refuse what the engine does not implement rather than computing something subtly different.
  if (c.model_type !== undefined && c.model_type !== 'qwen2') {
    throw new ConfigError(source, `model_type "${String(c.model_type)}" is not supported (expected "qwen2")`);
  }
  if (c.hidden_act !== undefined && c.hidden_act !== 'silu') {
    throw new ConfigError(source, `hidden_act "${String(c.hidden_act)}" is not supported (expected "silu")`);
  }
  if (c.rope_scaling !== undefined && c.rope_scaling !== null) {
    throw new ConfigError(source, 'rope_scaling is not supported (expected null)');
  }
  if (c.use_sliding_window === true) throw new ConfigError(source, 'use_sliding_window=true is not supported');
  if (c.tie_word_embeddings !== undefined && typeof c.tie_word_embeddings !== 'boolean') {
    throw new ConfigError(source, `field "tie_word_embeddings" must be a boolean, got ${JSON.stringify(c.tie_word_embeddings)}`);
  }

  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numKvHeads = int('num_key_value_heads', numHeads);
  if (c.head_dim === undefined && hiddenSize % numHeads !== 0) {
    throw new ConfigError(source, `hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`);
  }
  const headDim = int('head_dim', hiddenSize / numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new ConfigError(source, `num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`);
  }
  if (headDim % 2 !== 0) throw new ConfigError(source, `head_dim ${headDim} must be even for rotary embeddings`);

  const maxPositionEmbeddings = int('max_position_embeddings', 32768);
  if (maxPositionEmbeddings < 2 || maxPositionEmbeddings > MAX_POSITIONS) {
    throw new ConfigError(source, `max_position_embeddings ${maxPositionEmbeddings} is outside 2..${MAX_POSITIONS} (the RoPE tables' range)`);
  }

  return {
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numLayers: int('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: int('vocab_size'),
    rmsNormEps: positive('rms_norm_eps'),
    ropeTheta: positive('rope_theta', 10000),
    tieWordEmbeddings: (c.tie_word_embeddings as boolean | undefined) ?? false,
    maxPositionEmbeddings,
    torchDtype: typeof c.torch_dtype === 'string' ? c.torch_dtype : typeof c.dtype === 'string' ? c.dtype : undefined, // transformers ≥ 4.56 writes "dtype"
  };
}

/** Every tensor a Qwen2ForCausalLM checkpoint must hold, Hugging Face names → shapes (linear weights [out, in]). */
export function expectedTensors(config: Qwen2Config): Map<string, number[]> {
  const { hiddenSize: d, intermediateSize: ff, numHeads, numKvHeads, headDim, vocabSize } = config;
  const qDim = numHeads * headDim;
  const kvDim = numKvHeads * headDim;
  const shapes = new Map<string, number[]>();
  shapes.set('model.embed_tokens.weight', [vocabSize, d]);
  for (let i = 0; i < config.numLayers; i++) {
    const p = `model.layers.${i}`;
    shapes.set(`${p}.input_layernorm.weight`, [d]);
    shapes.set(`${p}.self_attn.q_proj.weight`, [qDim, d]);
    shapes.set(`${p}.self_attn.q_proj.bias`, [qDim]);
    shapes.set(`${p}.self_attn.k_proj.weight`, [kvDim, d]);
    shapes.set(`${p}.self_attn.k_proj.bias`, [kvDim]);
    shapes.set(`${p}.self_attn.v_proj.weight`, [kvDim, d]);
    shapes.set(`${p}.self_attn.v_proj.bias`, [kvDim]);
    shapes.set(`${p}.self_attn.o_proj.weight`, [d, qDim]);
    shapes.set(`${p}.post_attention_layernorm.weight`, [d]);
    shapes.set(`${p}.mlp.gate_proj.weight`, [ff, d]);
    shapes.set(`${p}.mlp.up_proj.weight`, [ff, d]);
    shapes.set(`${p}.mlp.down_proj.weight`, [d, ff]);
  }
  shapes.set('model.norm.weight', [d]);
  if (!config.tieWordEmbeddings) shapes.set('lm_head.weight', [vocabSize, d]);
  return shapes;
}
