// Learning-rate schedules: constant, linear and cosine decay after warm-up.
import { describe, expect, it } from 'vitest';
import { learningRate } from '../../src/train/schedule.ts';

describe('learning-rate schedules', () => {
  it('constant, with and without warm-up', () => {
    expect([0, 5, 1000].map((s) => learningRate({ kind: 'constant', lr: 3e-4 }, s))).toEqual([3e-4, 3e-4, 3e-4]);
    const s = { kind: 'constant', lr: 1, warmupSteps: 4 } as const;
    expect([0, 1, 2, 3, 4, 99].map((t) => learningRate(s, t))).toEqual([0.25, 0.5, 0.75, 1, 1, 1]);
  });

  it('linear decay after warm-up reaches minLr at totalSteps and stays there', () => {
    const s = { kind: 'linear', lr: 1, warmupSteps: 2, totalSteps: 12, minLr: 0.1 } as const;
    expect(learningRate(s, 0)).toBe(0.5);
    expect(learningRate(s, 2)).toBe(1);
    expect(learningRate(s, 7)).toBeCloseTo(0.55, 12);
    expect(learningRate(s, 12)).toBeCloseTo(0.1, 12);
    expect(learningRate(s, 50)).toBeCloseTo(0.1, 12);
  });

  it('cosine decay: full lr after warm-up, midpoint halfway, minLr at the end, monotone between', () => {
    const s = { kind: 'cosine', lr: 2, warmupSteps: 10, totalSteps: 110 } as const;
    expect(learningRate(s, 10)).toBe(2);
    expect(learningRate(s, 60)).toBeCloseTo(1, 12);
    expect(learningRate(s, 110)).toBeCloseTo(0, 12);
    for (let t = 10; t < 110; t++) expect(learningRate(s, t + 1)).toBeLessThanOrEqual(learningRate(s, t));
  });

  it('rejects a decay that ends before warm-up does', () => {
    expect(() => learningRate({ kind: 'cosine', lr: 1, warmupSteps: 10, totalSteps: 10 }, 10)).toThrow(/totalSteps/);
  });
});
