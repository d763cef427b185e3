// Embedding gather launcher over shaders/embedding.wgsl.
import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { params } from './grid.ts';
import { weightKernel } from './weight-type.ts';

/** out[r, :] = table[ids[r], :] for r < rows */
export function embedding(rt: GpuRuntime, ids: Tensor, table: Tensor, out: Tensor, rows: number): void {
  const [vocab, dim] = table.shape;
  rt.dispatch({
    kernel: weightKernel('embedding', 'forward', table),
    buffers: [ids, table, out],
    params: params([rows, dim, vocab]),
    workgroups: [Math.ceil(dim / 256), rows],
  });
}

/** Token buckets of the embedding backward: more workgroups, same per-token row order. */
const EMBED_BWD_BUCKETS = 16;

/** dTable[ids[r], :] += dOut[r, :] for r < rows (dTable f32 [vocab, dim]; zero it to start a step). */
export function embeddingBackward(rt: GpuRuntime, ids: Tensor, dOut: Tensor, dTable: Tensor, rows: number): void {
  const [vocab, dim] = dTable.shape;
  rt.dispatch({
    kernel: weightKernel('embedding', 'backward', dTable),
    buffers: [ids, dOut, dTable],
    params: params([rows, dim, vocab, EMBED_BWD_BUCKETS]),
    workgroups: [Math.ceil(dim / 64), EMBED_BWD_BUCKETS],
  });
}
