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

/** decode of a GRPO micro-batch: the skinny kernels take rows in blocks of 8 (MAX_ROWS), re-reading cached weights */
const SKINNY_MAX_ROWS = 32;
/** shaders/matmul.wgsl: SK_THREADS, SK_COLS */
const SKINNY_THREADS = 64;
const SKINNY_COLS = 4;
const FLAG_BIAS = 1;
const FLAG_ACCUMULATE = 2;

/** The skinny kernels read A and B as vec4 along K when both are contiguous there, K a multiple of 4. */
function vec4Along(v: MatmulView): boolean {
  const aligned = (...xs: number[]) => xs.every((x) => x % 4 === 0);
  return v.aSk === 1 && v.bSk === 1 && aligned(v.K, v.aSm, v.bSn, v.aOff ?? 0, v.bOff ?? 0);
}

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
  const flags = (opts.bias ? FLAG_BIAS : 0) | (opts.accumulate ? FLAG_ACCUMULATE : 0);
  // One pipeline per entry and weight type: shapes, strides, bias and accumulation are uniforms.
  let kernel = weightKernel('matmul', 'tiled', b);
  let blocksPerWorkgroup = 1; // blocks of SKINNY_COLS output columns
  if (skinny && !vec4Along(v)) kernel = weightKernel('matmul', 'skinny', b);
  else if (skinny && rt.info.subgroups) {
    kernel = { ...weightKernel('matmul', 'skinny_vec4_subgroups', b), includes: ['matmul_subgroups'] };
    kernel.enables = [...(kernel.enables ?? []), 'subgroups'];
    // One block per subgroup: as many as the largest subgroups make (smaller ones leave some idle).
    const lanes = rt.info.subgroupMaxSize || SKINNY_THREADS;
    blocksPerWorkgroup = Math.max(1, Math.floor(SKINNY_THREADS / lanes));
  } else if (skinny) kernel = weightKernel('matmul', 'skinny_vec4', b);
  rt.dispatch({
    kernel,
    buffers: [a, b, opts.bias ?? rt.placeholder, c],
    params: params(
      [v.M, v.N, v.K, flags, v.aSm, v.aSk, v.bSn, v.bSk, v.aOff ?? 0, v.bOff ?? 0, v.cOff ?? 0, v.cSm ?? v.N],
      [v.alpha ?? 1],
    ),
    workgroups: !skinny ? [Math.ceil(v.N / 64), Math.ceil(v.M / 64)] : grid1d(rt, Math.ceil(v.N / SKINNY_COLS / blocksPerWorkgroup)),
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
