// Optimizer launchers over shaders/optim.wgsl: global gradient norm and AdamW with clipping, no readback.
import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { grid1d, params } from './grid.ts';

const OPTIM = { shader: 'optim', includes: ['workgroup_reduce'] };

/** Workgroups per tensor in the first norm stage: fixed by the size alone, so the sum order is too. */
const SUMSQ_MAX_WORKGROUPS = 256;

function sumsqWorkgroups(n: number): number {
  return Math.max(1, Math.min(SUMSQ_MAX_WORKGROUPS, Math.ceil(n / 256)));
}

/** norm[0] = sqrt(Σ over all grads of Σ g²), computed deterministically on the GPU (NaN/Inf propagate). */
export function gradNorm(rt: GpuRuntime, grads: readonly Tensor[], norm: Tensor): void {
  const count = grads.reduce((n, g) => n + sumsqWorkgroups(g.size), 0);
  const partials = rt.empty([count], 'f32', 'optim.partials');
  let off = 0;
  for (const g of grads) {
    const wgs = sumsqWorkgroups(g.size);
    rt.dispatch({ kernel: { ...OPTIM, entry: 'sumsq' }, buffers: [g, partials], params: params([g.size, off]), workgroups: [wgs] });
    off += wgs;
  }
  rt.dispatch({ kernel: { ...OPTIM, entry: 'norm' }, buffers: [null, partials, norm], params: params([count]), workgroups: [1] });
  partials.release();
}

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** clip the global gradient norm to this; 0 = no clipping */
  maxNorm: number;
}

/**
 * One AdamW step (t ≥ 1 counts applied steps) on a flat f32 tensor, with grad scaled by
 * min(1, maxNorm / (norm + 1e-6)) from the GPU norm buffer. Does nothing when norm[0] is NaN or Inf.
 */
export function adamw(rt: GpuRuntime, param: Tensor, grad: Tensor, m: Tensor, v: Tensor, norm: Tensor, c: AdamWConfig, t: number): void {
  if (t < 1) throw new Error(`adamw: step ${t} must be ≥ 1`);
  const n = param.size;
  rt.dispatch({
    kernel: { ...OPTIM, entry: 'adamw' },
    buffers: [param, grad, m, v, norm],
    params: params(
      [n, 0, 0, 0],
      [
        c.beta1, c.beta2, 1 - c.beta1, 1 - c.beta2, c.eps, c.maxNorm,
        c.lr / (1 - c.beta1 ** t), 1 / Math.sqrt(1 - c.beta2 ** t), 1 - c.lr * c.weightDecay,
      ],
    ),
    workgroups: grid1d(rt, Math.ceil(n / 256)),
  });
}

export interface ParamState {
  param: Tensor;
  grad: Tensor;
  m: Tensor;
  v: Tensor;
  /** overrides the config's weight decay (norms and biases usually take 0) */
  weightDecay?: number;
}

/** Global norm of all grads into norm[0], then AdamW on each tensor; read norm[0] afterwards to log it
 * and to know whether the step was applied (finite) or skipped (NaN/Inf). */
export function optimizerStep(rt: GpuRuntime, states: readonly ParamState[], norm: Tensor, c: AdamWConfig, t: number): void {
  gradNorm(rt, states.map((s) => s.grad), norm);
  for (const s of states) adamw(rt, s.param, s.grad, s.m, s.v, norm, { ...c, weightDecay: s.weightDecay ?? c.weightDecay }, t);
}
