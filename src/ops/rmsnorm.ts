// RMSNorm launcher over shaders/rmsnorm.wgsl.
import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { grid1d, params } from './grid.ts';
import { weightKernel } from './weight-type.ts';

/** y = x / rms(x) · w over `rows` rows of w.size; writes 1/rms per row into rstd. */
export function rmsnorm(rt: GpuRuntime, x: Tensor, w: Tensor, y: Tensor, rstd: Tensor, rows: number, eps: number): void {
  rt.dispatch({
    kernel: weightKernel('rmsnorm', 'forward', w),
    buffers: [x, w, y, rstd],
    params: params([rows, w.size], [eps]),
    workgroups: grid1d(rt, rows),
  });
}
