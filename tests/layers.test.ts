// Forward kernels against their TypeScript references on small random inputs.
import { describe, expect, it } from 'vitest';
import { gpu, maxRelError } from './helpers/gpu.ts';
import { Rng } from '../src/util/random.ts';
import { embedding } from '../src/ops/embedding.ts';
import { rmsnorm } from '../src/ops/rmsnorm.ts';
import { rope, ropeTables } from '../src/ops/rope.ts';
import { swiglu } from '../src/ops/swiglu.ts';
import { attention } from '../src/ops/attention.ts';
import { sample } from '../src/ops/sample.ts';
import { attentionRef, embeddingRef, logSoftmaxAt, rmsnormRef, ropeRef, swigluRef } from '../src/reference/layers.ts';

describe('forward kernels match their references', () => {
  it('embedding gather', async () => {
    const rt = await gpu();
    const rng = new Rng(1);
    const [V, D] = [11, 37];
    const table = rng.uniformArray(V * D);
    const ids = [3, 0, 10, 3, 7];
    const out = rt.empty([ids.length, D]);
    embedding(rt, rt.upload([5], ids, 'u32'), rt.upload([V, D], table), out, ids.length);
    expect(maxRelError(await rt.read(out), embeddingRef(ids, table, D))).toBe(0);
  });

  it('rmsnorm (and its saved 1/rms)', async () => {
    const rt = await gpu();
    const rng = new Rng(2);
    const [R, D] = [6, 300];
    const x = rng.uniformArray(R * D, -3, 3);
    const w = rng.uniformArray(D);
    const y = rt.empty([R, D]);
    const rstd = rt.empty([R]);
    rmsnorm(rt, rt.upload([R, D], x), rt.upload([D], w), y, rstd, R, 1e-6);
    const ref = rmsnormRef(x, w, 1e-6);
    expect(maxRelError(await rt.read(y), ref.y)).toBeLessThan(1e-5);
    expect(maxRelError(await rt.read(rstd), ref.rstd)).toBeLessThan(1e-5);
  });

  it('rope on a column slice, with per-row positions and theta 1e6; inverse undoes it', async () => {
    const rt = await gpu();
    const rng = new Rng(3);
    const [R, H, hd, stride, off] = [5, 3, 8, 40, 8];
    const x = rng.uniformArray(R * stride);
    const positions = [0, 1, 7, 300, 4095];
    const { cos, sin } = ropeTables(hd, 1e6, 4096);
    const tx = rt.upload([R, stride], x);
    const tp = rt.upload([R], positions, 'u32');
    const tc = rt.upload([cos.length], cos);
    const ts = rt.upload([sin.length], sin);
    const view = { rows: R, heads: H, headDim: hd, rowStride: stride, colOff: off };
    rope(rt, tx, tp, tc, ts, view);
    expect(maxRelError(await rt.read(tx), ropeRef(x, positions, H, hd, stride, off, 1e6))).toBeLessThan(1e-5);
    rope(rt, tx, tp, tc, ts, view, true);
    expect(maxRelError(await rt.read(tx), x)).toBeLessThan(1e-5);
  });

  it('swiglu', async () => {
    const rt = await gpu();
    const rng = new Rng(4);
    const [R, I] = [3, 270];
    const gu = rng.uniformArray(R * 2 * I, -4, 4);
    const h = rt.empty([R, I]);
    swiglu(rt, rt.upload([R, 2 * I], gu), h, R, I);
    expect(maxRelError(await rt.read(h), swigluRef(gu, R, I))).toBeLessThan(1e-5);
  });

  it('GQA attention over a cache: a prefill of one slot and decode rows of two slots', async () => {
    const rt = await gpu();
    const rng = new Rng(5);
    const [H, KVH, hd, maxLen] = [4, 2, 8, 80];
    const width = (H + 2 * KVH) * hd;
    const shape = { heads: H, kvHeads: KVH, headDim: hd, maxLen };
    const cacheK = rt.upload([2, maxLen, KVH * hd], new Float32Array(2 * maxLen * KVH * hd));
    const cacheV = rt.upload([2, maxLen, KVH * hd], new Float32Array(2 * maxLen * KVH * hd));
    const hostK = [new Float32Array(maxLen * KVH * hd), new Float32Array(maxLen * KVH * hd)];
    const hostV = [new Float32Array(maxLen * KVH * hd), new Float32Array(maxLen * KVH * hd)];
    // Step 1: 70 rows of slot 1 (crosses a 64-key chunk); step 2: one row per slot at different positions.
    const steps = [
      { slots: Array(70).fill(1), positions: Array.from({ length: 70 }, (_, i) => i) },
      { slots: [1, 0], positions: [70, 0] },
    ];
    for (const st of steps) {
      const R = st.slots.length;
      const qkv = rng.uniformArray(R * width, -2, 2);
      for (let r = 0; r < R; r++) {
        const dst = st.positions[r] * KVH * hd;
        hostK[st.slots[r]].set(qkv.subarray(r * width + H * hd, r * width + (H + KVH) * hd), dst);
        hostV[st.slots[r]].set(qkv.subarray(r * width + (H + KVH) * hd, (r + 1) * width), dst);
      }
      const q = new Float32Array(R * H * hd);
      for (let r = 0; r < R; r++) q.set(qkv.subarray(r * width, r * width + H * hd), r * H * hd);
      const out = rt.empty([R, H * hd]);
      const lse = rt.empty([R, H]);
      attention(
        rt, { ...shape, rows: R }, rt.upload([R, width], qkv), rt.upload([R], st.slots, 'u32'),
        rt.upload([R], st.positions, 'u32'), cacheK, cacheV, out, lse,
      );
      const ref = attentionRef(q, st.slots, st.positions, hostK, hostV, H, KVH, hd);
      expect(maxRelError(await rt.read(out), ref.out)).toBeLessThan(1e-5);
      expect(maxRelError(await rt.read(lse), ref.lse)).toBeLessThan(1e-5);
    }
  });
});

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
