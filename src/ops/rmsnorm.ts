// RMSNorm launcher over shaders/rmsnorm.wgsl.
import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { grid1d, params } from './grid.ts';
import { weightKernel } from './weight-type.ts';

const kernel = (entry: string, w: Tensor, constants?: Record<string, number>) => ({
  ...weightKernel('rmsnorm', entry, w, constants),
  includes: ['workgroup_reduce'],
});

/** y = x / rms(x) · w over `rows` rows of w.size; writes 1/rms per row into rstd. */
export function rmsnorm(rt: GpuRuntime, x: Tensor, w: Tensor, y: Tensor, rstd: Tensor, rows: number, eps: number): void {
  if (rt.info.subgroups) {
    // One row per subgroup: as many per workgroup as the largest subgroups make.
    const perWorkgroup = Math.max(1, Math.floor(64 / (rt.info.subgroupMaxSize || 64)));
    const k = kernel('forward_subgroups', w);
    rt.dispatch({
      kernel: { ...k, includes: [...k.includes, 'rmsnorm_subgroups'], enables: [...(k.enables ?? []), 'subgroups'] },
      buffers: [x, w, y, rstd],
      params: params([rows, w.size], [eps]),
      workgroups: grid1d(rt, Math.ceil(rows / perWorkgroup)),
    });
  } else {
    rt.dispatch({
      kernel: kernel('forward', w),
      buffers: [x, w, y, rstd],
      params: params([rows, w.size], [eps]),
      workgroups: grid1d(rt, rows),
    });
  }
}

/**
 * Backward of rmsnorm from the saved rstd: dx = (or += with accumulate, for a residual stream) the input
 * gradient; dw += the weight gradient summed over rows (pass null for a frozen weight).
 */
export function rmsnormBackward(
  rt: GpuRuntime,
  x: Tensor,
  w: Tensor,
  rstd: Tensor,
  dy: Tensor,
  dx: Tensor,
  dw: Tensor | null,
  rows: number,
  accumulate = false,
): void {
  const p = params([rows, w.size]);
  rt.dispatch({
    kernel: kernel('backward', w, accumulate ? { ACCUMULATE: 1 } : undefined),
    buffers: [x, w, rstd, dy, dx, null],
    params: p,
    workgroups: grid1d(rt, rows),
  });
  if (dw) {
    rt.dispatch({
      kernel: kernel('backward_weight', w),
      buffers: [x, null, rstd, dy, null, dw],
      params: p,
      workgroups: [Math.ceil(w.size / 32)],
    });
  }
}
