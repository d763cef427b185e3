// A loaded checkpoint → a Qwen2Model on the GPU.
import type { DType, GpuRuntime } from '../gpu/runtime.ts';
import type { LoadedModel } from './source.ts';
import { Qwen2Model } from './model.ts';
import { frozenDtype, uploadWeights } from './weights.ts';

export interface InstantiateOptions {
  /** longest sequence (prompt + completion) the model will run; sizes the rope tables */
  maxPositions?: number;
  /** element type of the weight matrices; default f16 when the adapter has it */
  matrixDtype?: DType;
}

export function instantiateModel(rt: GpuRuntime, loaded: LoadedModel, opts: InstantiateOptions = {}): Qwen2Model {
  const cfg = loaded.config;
  const maxPositions = Math.min(opts.maxPositions ?? 4096, cfg.maxPositionEmbeddings);
  if (!(Number.isSafeInteger(maxPositions) && maxPositions >= 1)) throw new Error(`${loaded.source}: cannot run ${maxPositions} positions`);
  // Each of the cos and sin tables is one binding of maxPositions · headDim/2 floats.
  const ropeBytes = maxPositions * (cfg.headDim / 2) * 4;
  if (ropeBytes > rt.device.limits.maxStorageBufferBindingSize) {
    throw new Error(
      `${loaded.source}: ${maxPositions} positions need RoPE tables of ${(ropeBytes / 2 ** 20).toFixed(1)} MiB each, more than this ` +
        `GPU binds (maxStorageBufferBindingSize ${(rt.device.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(1)} MiB): ask for fewer positions`,
    );
  }
  const get = (name: string) => {
    const t = loaded.tensors.get(name);
    if (!t) throw new Error(`${loaded.source}: tensor ${name} missing`);
    return t;
  };
  const weights = uploadWeights(rt, cfg, get, opts.matrixDtype ?? frozenDtype(rt));
  return new Qwen2Model(rt, cfg, weights, maxPositions);
}
