// Checkpoints and exports. A checkpoint is one safetensors file holding every trainable tensor with its
// AdamW moments, and in its metadata the trainer state and config: enough to continue bit for bit.
// Exports continue elsewhere: LoRA in PEFT's layout, or merged weights in Hugging Face layout.

import type { LoadedModel } from '../model/source.ts';
import type { Tensor } from '../gpu/runtime.ts';
import { firstNonFinite, parseSafetensors, toFloat32, writeSafetensors, type SafetensorsDType, type TensorView, type WritableTensor } from '../model/safetensors.ts';
import { f32ToBf16Bits, f32ToF16Bits } from '../gpu/half.ts';
import { PEFT_MODULE, type LoraTarget, type Policy } from './policy.ts';
import { addLowRank } from '../model/lora.ts';
import type { TrainerState } from './trainer.ts';

export interface CheckpointMeta {
  format: 'tool-n1-studio-checkpoint';
  version: 1;
  state: TrainerState;
  /** whatever configuration the caller wants restored with it (JSON) */
  config: unknown;
  mode: 'full' | 'lora';
}

export async function saveCheckpoint(policy: Policy, state: TrainerState, config: unknown): Promise<Uint8Array> {
  const rt = policy.rt;
  const tensors: WritableTensor[] = [];
  for (const p of policy.params) {
    for (const [suffix, t] of [['', p.param], ['.adam_m', p.m], ['.adam_v', p.v]] as const) {
      tensors.push({ name: `${p.name}${suffix}`, dtype: 'F32', shape: [...t.shape], data: (await rt.read(t)) as Float32Array });
    }
  }
  const meta: CheckpointMeta = { format: 'tool-n1-studio-checkpoint', version: 1, state, config, mode: policy.settings.mode };
  return writeSafetensors(tensors, { checkpoint: JSON.stringify(meta) });
}

export class CheckpointError extends Error {
  constructor(where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.name = 'CheckpointError';
  }
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The metadata, every field checked: a checkpoint that lacks or mistypes its state is refused, never guessed at. */
export function readCheckpointMeta(bytes: Uint8Array, where: string): CheckpointMeta {
  const { metadata } = parseSafetensors(bytes, where);
  return parseCheckpointMeta(metadata.checkpoint, where);
}

/** The "checkpoint" metadata string → its validated metadata. */
export function parseCheckpointMeta(raw: string | undefined, where: string): CheckpointMeta {
  if (!raw) throw new CheckpointError(where, 'not a Tool-N1 Studio checkpoint (no "checkpoint" metadata)');
  let meta: unknown;
  try {
    meta = JSON.parse(raw);
  } catch (e) {
    throw new CheckpointError(where, `its "checkpoint" metadata is not JSON (${(e as Error).message})`);
  }
  const fail = (problem: string): never => {
    throw new CheckpointError(where, problem);
  };
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) fail('its "checkpoint" metadata is not a JSON object');
  const m = meta as Record<string, unknown>;
  if (m.format !== 'tool-n1-studio-checkpoint') fail(`format ${JSON.stringify(m.format)} is not "tool-n1-studio-checkpoint"`);
  if (m.version !== 1) fail(`unsupported checkpoint version ${JSON.stringify(m.version)} (this build reads version 1)`);
  if (m.mode !== 'full' && m.mode !== 'lora') fail(`mode must be "full" or "lora", got ${JSON.stringify(m.mode)}`);
  const state = m.state as Record<string, unknown> | null;
  if (typeof state !== 'object' || state === null || Array.isArray(state)) fail(`state must be an object, got ${JSON.stringify(m.state)}`);
  for (const field of ['step', 'optimizerSteps'] as const) {
    if (!isCount(state![field])) fail(`state.${field} must be a whole number ≥ 0, got ${JSON.stringify(state![field])}`);
  }
  if ((state!.optimizerSteps as number) > (state!.step as number)) fail(`state.optimizerSteps ${state!.optimizerSteps} exceeds state.step ${state!.step}`);
  const rng = state!.rngState;
  if (!(Number.isInteger(rng) && (rng as number) >= 0 && (rng as number) < 2 ** 32)) fail(`state.rngState must be a 32-bit unsigned integer, got ${JSON.stringify(rng)}`);
  if (typeof m.config !== 'object' || m.config === null || Array.isArray(m.config)) fail(`config must be an object, got ${JSON.stringify(m.config)}`);
  return meta as CheckpointMeta;
}

/**
 * Writes a checkpoint's tensors into a policy built with the same model and settings; returns its metadata.
 * Everything is checked first (metadata, every tensor's name, shape and values against the policy), so a bad
 * checkpoint changes nothing: neither the policy nor the file.
 */
