// Elementwise launchers over shaders/elementwise.wgsl.
import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { grid1d, params } from './grid.ts';

export function add(rt: GpuRuntime, a: Tensor, b: Tensor, out: Tensor, n = a.size): void {
  rt.dispatch({
    kernel: { shader: 'elementwise', entry: 'add' },
    buffers: [a, b, out],
    params: params([n]),
    workgroups: grid1d(rt, Math.ceil(n / 256)),
  });
}

/**
 * t[dstOff + c·dstStride + i] = t[srcOff + i] for i < n, c < copies, within one 4-byte-element tensor.
 * Source and destinations must not overlap.
 */
export function replicateWithin(rt: GpuRuntime, t: Tensor, srcOff: number, n: number, dstOff: number, dstStride: number, copies: number): void {
  if (copies === 0 || n === 0) return;
  rt.dispatch({
    kernel: { shader: 'elementwise', entry: 'replicate' },
    buffers: [t],
    params: params([n, srcOff, dstOff, dstStride]),
    workgroups: [Math.ceil(n / 256), copies],
  });
}
