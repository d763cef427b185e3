// Backward kernels: (a) GPU against the f64 TypeScript reference on small random inputs, (b) the reference
// against central finite differences of the f64 forward, for L = Σ g ⊙ forward(inputs) with random g.
import { describe, expect, it } from 'vitest';
import { gpu } from './helpers/gpu.ts';
import { dot, numericGrad, relErr } from './helpers/grads.ts';
import { Rng } from '../src/util/random.ts';
import { embeddingBackward } from '../src/ops/embedding.ts';
import { rmsnorm, rmsnormBackward } from '../src/ops/rmsnorm.ts';
import { swigluBackward } from '../src/ops/swiglu.ts';
import { rope, ropeTables } from '../src/ops/rope.ts';
import { attention, attentionBackward } from '../src/ops/attention.ts';
import { tokenLogprobs, tokenLogprobsBackward } from '../src/ops/logprob.ts';
import {
  attentionBackwardRef, attentionTrainRef, embeddingBackwardRef, rmsnormBackwardRef, rmsnormForward64,
  swigluBackwardRef, swigluForward64, type AttentionDims,
} from '../src/reference/backward.ts';
import { tokenLogprobsBackwardRef, tokenLogprobsRef } from '../src/reference/logprob.ts';

const GPU_TOL = 1e-5; // f32 kernels against f64 references, relative to the largest entry
const FD_TOL = 1e-6; // f64 central differences (h = 1e-5) against analytic gradients

function sum(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from(a, (v, i) => v + b[i]);
}

describe('embedding backward', () => {
  it('scatter-adds rows into an existing gradient, repeated ids included (GPU vs reference)', async () => {
    const rt = await gpu();
    const rng = new Rng(11);
    const [V, D] = [40, 70];
    const ids = [3, 19, 3, 0, 39, 19, 3, 35]; // 3 and 19 share a bucket; 3 repeats
    const dOut = rng.uniformArray(ids.length * D);
    const init = rng.uniformArray(V * D);
    const dTable = rt.upload([V, D], init);
    embeddingBackward(rt, rt.upload([ids.length], ids, 'u32'), rt.upload([ids.length, D], dOut), dTable, ids.length);
    expect(relErr(await rt.read(dTable), sum(init, embeddingBackwardRef(ids, dOut, V, D)))).toBeLessThan(GPU_TOL);
  });

  it('reference matches finite differences', () => {
    const rng = new Rng(12);
    const [V, D] = [6, 5];
    const ids = [1, 4, 1, 0];
    const table = rng.uniformArray(V * D);
    const g = rng.uniformArray(ids.length * D);
    const loss = (t: Float64Array) => ids.reduce((s, id, r) => s + dot(g.subarray(r * D, (r + 1) * D), t.subarray(id * D, (id + 1) * D)), 0);
    expect(relErr(embeddingBackwardRef(ids, g, V, D), numericGrad(loss, table))).toBeLessThan(FD_TOL);
  });
});

describe('rmsnorm backward', () => {
  it('dx (written and accumulated) and dw accumulated over rows (GPU vs reference)', async () => {
    const rt = await gpu();
    const rng = new Rng(21);
    const [R, D] = [37, 300];
    const x = rng.uniformArray(R * D, -3, 3);
    const w = rng.uniformArray(D);
    const dy = rng.uniformArray(R * D);
    const tx = rt.upload([R, D], x);
    const tw = rt.upload([D], w);
    const rstd = rt.empty([R]);
    rmsnorm(rt, tx, tw, rt.empty([R, D]), rstd, R, 1e-6);
    const ref = rmsnormBackwardRef(x, w, rmsnormForward64(x, w, 1e-6).rstd, dy);
    const dx = rt.empty([R, D]);
    const dwInit = rng.uniformArray(D);
    const dw = rt.upload([D], dwInit);
    const tdy = rt.upload([R, D], dy);
    rmsnormBackward(rt, tx, tw, rstd, tdy, dx, dw, R);
    expect(relErr(await rt.read(dx), ref.dx)).toBeLessThan(GPU_TOL);
    expect(relErr(await rt.read(dw), sum(dwInit, ref.dw))).toBeLessThan(GPU_TOL);
    const resid = rng.uniformArray(R * D);
    const dxAcc = rt.upload([R, D], resid);
    rmsnormBackward(rt, tx, tw, rstd, tdy, dxAcc, null, R, true);
    expect(relErr(await rt.read(dxAcc), sum(resid, ref.dx))).toBeLessThan(GPU_TOL);
  });

  it('reference matches finite differences in x and w', () => {
    const rng = new Rng(22);
    const [R, D] = [3, 7];
    const x = rng.uniformArray(R * D, -2, 2);
    const w = rng.uniformArray(D);
    const g = rng.uniformArray(R * D);
    const ref = rmsnormBackwardRef(x, w, rmsnormForward64(x, w, 1e-6).rstd, g);
    expect(relErr(ref.dx, numericGrad((xx) => dot(g, rmsnormForward64(xx, w, 1e-6).y), x))).toBeLessThan(FD_TOL);
    expect(relErr(ref.dw, numericGrad((ww) => dot(g, rmsnormForward64(x, ww, 1e-6).y), w))).toBeLessThan(FD_TOL);
  });
});

