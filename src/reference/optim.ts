// Plain TypeScript reference for the optimizer (f64): global gradient norm and AdamW as PyTorch does it.
import type { AdamWConfig } from '../ops/optim.ts';

export function gradNormRef(grads: readonly ArrayLike<number>[]): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/**
 * One AdamW step in place (t ≥ 1): grads scaled by clip_grad_norm_'s min(1, maxNorm / (norm + 1e-6)),
 * then torch.optim.AdamW (decoupled decay p ← p·(1 − lr·wd), bias-corrected moments). Skipped when the
 * norm is not finite.
 */
export function adamwRef(p: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, norm: number, c: AdamWConfig, t: number): void {
  if (!Number.isFinite(norm)) return;
  const scale = c.maxNorm > 0 ? Math.min(1, c.maxNorm / (norm + 1e-6)) : 1;
  const bc1 = 1 - c.beta1 ** t;
  const bc2 = 1 - c.beta2 ** t;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] * scale;
    m[i] = c.beta1 * m[i] + (1 - c.beta1) * gi;
    v[i] = c.beta2 * v[i] + (1 - c.beta2) * gi * gi;
    p[i] = p[i] * (1 - c.lr * c.weightDecay) - ((c.lr / bc1) * m[i]) / (Math.sqrt(v[i]) / Math.sqrt(bc2) + c.eps);
  }
}
