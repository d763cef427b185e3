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