export function restoreCheckpoint(policy: Policy, bytes: Uint8Array, where: string): CheckpointMeta {
  const meta = readCheckpointMeta(bytes, where);
  if (meta.mode !== policy.settings.mode) throw new CheckpointError(where, `a ${meta.mode} checkpoint cannot resume a ${policy.settings.mode} run`);
  const { tensors } = parseSafetensors(bytes, where);
  const writes: [Tensor, TensorView][] = [];
  for (const p of policy.params) {
    for (const [suffix, t] of [['', p.param], ['.adam_m', p.m], ['.adam_v', p.v]] as const) {
      const name = `${p.name}${suffix}`;
      const view = tensors.get(name);
      if (!view) throw new CheckpointError(where, `tensor ${name} is missing (does the run's model and ${policy.settings.mode === 'lora' ? 'LoRA rank/targets' : 'mode'} match?)`);
      if (view.shape.join() !== t.shape.join()) throw new CheckpointError(where, `${name} has shape [${view.shape}], the policy needs [${t.shape}]`);
      if (view.dtype !== 'F32') throw new CheckpointError(where, `${name} has dtype ${view.dtype}, checkpoints hold F32`);
      const bad = firstNonFinite(view);
      if (bad) throw new CheckpointError(where, `${name} holds ${bad.value} at element ${bad.index}`);
      writes.push([t, view]);
    }
  }
  const extra = tensors.size - writes.length;
  if (extra > 0) {
    const known = new Set(policy.params.flatMap((p) => [p.name, `${p.name}.adam_m`, `${p.name}.adam_v`]));
    const first = [...tensors.keys()].find((n) => !known.has(n));
    throw new CheckpointError(where, `tensor ${first} is not part of this policy (${extra} such tensors: another model or LoRA setting?)`);
  }
  for (const [t, view] of writes) policy.rt.write(t, toFloat32(view));
  return meta;
}

/** PEFT's adapter_model.safetensors + adapter_config.json for a LoRA policy. */
export async function exportPeft(policy: Policy, baseModel: string): Promise<{ adapter: Uint8Array; config: string }> {
  const lora = policy.settings.lora;
  if (policy.settings.mode !== 'lora' || !lora) throw new Error('PEFT export needs a LoRA policy');
  const tensors: WritableTensor[] = [];
  for (const p of policy.params) tensors.push({ name: p.name, dtype: 'F32', shape: [...p.param.shape], data: (await policy.rt.read(p.param)) as Float32Array });
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModel,
    r: lora.rank,
    lora_alpha: lora.alpha,
    lora_dropout: 0,
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    target_modules: lora.targets.map((t) => PEFT_MODULE[t].split('.')[1]),
    inference_mode: true,
  };
  return { adapter: writeSafetensors(tensors, { format: 'pt' }), config: JSON.stringify(config, null, 2) };
}

/** A tensor written back in a given dtype (bf16 and f16 rounded to nearest even). */
function inDtype(name: string, shape: number[], dtype: SafetensorsDType, data: Float32Array): WritableTensor {
  if (dtype === 'F32') return { name, dtype, shape, data };
  const toBits = dtype === 'BF16' ? f32ToBf16Bits : f32ToF16Bits;
  const bits = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) bits[i] = toBits(data[i]);
  return { name, dtype: dtype as 'F16' | 'BF16', shape, data: bits };
}

/** A loaded tensor as it is, bytes untouched. */
function asIs(view: TensorView): WritableTensor {
  if (view.dtype === 'F32') return { name: view.name, dtype: 'F32', shape: view.shape, data: toFloat32(view) };
  const aligned = view.bytes.byteOffset % 2 === 0 ? view.bytes : new Uint8Array(view.bytes);
  return { name: view.name, dtype: view.dtype as 'F16' | 'BF16', shape: view.shape, data: new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length / 2) };
}

/**
 * Merged weights in Hugging Face layout, every tensor in the base checkpoint's dtype (a BF16 base gives BF16):
 * the trained tensors for full fine-tuning, or base + scale·B·A (summed in f32) for LoRA. Untouched tensors
 * are the base's bytes.
 */
export async function exportMerged(policy: Policy, base: LoadedModel): Promise<Uint8Array> {
  const rt = policy.rt;
  const out = new Map<string, WritableTensor>();
  for (const [name, view] of base.tensors) out.set(name, asIs(view));
  const put = (name: string, data: Float32Array) => {
    const view = base.tensors.get(name)!;
    out.set(name, inDtype(name, view.shape, view.dtype, data));
  };
  if (policy.settings.mode === 'full') {
    for (const p of policy.params) {
      const all = (await rt.read(p.param)) as Float32Array;
      const cols = p.param.shape.length === 2 ? p.param.shape[1] : 1;
      for (const s of policy.hfSlices.get(p.name)!) put(s.hfName, all.slice(s.rowStart * cols, (s.rowStart + s.rows) * cols));
    }
  } else {
    const merged = new Map<string, Float32Array>();
    for (const [l, layer] of (policy.model.adapters ?? []).entries()) {
      for (const adapters of Object.values(layer)) {
        for (const a of adapters) {
          const name = `model.layers.${l}.${PEFT_MODULE[a.target as LoraTarget]}.weight`;
          const W = merged.get(name) ?? toFloat32(base.tensors.get(name)!).slice();
          merged.set(name, W);
          const A = (await rt.read(a.A)) as Float32Array;
          const B = (await rt.read(a.B)) as Float32Array;
          addLowRank(W, A, B, a.scale, a.A.shape[0], a.A.shape[1], a.B.shape[0]);
        }
      }
    }
    for (const [name, W] of merged) put(name, W);
  }
  return writeSafetensors([...out.values()], { format: 'pt' });
}
