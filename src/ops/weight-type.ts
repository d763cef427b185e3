// Kernels that read a weight tensor are compiled per weight element type (f32, or f16 with shader-f16).
import type { Tensor } from '../gpu/runtime.ts';
import type { KernelSpec } from '../gpu/kernels.ts';

export function weightKernel(shader: string, entry: string, weight: Tensor, constants?: Record<string, number>): KernelSpec {
  const f16 = weight.dtype === 'f16';
  return { shader, entry, constants, aliases: { WT: f16 ? 'f16' : 'f32' }, enables: f16 ? ['f16'] : [] };
}