describe('swiglu backward', () => {
  it('GPU vs reference', async () => {
    const rt = await gpu();
    const rng = new Rng(31);
    const [R, I] = [3, 270];
    const gu = rng.uniformArray(R * 2 * I, -6, 6);
    const dh = rng.uniformArray(R * I);
    const dgu = rt.empty([R, 2 * I]);
    swigluBackward(rt, rt.upload([R, 2 * I], gu), rt.upload([R, I], dh), dgu, R, I);
    expect(relErr(await rt.read(dgu), swigluBackwardRef(gu, dh, R, I))).toBeLessThan(GPU_TOL);
  });

  it('reference matches finite differences', () => {
    const rng = new Rng(32);
    const [R, I] = [2, 5];
    const gu = rng.uniformArray(R * 2 * I, -4, 4);
    const g = rng.uniformArray(R * I);
    const fd = numericGrad((x) => dot(g, swigluForward64(x, R, I)), gu);
    expect(relErr(swigluBackwardRef(gu, g, R, I), fd)).toBeLessThan(FD_TOL);
  });
});

describe('attention backward', () => {
  /** rows of `slot` at positions from..to-1, in order */
  const run = (slot: number, from: number, to: number) => ({
    slots: Array<number>(to - from).fill(slot),
    positions: Array.from({ length: to - from }, (_, i) => from + i),
  });
  const concat = (...parts: { slots: number[]; positions: number[] }[]) => ({
    slots: parts.flatMap((p) => p.slots),
    positions: parts.flatMap((p) => p.positions),
  });

  /** Caches [slots, maxLen, KVH·hd] with slot 0's positions < prefix already filled (a prompt not trained on). */
  function prefixCache(rng: Rng, a: AttentionDims, slots: number, prefix: number): Float32Array {
    const c = new Float32Array(slots * a.maxLen * a.kvHeads * a.headDim);
    c.set(rng.uniformArray(prefix * a.kvHeads * a.headDim, -2, 2));
    return c;
  }

  /** (prefix slot, prefix length) per row: the rows of `shared` read positions < length from that slot */
  const prefixOf = (b: { slots: number[] }, shared: Record<number, [number, number]> = {}) =>
    b.slots.flatMap((slot) => shared[slot] ?? [slot, 0]);

  // Plain: slot 1 crosses a 64-row chunk, slot 0 attends a cached prefix it did not write.
  const plain = { batch: concat(run(1, 0, 70), run(0, 3, 10)), shared: {}, cached: 3 };
  // Shared prompts (a GRPO group): slot 0 holds a 70-token prompt that slots 1 and 2 read as their prefix
  // (the dk/dv loop of an early prompt key spans 78 query rows); slot 3's 5-token prompt is slot 4's prefix.
  const grouped = {
    batch: concat(run(0, 0, 70), run(1, 70, 75), run(2, 70, 73), run(3, 0, 5), run(4, 5, 9)),
    shared: { 1: [0, 70], 2: [0, 70], 4: [3, 5] } as Record<number, [number, number]>,
    cached: 0,
  };
  for (const [name, layout] of [['a cached prefix in slot 0', plain], ['completions sharing their prompt', grouped]] as const) {
    for (const a of [
      { heads: 4, kvHeads: 2, headDim: 8, maxLen: 80 }, // GQA
      { heads: 3, kvHeads: 3, headDim: 72, maxLen: 80 }, // MHA; head_dim > 64 (4 dims per thread)
    ].slice(0, layout === plain ? 2 : 1)) {
      it(`GPU vs reference: ${a.heads} heads / ${a.kvHeads} kv heads, hd ${a.headDim}, ${name}`, async () => {
        const rt = await gpu();
        const rng = new Rng(41 + a.headDim);
        const b = layout.batch;
        const prefix = prefixOf(b, layout.shared);
        const R = b.slots.length;
        const slots = Math.max(...b.slots) + 1;
        const width = (a.heads + 2 * a.kvHeads) * a.headDim;
        const qkv = rng.uniformArray(R * width, -2, 2);
        const k0 = prefixCache(rng, a, slots, layout.cached);
        const v0 = prefixCache(rng, a, slots, layout.cached);
        const dout = rng.uniformArray(R * a.heads * a.headDim);
        const s = { ...a, rows: R };
        const cacheShape = [slots, a.maxLen, a.kvHeads * a.headDim];
        // the GPU takes (slot, prefix slot, prefix length) per row; without shared prefixes, the plain [rows]
        const gpuSlots = layout === plain ? rt.upload([R], b.slots, 'u32') : rt.upload([R, 3], b.slots.flatMap((x, r) => [x, prefix[2 * r], prefix[2 * r + 1]]), 'u32');
        const [tqkv, tpos] = [rt.upload([R, width], qkv), rt.upload([R], b.positions, 'u32')];
        const [cacheK, cacheV] = [rt.upload(cacheShape, k0), rt.upload(cacheShape, v0)];
        const out = rt.empty([R, a.heads * a.headDim]);
        const lse = rt.empty([R, a.heads]);
        attention(rt, s, tqkv, gpuSlots, tpos, cacheK, cacheV, out, lse);
        const dqkv = rt.empty([R, width]);
        attentionBackward(rt, s, tqkv, gpuSlots, tpos, cacheK, cacheV, out, lse, rt.upload([R, a.heads * a.headDim], dout), dqkv);
        const fwd = attentionTrainRef(qkv, b.slots, b.positions, k0, v0, a, prefix);
        expect(relErr(await rt.read(out), fwd.out)).toBeLessThan(GPU_TOL);
        const ref = attentionBackwardRef(qkv, b.slots, b.positions, fwd.cacheK, fwd.cacheV, dout, a, prefix);
        expect(relErr(await rt.read(dqkv), ref)).toBeLessThan(GPU_TOL);
      });
    }
  }

  for (const [name, b, shared, cached] of [
    ['two slots, a cached prefix', concat(run(0, 2, 6), run(1, 0, 5)), {}, 2],
    ['a prompt shared by two completions', concat(run(0, 0, 3), run(1, 3, 6), run(2, 3, 5)), { 1: [0, 3], 2: [0, 3] }, 0],
  ] as const) {
    it(`reference matches finite differences of store_kv + attention w.r.t. qkv (GQA, ${name})`, () => {
      const rng = new Rng(43);
      const a = { heads: 4, kvHeads: 2, headDim: 4, maxLen: 8 };
      const prefix = prefixOf(b, shared as Record<number, [number, number]>);
      const slots = Math.max(...b.slots) + 1;
      const width = (a.heads + 2 * a.kvHeads) * a.headDim;
      const qkv = rng.uniformArray(b.slots.length * width, -2, 2);
      const k0 = prefixCache(rng, a, slots, cached);
      const v0 = prefixCache(rng, a, slots, cached);
      const g = rng.uniformArray(b.slots.length * a.heads * a.headDim);
      const fwd = attentionTrainRef(qkv, b.slots, b.positions, k0, v0, a, prefix);
      const analytic = attentionBackwardRef(qkv, b.slots, b.positions, fwd.cacheK, fwd.cacheV, g, a, prefix);
      const fd = numericGrad((x) => dot(g, attentionTrainRef(x, b.slots, b.positions, k0, v0, a, prefix).out), qkv);
      expect(relErr(analytic, fd)).toBeLessThan(FD_TOL);
    });
  }

  it('rope with INVERSE is the backward of rope: <rope(x), g> = <x, rope⁻¹(g)> on the q and k parts', async () => {
    const rt = await gpu();
    const rng = new Rng(44);
    const [R, H, KVH, hd] = [6, 4, 2, 8];
    const width = (H + 2 * KVH) * hd;
    const positions = [0, 1, 2, 3, 40, 41];
    const { cos, sin } = ropeTables(hd, 1e6, 64);
    const [tp, tc, ts] = [rt.upload([R], positions, 'u32'), rt.upload([cos.length], cos), rt.upload([sin.length], sin)];
    const x = rng.uniformArray(R * width);
    const g = rng.uniformArray(R * width);
    const [tx, tg] = [rt.upload([R, width], x), rt.upload([R, width], g)];
    for (const inverse of [false, true]) {
      const t = inverse ? tg : tx;
      rope(rt, t, tp, tc, ts, { rows: R, heads: H, headDim: hd, rowStride: width, colOff: 0 }, inverse);
      rope(rt, t, tp, tc, ts, { rows: R, heads: KVH, headDim: hd, rowStride: width, colOff: H * hd }, inverse);
    }
    const lhs = dot(await rt.read(tx), g);
    const rhs = dot(x, await rt.read(tg));
    expect(Math.abs(lhs - rhs) / Math.abs(lhs)).toBeLessThan(1e-5);
  });
});

