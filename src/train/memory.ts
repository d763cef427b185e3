// GPU memory of a GRPO step without a GPU: the real engine (Policy.create + GrpoTrainer.trainStep, through
// runGrpoSteps) on the null device (src/gpu/null.ts), which creates every buffer and runs nothing. What the
// runtime's pool then holds (rt.bytesHeld) is what it holds on a real device after the same calls: the
// pool's size classes, its reuse of released buffers and the uniform arena are the engine's own code.
// Reads return zeros, so every sampled token is id 0 and completions never end early (the worst case);
// fixedLengthTask's rewards alternate, so every sequence is trained. tests/train/memory.test.ts compares
// the figures with rt.bytesHeld after the same steps on a real device.

import { GpuRuntime } from '../gpu/runtime.ts';
import { nullGpu } from '../gpu/null.ts';
import { expectedTensors, type Qwen2Config } from '../model/config.ts';
import type { LoadedModel } from '../model/source.ts';
import type { TensorView } from '../model/safetensors.ts';
import { runGrpoSteps } from './shaped-steps.ts';
import type { LoraTarget } from './policy.ts';

export type MemoryCategory =
  | 'weights' // model matrices, norms, biases, rope tables
  | 'reference' // a separate reference model (full fine-tuning with β ≠ 0)
  | 'trainable' // LoRA A/B, and for every trained tensor its gradient and both AdamW moments
  | 'rolloutKv' // the generator's KV cache (all G·P sequences, prompt + completion positions)
  | 'rolloutActs' // the generator's scratch activations (sized by the prefill)
  | 'sampling' // logits [S, V], sampling scratch [S, V], token/log-prob histories
  | 'trainKv' // per-micro-batch KV cache of the training/reference forwards
  | 'activations' // training activations kept for the backward (per layer; or layer inputs + one layer with recomputation)
  | 'referenceActs' // scratch activations of the no-grad log-prob passes (reference, old policy)
  | 'gradScratch' // backward scratch: dx, dh, dgu, ..., attention stats, dhidden
  | 'logprobChunks' // the LM-head chunks [64, V] of the log-prob forward and backward
  | 'rows' // ids, slots, positions, targets, per-row log-probs, dlogp, optimizer partials, ones
  | 'uniforms'; // the runtime's uniform arena (64 KiB chunks)

export const MEMORY_CATEGORIES: MemoryCategory[] = [
  'weights', 'reference', 'trainable', 'rolloutKv', 'rolloutActs', 'sampling', 'trainKv', 'activations',
  'referenceActs', 'gradScratch', 'logprobChunks', 'rows', 'uniforms',
];

export interface GrpoMemorySetup {
  config: Qwen2Config;
  mode: 'lora' | 'full';
  /**
   * element type of the frozen weight matrices: the base under LoRA (f16 where the adapter has shader-f16),
   * or the reference copy under full fine-tuning with β ≠ 0 (the trained matrices are always f32)
   */
  baseDtype: 'f16' | 'f32';
  lora?: { rank: number; targets: LoraTarget[] };
  promptsPerStep: number;
  groupSize: number;
  /** every prompt has this many tokens */
  promptTokens: number;
  /** every completion runs to this many tokens (no early end of sequence: the worst case) */
  completionTokens: number;
  microBatch: number;
  /** β ≠ 0 adds the reference log-prob pass (adapters off under LoRA; a reference model under full fine-tuning) */
  beta: number;
  /** μ: > 1 adds the old-policy log-prob pass */
  iterations: number;
  recompute: boolean;
  /** PolicySettings.maxPositions (sizes the rope tables) */
  maxPositions: number;
  /** GRPO steps to run (the pool reaches its steady state after the first); 0: the policy alone */
  steps?: number;
  /** device limits that change the pool's behaviour (defaults: SwiftShader's 1 GiB, 256) */
  maxBufferSize?: number;
  minUniformBufferOffsetAlignment?: number;
}

export interface MemoryReport {
  /** rt.bytesHeld after the step(s): pool storage + uniform arena */
  heldBytes: number;
  poolBytes: number;
  uniformBytes: number;
  /** pool bytes by the category of the tensor that first allocated each buffer (sums to poolBytes), plus uniforms */
  byCategory: Record<MemoryCategory, number>;
  /** most bytes ever live at once: what a pool that could reuse across size classes would need */
  peakLiveBytes: number;
}

