// A PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors, as PEFT, TRL, verl and this project's
// trainer save it) over a loaded base model: read, checked against the base's config, and attached to the
// engine's model as live LoRA updates (y += scale·(x·Aᵀ)·Bᵀ), so the base stays as it is (f16 where it was).
// Browser-safe.

import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import type { Qwen2Config } from './config.ts';
import { PEFT_MODULE, SITE_OF, addLowRank, loraGeometry, type LoraTarget } from './lora.ts';
import type { LayerAdapters, Qwen2Model } from './model.ts';
import { parseSafetensors, toFloat32, type TensorView } from './safetensors.ts';
import { ModelLoadError, readFileBytes, readJson, type LoadedModel, type LoadOptions, type ModelSource } from './source.ts';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

export interface AdapterPair {
  layer: number;
  target: LoraTarget;
  A: TensorView; // [rank, in]
  B: TensorView; // [outRows, rank]
}

export interface PeftAdapter {
  /** the adapter folder's label */
  source: string;
  rank: number;
  alpha: number;
  /** alpha / rank, or alpha / sqrt(rank) with use_rslora */
  scale: number;
  /** base_model_name_or_path as the adapter records it */
  baseModel: string | null;
  targets: LoraTarget[];
  pairs: AdapterPair[];
}

const TARGET_OF_MODULE = new Map(Object.entries(PEFT_MODULE).map(([t, m]) => [m, t as LoraTarget]));
// base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight (older saves keep the adapter name: .lora_A.default.weight)
const TENSOR_NAME = /^(?:base_model\.model\.)?model\.layers\.(\d+)\.(self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)\.lora_([AB])(?:\.default)?\.weight$/;

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'object' && Object.keys(value).length === 0);
}

/** Checks adapter_config.json and the tensors against the base's config; every problem names its file. */
export function parsePeftAdapter(
  configJson: Record<string, unknown>,
  weights: Uint8Array,
  base: Qwen2Config,
  where: (file: string) => string,
  label: string,
): PeftAdapter {
  const cfgWhere = where(ADAPTER_CONFIG);
  const fail = (problem: string) => new ModelLoadError(`${cfgWhere}: ${problem}`);
  if (configJson.peft_type !== 'LORA') throw fail(`peft_type is ${JSON.stringify(configJson.peft_type)}; only LORA adapters can be loaded`);
  const rank = configJson.r;
  const alpha = configJson.lora_alpha;
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1) throw fail(`"r" must be a whole number ≥ 1, got ${JSON.stringify(rank)}`);
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw fail(`"lora_alpha" must be a number, got ${JSON.stringify(alpha)}`);
  // Variants whose forward differs from y += scale·B·A·x: refused rather than silently evaluated wrong.
  if (configJson.use_dora === true) throw fail('DoRA adapters (use_dora) are not supported');
  if (configJson.fan_in_fan_out === true) throw fail('fan_in_fan_out adapters (Conv1D layouts) are not supported');
  if (configJson.bias !== undefined && configJson.bias !== 'none') throw fail(`bias "${configJson.bias}" is not supported (only "none")`);
  if (!isEmpty(configJson.rank_pattern) || !isEmpty(configJson.alpha_pattern)) throw fail('per-module rank_pattern / alpha_pattern are not supported');
  if (!isEmpty(configJson.modules_to_save)) throw fail(`modules_to_save ${JSON.stringify(configJson.modules_to_save)} are not supported (only LoRA matrices)`);
  const scale = configJson.use_rslora === true ? alpha / Math.sqrt(rank) : alpha / rank;

  const wWhere = where(ADAPTER_WEIGHTS);
  const { tensors } = parseSafetensors(weights, wWhere);
  const geometry = loraGeometry(base);
  const halves = new Map<string, { layer: number; target: LoraTarget; A?: TensorView; B?: TensorView }>();
  for (const [name, t] of tensors) {
    const m = TENSOR_NAME.exec(name);
    if (!m) throw new ModelLoadError(`${wWhere}: tensor "${name}" is not a LoRA matrix of a Qwen2 projection`);
    const layer = Number(m[1]);
    const target = TARGET_OF_MODULE.get(m[2])!;
    if (layer >= base.numLayers) throw new ModelLoadError(`${wWhere}: tensor "${name}" is for layer ${layer}, the base has ${base.numLayers} layers`);
    const { inWidth, outRows } = geometry[target];
    const shape = m[3] === 'A' ? [rank, inWidth] : [outRows, rank];
    if (t.shape.join() !== shape.join()) {
      throw new ModelLoadError(`${wWhere}: tensor "${name}" has shape [${t.shape}] but r=${rank} over this base needs [${shape}] (is it the adapter of this base?)`);
    }
    if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') throw new ModelLoadError(`${wWhere}: tensor "${name}" has dtype ${t.dtype}; LoRA matrices must be floats`);
    const key = `${layer}.${target}`;
    const pair = halves.get(key) ?? { layer, target };
    if (pair[m[3] as 'A' | 'B']) throw new ModelLoadError(`${wWhere}: two lora_${m[3]} tensors for layer ${layer} ${PEFT_MODULE[target]}`);
    pair[m[3] as 'A' | 'B'] = t;
    halves.set(key, pair);
  }
  const pairs: AdapterPair[] = [];
  for (const p of halves.values()) {
    if (!p.A || !p.B) throw new ModelLoadError(`${wWhere}: layer ${p.layer} ${PEFT_MODULE[p.target]} has lora_${p.A ? 'A' : 'B'} but no lora_${p.A ? 'B' : 'A'}`);
    pairs.push({ layer: p.layer, target: p.target, A: p.A, B: p.B });
  }
  if (pairs.length === 0) throw new ModelLoadError(`${wWhere}: no LoRA matrices`);
  pairs.sort((a, b) => a.layer - b.layer || Object.keys(PEFT_MODULE).indexOf(a.target) - Object.keys(PEFT_MODULE).indexOf(b.target));
  const targets = [...new Set(pairs.map((p) => p.target))];
  const baseModel = typeof configJson.base_model_name_or_path === 'string' ? configJson.base_model_name_or_path : null;
  return { source: label, rank, alpha, scale, baseModel, targets, pairs };
}

