// Embedding gather launcher over shaders/embedding.wgsl.
import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { params } from './grid.ts';
import { weightKernel } from './weight-type.ts';

/** out[r, :] = table[ids[r], :] for r < rows */
export function embedding(rt: GpuRuntime, ids: Tensor, table: Tensor, out: Tensor, rows: number): void {
  const [vocab, dim] = table.shape;
  rt.dispatch({
    kernel: weightKernel('embedding', 'main', table),
    buffers: [ids, table, out],
    params: params([rows, dim, vocab]),
    workgroups: [Math.ceil(dim / 256), rows],
  });
}