/** The category of a pool buffer, from the label of the tensor that created it. */
function categoryOf(label: string, weightLabels: Set<string>): MemoryCategory {
  if (/^(model\.|lm_head|rope\.)/.test(label)) {
    if (!weightLabels.has(label)) {
      weightLabels.add(label);
      return 'weights';
    }
    return 'reference'; // a second copy of a weight: the frozen reference model
  }
  if (/\.state$|\.lora_[AB]$/.test(label)) return 'trainable';
  if (label.startsWith('gen.cache.')) return 'rolloutKv';
  if (label.startsWith('gen.')) return 'rolloutActs';
  if (['logits', 'sample-scratch', 'history', 'logprob-history'].includes(label)) return 'sampling';
  if (label.startsWith('cache.')) return 'trainKv';
  if (/^act\.(\d|any\.)/.test(label)) return 'activations'; // LayerActivations, RecomputeActivations
  if (label.startsWith('act.d') || label === 'attn.stats') return 'gradScratch'; // backward scratch: d*
  if (label.startsWith('act.')) return 'referenceActs'; // the log-prob passes' ScratchActivations
  if (label.startsWith('logprob.')) return 'logprobChunks';
  return 'rows';
}

/**
 * A model of `config` whose every tensor is zeros, as views of one shared buffer (no host copy per tensor).
 * F16 when the matrices go up as f16, so the upload converts nothing.
 */
export function zeroModel(config: Qwen2Config, dtype: 'f16' | 'f32'): LoadedModel {
  const shapes = expectedTensors(config);
  const bytesPer = dtype === 'f16' ? 2 : 4;
  const largest = Math.max(...[...shapes.values()].map((s) => s.reduce((a, b) => a * b, 1)));
  const zeros = new Uint8Array(largest * bytesPer);
  const tensors = new Map<string, TensorView>();
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    tensors.set(name, { name, file: 'zeros', dtype: dtype === 'f16' ? 'F16' : 'F32', shape, bytes: zeros.subarray(0, n * bytesPer) });
  }
  return { source: 'zeros', config, tensors };
}

/** A fresh runtime on the null device with the adapter's features and limits that matter for memory. */
export function nullRuntime(f16: boolean, maxBufferSize = 2 ** 30, minUniformBufferOffsetAlignment = 256): Promise<GpuRuntime> {
  const gpu = nullGpu({
    features: f16 ? ['shader-f16'] : [],
    limits: { maxBufferSize, maxStorageBufferBindingSize: maxBufferSize, minUniformBufferOffsetAlignment },
  });
  return GpuRuntime.create(gpu, () => '');
}

/**
 * What rt.bytesHeld reads after `steps` (default 1) GRPO steps of a fresh Policy + GrpoTrainer: the engine
 * run on the null device. Completions run to completionTokens (no early EOS).
 */
export async function grpoStepMemory(setup: GrpoMemorySetup): Promise<MemoryReport> {
  if (setup.mode === 'lora' && !setup.lora) throw new Error('grpoStepMemory: LoRA mode needs lora settings');
  const rt = await nullRuntime(setup.baseDtype === 'f16', setup.maxBufferSize, setup.minUniformBufferOffsetAlignment);
  const byCategory = Object.fromEntries(MEMORY_CATEGORIES.map((c) => [c, 0])) as Record<MemoryCategory, number>;
  const weightLabels = new Set<string>();
  rt.pool.onAllocate = (bytes, label) => (byCategory[categoryOf(label, weightLabels)] += bytes);
  // Under full fine-tuning the trained matrices are f32 and only the reference copy takes baseDtype.
  const loaded = zeroModel(setup.config, setup.mode === 'full' ? 'f32' : setup.baseDtype);
  const steps = setup.steps ?? 1;
  const run = await runGrpoSteps(rt, loaded, setup, steps);
  const heldBytes = steps === 0 ? run.heldAfterPolicy : run.heldAfterSteps[steps - 1];
  const uniformBytes = heldBytes - rt.pool.bytesAllocated;
  rt.destroy();
  return {
    heldBytes,
    poolBytes: heldBytes - uniformBytes,
    uniformBytes,
    byCategory: { ...byCategory, uniforms: uniformBytes },
    peakLiveBytes: rt.pool.peakBytesLive,
  };
}

/** The bytes a GRPO step holds by category: a short human summary, largest first. */
export function formatMemoryReport(r: MemoryReport, unit = 2 ** 20, unitName = 'MiB'): string[] {
  const fmt = (b: number) => `${(b / unit).toFixed(1)} ${unitName}`;
  const cats = MEMORY_CATEGORIES.filter((c) => r.byCategory[c] > 0).sort((a, b) => r.byCategory[b] - r.byCategory[a]);
  return [
    `held ${fmt(r.heldBytes)} (pool ${fmt(r.poolBytes)} + uniforms ${fmt(r.uniformBytes)}); peak live ${fmt(r.peakLiveBytes)}`,
    ...cats.map((c) => `  ${c.padEnd(14)} ${fmt(r.byCategory[c]).padStart(12)}`),
  ];
}
