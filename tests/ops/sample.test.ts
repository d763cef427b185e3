// GPU sampling: greedy ties, top-k / top-p sets, seeded streams, and the log-probability it writes.
import { describe, expect, it } from 'vitest';
import { gpu } from '../helpers/gpu.ts';
import { Rng } from '../../src/util/random.ts';
import { sample } from '../../src/ops/sample.ts';
import { logSoftmaxAt } from '../../src/reference/sample.ts';

describe('GPU sampling', () => {
  const V = 1000;
  async function run(logits: Float32Array, rows: number, sp: { temperature: number; topK: number; topP: number; seed: number }, step = 0) {
    const rt = await gpu();
    const ids = rt.empty([rows], 'u32');
    const lp = rt.empty([rows]);
    sample(rt, rt.upload([rows, V], logits), rt.empty([rows, V]), ids, lp, rows, V, sp, step);
    return { ids: Array.from(await rt.read(ids)), logprobs: Array.from(await rt.read(lp)) };
  }

  it('greedy is argmax with the lowest index on ties', async () => {
    const logits = new Rng(6).uniformArray(2 * V);
    logits[17] = 5;
    logits[400] = 5;
    logits[V + 999] = 9;
    const { ids } = await run(logits, 2, { temperature: 0, topK: 0, topP: 1, seed: 1 });
    expect(ids).toEqual([17, 999]);
  });

  it('top-k = 1 and tiny top-p pick the argmax; log-prob is under logits / T over the full vocabulary', async () => {
    const logits = new Rng(7).uniformArray(V, -3, 3);
    logits[123] = 4;
    const a = await run(logits, 1, { temperature: 0.7, topK: 1, topP: 1, seed: 3 });
    const b = await run(logits, 1, { temperature: 0.7, topK: 0, topP: 1e-6, seed: 3 });
    expect(a.ids).toEqual([123]);
    expect(b.ids).toEqual([123]);
    expect(Math.abs(a.logprobs[0] - logSoftmaxAt(logits, 123, 0.7))).toBeLessThan(1e-4);
  });

  it('same seed, same tokens; samples stay inside the top-k set and follow the distribution', async () => {
    const rng = new Rng(8);
    const rows = 64;
    const logits = new Float32Array(rows * V);
    const row = rng.uniformArray(V, -2, 2);
    row[10] = 3; row[20] = 2.5; row[30] = 2;
    for (let r = 0; r < rows; r++) logits.set(row, r * V);
    const sp = { temperature: 1, topK: 3, topP: 1, seed: 42 };
    const first = await run(logits, rows, sp);
    const again = await run(logits, rows, sp);
    expect(again.ids).toEqual(first.ids);
    expect(new Set(first.ids).size).toBeGreaterThan(1);
    for (const id of first.ids) expect([10, 20, 30]).toContain(id);
    const other = await run(logits, rows, { ...sp, seed: 43 });
    expect(other.ids).not.toEqual(first.ids);
    // P(10) = e^3 / (e^3 + e^2.5 + e^2) ≈ 0.51 among the three.
    const frac = first.ids.filter((i) => i === 10).length / rows;
    expect(frac).toBeGreaterThan(0.25);
    expect(frac).toBeLessThan(0.8);
  });

  it('top-p keeps the smallest prefix of the sorted distribution reaching p', async () => {
    const logits = new Float32Array(V).fill(-30);
    logits[5] = Math.log(0.5); logits[6] = Math.log(0.3); logits[7] = Math.log(0.2);
    const rows = 64;
    const all = new Float32Array(rows * V);
    for (let r = 0; r < rows; r++) all.set(logits, r * V);
    const { ids } = await run(all, rows, { temperature: 1, topK: 0, topP: 0.75, seed: 9 });
    for (const id of ids) expect([5, 6]).toContain(id);
    expect(new Set(ids).size).toBe(2);
  });
});
