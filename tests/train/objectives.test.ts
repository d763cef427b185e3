import { describe, expect, it } from 'vitest';
import { groupAdvantages, grpoObjective, sftObjective, type GrpoSettings, type TokenSeq } from '../../src/train/objectives.ts';
import { Rng } from '../../src/util/random.ts';

const base: GrpoSettings = { lossType: 'grpo', epsilonLow: 0.2, epsilonHigh: 0.28, beta: 0.04, klClamp: null, maxCompletionLength: 8 };

function randomSeqs(rng: Rng): TokenSeq[] {
  return [3, 5, 1].map((n) => ({
    logprobs: Array.from({ length: n }, () => -rng.next() * 3),
    oldLogprobs: Array.from({ length: n }, () => -rng.next() * 3),
    refLogprobs: Array.from({ length: n }, () => -rng.next() * 3),
    advantage: rng.normal(),
  }));
}

describe('group advantages', () => {
  it('normalise per group with the unbiased std; equal groups get zero', () => {
    const a = groupAdvantages([1, 0, 0, 1, 1, 1], 3, 'group', 1e-6);
    const std = Math.sqrt(((1 - 1 / 3) ** 2 + 2 * (1 / 3) ** 2) / 2);
    expect(a[0]).toBeCloseTo((2 / 3) / (std + 1e-6), 6);
    expect(a.slice(3)).toEqual([0, 0, 0]);
  });
  it('batch scaling divides by the batch std; none only centres', () => {
    const r = [1, 0, 0, 0];
    const none = groupAdvantages(r, 2, 'none', 1e-4);
    expect(none).toEqual([0.5, -0.5, 0, 0]);
    const batch = groupAdvantages(r, 2, 'batch', 1e-4);
    expect(batch[0]).toBeCloseTo(0.5 / (0.5 + 1e-4), 6);
  });
});

describe('GRPO objective', () => {
  for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as const) {
    it(`${lossType}: dL/dlogp matches finite differences of the loss`, () => {
      const rng = new Rng(lossType.length);
      const seqs = randomSeqs(rng);
      const s = { ...base, lossType };
      const { dlogp } = grpoObjective(seqs, s);
      const h = 1e-6;
      seqs.forEach((q, i) => {
        for (let t = 0; t < q.logprobs.length; t++) {
          const plus = seqs.map((x) => ({ ...x, logprobs: Array.from(x.logprobs) }));
          const minus = seqs.map((x) => ({ ...x, logprobs: Array.from(x.logprobs) }));
          (plus[i].logprobs as number[])[t] += h;
          (minus[i].logprobs as number[])[t] -= h;
          const fd = (grpoObjective(plus, s).loss - grpoObjective(minus, s).loss) / (2 * h);
          expect(dlogp[i][t]).toBeCloseTo(fd, 5);
        }
      });
    });
  }

  it('on-policy with β = 0: loss is −mean advantage and the gradient is −A per token (weighted)', () => {
    const seqs: TokenSeq[] = [{ logprobs: [-1, -2], advantage: 1 }, { logprobs: [-3], advantage: -1 }];
    const r = grpoObjective(seqs, { ...base, beta: 0, lossType: 'grpo' });
    expect(r.loss).toBeCloseTo(0, 12); // (−1 + 1) / 2
    expect(Array.from(r.dlogp[0])).toEqual([-0.25, -0.25]);
    expect(Array.from(r.dlogp[1])).toEqual([0.5]);
  });

  it('clipping stops the gradient outside [1 − ε_low, 1 + ε_high] on the side the advantage pushes', () => {
    const seqs: TokenSeq[] = [{ logprobs: [Math.log(1.5)], oldLogprobs: [0], advantage: 1 }];
    const r = grpoObjective(seqs, { ...base, beta: 0 });
    expect(r.dlogp[0][0]).toBe(0);
    expect(r.metrics.clipFraction).toBe(1);
    expect(r.loss).toBeCloseTo(-1.28, 12);
  });

  it('the verl clamp caps k3 at 10 and zeroes its gradient there', () => {
    const seqs: TokenSeq[] = [{ logprobs: [0], refLogprobs: [5], advantage: 0 }];
    const r = grpoObjective(seqs, { ...base, beta: 1, klClamp: 10 });
    expect(r.loss).toBe(10);
    expect(r.dlogp[0][0]).toBe(0);
  });
});

describe('SFT objective', () => {
  it('is the token-mean negative log-likelihood', () => {
    const r = sftObjective([[-1, -2], [-3]]);
    expect(r.loss).toBeCloseTo(2, 12);
    expect(Array.from(r.dlogp[1])).toEqual([-1 / 3]);
  });
});
