// C (+)= A·Bᵀ (+ bias) launchers over shaders/matmul.wgsl. The weight B may be f16.
import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { grid1d, params } from './grid.ts';
import { weightKernel } from './weight-type.ts';

export interface MatmulView {
  M: number;
  N: number;
  K: number;
  /** element (m, k) of A at aOff + m*aSm + k*aSk; element (n, k) of B at bOff + n*bSn + k*bSk */
  aSm: number;
  aSk: number;
  bSn: number;
  bSk: number;
  aOff?: number;
  bOff?: number;
  cOff?: number;
  /** row stride of C (defaults to N); larger when writing a column slice */
  cSm?: number;
  /** scales the product (not the bias) */
  alpha?: number;
}

const SKINNY_MAX_ROWS = 8;

export function matmul(
  rt: GpuRuntime,
  a: Tensor,
  b: Tensor,
  c: Tensor,
  v: MatmulView,
  opts: { bias?: Tensor; accumulate?: boolean } = {},
): void {
  if (a.dtype !== 'f32' || c.dtype !== 'f32') throw new Error('matmul: A and C must be f32');
  const skinny = v.M <= SKINNY_MAX_ROWS;
  const rows = skinny ? (v.M <= 1 ? 1 : v.M <= 2 ? 2 : v.M <= 4 ? 4 : 8) : 1;
  const constants: Record<string, number> = {};
  if (opts.bias) constants.HAS_BIAS = 1;
  if (opts.accumulate) constants.ACCUMULATE = 1;
  if (skinny) constants.ROWS = rows;
  rt.dispatch({
    kernel: weightKernel('matmul', skinny ? 'skinny' : 'tiled', b, constants),
    buffers: [a, b, opts.bias ?? rt.placeholder, c],
    params: params(
      [v.M, v.N, v.K, 0, v.aSm, v.aSk, v.bSn, v.bSk, v.aOff ?? 0, v.bOff ?? 0, v.cOff ?? 0, v.cSm ?? v.N],
      [v.alpha ?? 1],
    ),
    workgroups: skinny ? grid1d(rt, Math.ceil(v.N / 4)) : [Math.ceil(v.N / 64), Math.ceil(v.M / 64)],
  });
}

/** y[M,N] = x[M,K] · w[N,K]ᵀ (+ bias): a linear layer with weights stored [out, in]. */
export function linear(rt: GpuRuntime, x: Tensor, w: Tensor, y: Tensor, M: number, bias?: Tensor, accumulate = false): void {
  const [N, K] = w.shape;
  matmul(rt, x, w, y, { M, N, K, aSm: K, aSk: 1, bSn: K, bSk: 1 }, { bias, accumulate });
}

/** dx[M,K] (+)= dy[M,N] · w[N,K] */
export function linearBackwardInput(rt: GpuRuntime, dy: Tensor, w: Tensor, dx: Tensor, M: number, accumulate = false): void {
  const [N, K] = w.shape;
  matmul(rt, dy, w, dx, { M, N: K, K: N, aSm: N, aSk: 1, bSn: 1, bSk: K }, { accumulate });
}

/** dw[N,K] (+)= dy[M,N]ᵀ · x[M,K] */
export function linearBackwardWeight(rt: GpuRuntime, dy: Tensor, x: Tensor, dw: Tensor, M: number, accumulate = false): void {
  const [N, K] = dw.shape;
  matmul(rt, dy, x, dw, { M: N, N: K, K: M, aSm: 1, aSk: N, bSn: 1, bSk: K }, { accumulate });
}