/** Reads an adapter folder (any ModelSource) and checks it against the base's config. */
export async function loadPeftAdapter(source: ModelSource, base: Qwen2Config, opts: LoadOptions = {}): Promise<PeftAdapter> {
  const configJson = await readJson(source, ADAPTER_CONFIG, opts);
  if (!configJson) throw new ModelLoadError(`${source.where(ADAPTER_CONFIG)}: not found (a PEFT LoRA adapter folder holds ${ADAPTER_CONFIG} and ${ADAPTER_WEIGHTS})`);
  const weights = await readFileBytes(source, ADAPTER_WEIGHTS, opts);
  if (!weights) throw new ModelLoadError(`${source.where(ADAPTER_WEIGHTS)}: not found`);
  return parsePeftAdapter(configJson, weights, base, source.where, source.label);
}

/**
 * Uploads the adapter's matrices (f32) and switches them on in the model. Returns the function that
 * detaches and frees them. A model holds one set of adapters at a time.
 */
export function attachAdapter(rt: GpuRuntime, model: Qwen2Model, adapter: PeftAdapter): () => void {
  if (model.adapters) throw new Error('the model already has LoRA adapters attached');
  const geometry = loraGeometry(model.config);
  const layers: LayerAdapters[] = Array.from({ length: model.config.numLayers }, () => ({ qkv: [], o: [], gateUp: [], down: [] }));
  const uploaded: Tensor[] = [];
  for (const p of adapter.pairs) {
    const name = `adapter.${p.layer}.${p.target}`;
    const A = rt.upload(p.A.shape, toFloat32(p.A), 'f32', `${name}.A`);
    const B = rt.upload(p.B.shape, toFloat32(p.B), 'f32', `${name}.B`);
    uploaded.push(A, B);
    layers[p.layer][SITE_OF[p.target]].push({ target: p.target, A, B, scale: adapter.scale, colOff: geometry[p.target].colOff });
  }
  model.adapters = layers;
  model.adaptersOn = true;
  return () => {
    if (model.adapters === layers) model.adapters = null;
    for (const t of uploaded) t.release();
  };
}

/**
 * The base with the adapter merged into its weights (W + scale·B·A, in f32): a model to start from, as a
 * GRPO run continues an SFT run's LoRA adapter. The base's other tensors are shared, not copied.
 */
export function mergeAdapter(base: LoadedModel, adapter: PeftAdapter): LoadedModel {
  const tensors = new Map(base.tensors);
  for (const p of adapter.pairs) {
    const name = `model.layers.${p.layer}.${PEFT_MODULE[p.target]}.weight`;
    const old = tensors.get(name);
    if (!old) throw new ModelLoadError(`${adapter.source}: the base ${base.source} has no tensor ${name}`);
    const W = toFloat32(old).slice(); // one pair per layer and projection: each weight is merged once
    addLowRank(W, toFloat32(p.A), toFloat32(p.B), adapter.scale, p.A.shape[0], p.A.shape[1], p.B.shape[0]);
    tensors.set(name, { ...old, file: adapter.source, dtype: 'F32', bytes: new Uint8Array(W.buffer, W.byteOffset, W.byteLength) });
  }
  return { ...base, source: `${base.source} + ${adapter.source}`, tensors };
}
