// Hugging Face tensors → GPU weights in the engine's layout (QKV and gate|up fused), f16 or f32.
import type { DType, GpuRuntime, Tensor } from '../gpu/runtime.ts';
import type { Qwen2Config } from './config.ts';
import { toF16Bits, toFloat32, type TensorView } from './safetensors.ts';
import type { ModelWeights } from './model.ts';

export type TensorLookup = (name: string) => TensorView;

/** Stacks tensors row-wise (dim 0) on the host. */
function stack(parts: TensorView[], dtype: DType): Float32Array | Uint16Array {
  const arrays = parts.map((p) => (dtype === 'f16' ? toF16Bits(p) : toFloat32(p)));
  if (arrays.length === 1) return arrays[0]; // a view of the file when no conversion was needed: only read
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const out = dtype === 'f16' ? new Uint16Array(total) : new Float32Array(total);
  let at = 0;
  for (const a of arrays) {
    out.set(a as never, at);
    at += a.length;
  }
  return out;
}

/**
 * Uploads every weight. Matrices take `matrixDtype` (f16 for frozen weights on adapters with shader-f16);
 * norms and biases stay f32. Throws a clear error when a tensor exceeds what one binding can hold.
 */
export function uploadWeights(rt: GpuRuntime, cfg: Qwen2Config, get: TensorLookup, matrixDtype: DType): ModelWeights {
  const maxBinding = rt.device.limits.maxStorageBufferBindingSize;
  const upload = (name: string, parts: TensorView[], dtype: DType): Tensor => {
    const rows = parts.reduce((n, p) => n + p.shape[0], 0);
    const shape = parts[0].shape.length === 1 ? [rows] : [rows, parts[0].shape[1]];
    const bytes = shape.reduce((a, b) => a * b, 1) * (dtype === 'f16' ? 2 : 4);
    if (bytes > maxBinding) {
      throw new Error(
        `model too big for this GPU: ${name} needs ${(bytes / 2 ** 20).toFixed(1)} MiB in one binding, the adapter allows ` +
          `${(maxBinding / 2 ** 20).toFixed(1)} MiB (maxStorageBufferBindingSize)`,
      );
    }
    return rt.upload(shape, stack(parts, dtype), dtype, name, true); // exact size: no size-class rounding
  };
  const layers = Array.from({ length: cfg.numLayers }, (_, i) => {
    const p = `model.layers.${i}`;
    const attn = (n: string) => get(`${p}.self_attn.${n}`);
    return {
      inputNorm: upload(`${p}.input_layernorm`, [get(`${p}.input_layernorm.weight`)], 'f32'),
      qkv: upload(`${p}.qkv`, [attn('q_proj.weight'), attn('k_proj.weight'), attn('v_proj.weight')], matrixDtype),
      qkvBias: upload(`${p}.qkv_bias`, [attn('q_proj.bias'), attn('k_proj.bias'), attn('v_proj.bias')], 'f32'),
      o: upload(`${p}.o_proj`, [attn('o_proj.weight')], matrixDtype),
      postNorm: upload(`${p}.post_attention_layernorm`, [get(`${p}.post_attention_layernorm.weight`)], 'f32'),
      gateUp: upload(`${p}.gate_up`, [get(`${p}.mlp.gate_proj.weight`), get(`${p}.mlp.up_proj.weight`)], matrixDtype),
      down: upload(`${p}.down_proj`, [get(`${p}.mlp.down_proj.weight`)], matrixDtype),
    };
  });
  const embed = upload('model.embed_tokens', [get('model.embed_tokens.weight')], matrixDtype);
  return {
    embed,
    layers,
    norm: upload('model.norm', [get('model.norm.weight')], 'f32'),
    lmHead: cfg.tieWordEmbeddings ? embed : upload('lm_head', [get('lm_head.weight')], matrixDtype),
  };
}

/** Frozen weights go to f16 where the adapter has shader-f16 (half the memory and bandwidth), else f32. */
export function frozenDtype(rt: GpuRuntime): DType {
  return rt.info.f16 ? 'f16' : 'f32';
}
