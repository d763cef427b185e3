// SwiGLU launcher over shaders/swiglu.wgsl (gate and up fused in one [rows, 2·I] tensor).
import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { params } from './grid.ts';

export function swiglu(rt: GpuRuntime, gu: Tensor, h: Tensor, rows: number, inter: number): void {
  rt.dispatch({
    kernel: { shader: 'swiglu', entry: 'forward' },
    buffers: [gu, h],
    params: params([rows, inter]),
    workgroups: [Math.ceil(inter / 256), rows],
  });
}

/** dgu [rows, 2·I] (gate | up) from dh [rows, I] and the forward's input gu. */
export function swigluBackward(rt: GpuRuntime, gu: Tensor, dh: Tensor, dgu: Tensor, rows: number, inter: number): void {
  rt.dispatch({
    kernel: { shader: 'swiglu', entry: 'backward' },
    buffers: [gu, dh, dgu],
    params: params([rows, inter]),
    workgroups: [Math.ceil(inter / 256), rows],
  });
}
