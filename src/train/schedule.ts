// Learning-rate schedules: constant, or linear warm-up followed by a linear or cosine decay to minLr.

export type LrSchedule =
  | { kind: 'constant'; lr: number; warmupSteps?: number }
  | { kind: 'linear' | 'cosine'; lr: number; warmupSteps?: number; totalSteps: number; minLr?: number };

/**
 * Learning rate for optimizer step `step` (0-based). Warm-up ramps lr·(step+1)/warmup so the first step
 * already moves (as llm.c); decay then runs from lr at the end of warm-up to minLr at totalSteps, and stays there.
 */
export function learningRate(s: LrSchedule, step: number): number {
  const warmup = s.warmupSteps ?? 0;
  if (step < warmup) return (s.lr * (step + 1)) / warmup;
  if (s.kind === 'constant') return s.lr;
  if (s.totalSteps <= warmup) throw new Error(`schedule: totalSteps ${s.totalSteps} must exceed warmupSteps ${warmup}`);
  const minLr = s.minLr ?? 0;
  const progress = Math.min(1, (step - warmup) / (s.totalSteps - warmup));
  const shape = s.kind === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
  return minLr + (s.lr - minLr) * shape;
}