describe('LM head log-probs, chunked', () => {
  it('forward and backward match the reference across chunks (incl. a short last chunk)', async () => {
    const rt = await gpu();
    const rng = new Rng(51);
    const [R, V, D, T, chunk] = [70, 300, 24, 0.7, 16];
    const hidden = rng.uniformArray(R * D);
    const W = rng.uniformArray(V * D, -0.5, 0.5);
    const targets = Array.from({ length: R }, () => rng.int(V));
    const dlogp = rng.uniformArray(R);
    const [th, tw, tt] = [rt.upload([R, D], hidden), rt.upload([V, D], W), rt.upload([R], targets, 'u32')];
    const out = { logprobs: rt.empty([R]), entropy: rt.empty([R]) };
    tokenLogprobs(rt, th, tw, tt, { from: 0, to: R }, T, out, chunk);
    const ref = tokenLogprobsRef(hidden, W, targets, V, D, T);
    expect(relErr(await rt.read(out.logprobs), ref.logprobs)).toBeLessThan(GPU_TOL);
    expect(relErr(await rt.read(out.entropy), ref.entropy)).toBeLessThan(GPU_TOL);

    const dHidden = rt.empty([R, D]);
    const dwInit = rng.uniformArray(V * D, -0.1, 0.1);
    const dW = rt.upload([V, D], dwInit);
    tokenLogprobsBackward(rt, th, tw, tt, { from: 0, to: R }, T, rt.upload([R], dlogp), dHidden, dW, chunk);
    const bref = tokenLogprobsBackwardRef(hidden, W, targets, V, D, T, dlogp);
    expect(relErr(await rt.read(dHidden), bref.dHidden)).toBeLessThan(GPU_TOL);
    expect(relErr(await rt.read(dW), sum(dwInit, bref.dW))).toBeLessThan(GPU_TOL);
  });

  it('reference matches finite differences in hidden and the LM-head weight', () => {
    const rng = new Rng(52);
    const [R, V, D, T] = [4, 7, 5, 0.7];
    const hidden = rng.uniformArray(R * D);
    const W = rng.uniformArray(V * D);
    const targets = [0, 6, 3, 3];
    const dlogp = rng.uniformArray(R);
    const ref = tokenLogprobsBackwardRef(hidden, W, targets, V, D, T, dlogp);
    const fdH = numericGrad((h) => dot(dlogp, tokenLogprobsRef(h, W, targets, V, D, T).logprobs), hidden);
    const fdW = numericGrad((w) => dot(dlogp, tokenLogprobsRef(hidden, w, targets, V, D, T).logprobs), W);
    expect(relErr(ref.dHidden, fdH)).toBeLessThan(FD_TOL);
    expect(relErr(ref.dW, fdW)).toBeLessThan(FD_TOL);
    // entropy: −Σ p log p by definition, checked at one row against a direct computation
    const z = Array.from({ length: V }, (_, v) => dot(hidden.subarray(0, D), W.subarray(v * D, (v + 1) * D)) / T);
    const lz = Math.log(z.reduce((s, x) => s + Math.exp(x), 0));
    const h0 = -z.reduce((s, x) => s + Math.exp(x - lz) * (x - lz), 0);
    expect(Math.abs(tokenLogprobsRef(hidden, W, targets, V, D, T).entropy[0] - h0)).toBeLessThan(1e-12);
  });
});
