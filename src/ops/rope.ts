// Rotary embedding: the cos/sin table (computed like Hugging Face's, in f32) and the in-place launcher.
import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { params } from './grid.ts';

/** cos and sin of pos · θ^(−2j/hd) for pos < maxPos, j < hd/2, rounded through f32 as PyTorch does. */
export function ropeTables(headDim: number, theta: number, maxPos: number): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const invFreq = new Float32Array(half);
  for (let j = 0; j < half; j++) invFreq[j] = 1 / Math.pow(theta, (2 * j) / headDim);
  const cos = new Float32Array(maxPos * half);
  const sin = new Float32Array(maxPos * half);
  for (let pos = 0; pos < maxPos; pos++) {
    for (let j = 0; j < half; j++) {
      const angle = Math.fround(pos * invFreq[j]);
      cos[pos * half + j] = Math.cos(angle);
      sin[pos * half + j] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

export interface RopeView {
  rows: number;
  heads: number;
  headDim: number;
  /** floats between consecutive rows of x, and the column where the first head starts */
  rowStride: number;
  colOff: number;
}

/** Rotates `heads` vectors per row in place by each row's position; inverse = the backward rotation. */
export function rope(
  rt: GpuRuntime,
  x: Tensor,
  positions: Tensor,
  cos: Tensor,
  sin: Tensor,
  v: RopeView,
  inverse = false,
): void {
  rt.dispatch({
    kernel: { shader: 'rope', entry: 'rotate', constants: inverse ? { INVERSE: 1 } : undefined },
    buffers: [x, positions, cos, sin],
    params: params([v.rows, v.heads, v.headDim, v.rowStride, v.colOff]),
    workgroups: [Math.ceil((v.heads * v.headDim) / 2 / 64), v.rows],
  });
}
