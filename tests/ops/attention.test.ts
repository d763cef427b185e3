// Causal GQA attention over a KV cache and its backward: GPU against the reference (forward over a
// prefill and decode rows; backward with a cached prefix and with completions sharing their prompt), the
// reference backward against finite differences of store_kv + attention.
import { describe, expect, it } from 'vitest';
import { gpu, maxRelError } from '../helpers/gpu.ts';
import { dot, FD_TOL, GPU_TOL, numericGrad, relErr } from '../helpers/grads.ts';
import { Rng } from '../../src/util/random.ts';
import { createNodeRuntime } from '../../src/gpu/node.ts';
import type { GpuRuntime } from '../../src/gpu/runtime.ts';
import { attention, attentionBackward } from '../../src/ops/attention.ts';
import { attentionBackwardRef, attentionRef, type AttentionDims } from '../../src/reference/attention.ts';

describe('attention', () => {
  /** rows of `slot` at positions from..to-1, in order */
  const run = (slot: number, from: number, to: number) => ({
    slots: Array<number>(to - from).fill(slot),
    positions: Array.from({ length: to - from }, (_, i) => from + i),
  });
  const concat = (...parts: { slots: number[]; positions: number[] }[]) => ({
    slots: parts.flatMap((p) => p.slots),
    positions: parts.flatMap((p) => p.positions),
  });

  // The subgroup forward where the adapter has subgroups (SwiftShader does, size 4), the workgroup one otherwise.
  let plainRt: Promise<GpuRuntime> | null = null;
  const runtimes: [string, () => Promise<GpuRuntime>][] = [
    ['subgroups where the adapter has them', gpu],
    ['no subgroups', () => (plainRt ??= createNodeRuntime({ disableFeatures: ['subgroups'] }))],
  ];
  for (const [name, runtime] of runtimes) {
    for (const a of [
      { heads: 4, kvHeads: 2, headDim: 8, maxLen: 80 }, // GQA
      { heads: 2, kvHeads: 1, headDim: 72, maxLen: 80 }, // head_dim > 64
    ]) {
      it(`${name}: ${a.heads} heads / ${a.kvHeads} kv heads, hd ${a.headDim}: a prefill of one slot and decode rows of two slots (GPU vs reference)`, async () => {
        const rt = await runtime();
        const rng = new Rng(5);
        const width = (a.heads + 2 * a.kvHeads) * a.headDim;
        const cacheShape = [2, a.maxLen, a.kvHeads * a.headDim];
        const cacheK = rt.upload(cacheShape, new Float32Array(2 * a.maxLen * a.kvHeads * a.headDim));
        const cacheV = rt.upload(cacheShape, new Float32Array(2 * a.maxLen * a.kvHeads * a.headDim));
        let host: { cacheK: ArrayLike<number>; cacheV: ArrayLike<number> } = { // the reference's caches, step by step
          cacheK: new Float64Array(cacheK.size),
          cacheV: new Float64Array(cacheV.size),
        };
        // Step 1: 70 rows of slot 1 (crosses a 64-key chunk); step 2: one row per slot at different positions.
        for (const st of [run(1, 0, 70), { slots: [1, 0], positions: [70, 0] }]) {
          const R = st.slots.length;
          const qkv = rng.uniformArray(R * width, -2, 2);
          const out = rt.empty([R, a.heads * a.headDim]);
          const lse = rt.empty([R, a.heads]);
          attention(
            rt, { ...a, rows: R }, rt.upload([R, width], qkv), rt.upload([R], st.slots, 'u32'),
            rt.upload([R], st.positions, 'u32'), cacheK, cacheV, out, lse,
          );
          const ref = attentionRef(qkv, st.slots, st.positions, host.cacheK, host.cacheV, a);
          expect(maxRelError(await rt.read(out), ref.out)).toBeLessThan(1e-5);
          expect(maxRelError(await rt.read(lse), ref.lse)).toBeLessThan(1e-5);
          host = ref;
        }
      });
    }
  }

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
      it(`backward, GPU vs reference: ${a.heads} heads / ${a.kvHeads} kv heads, hd ${a.headDim}, ${name}`, async () => {
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
        const fwd = attentionRef(qkv, b.slots, b.positions, k0, v0, a, prefix);
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
    it(`reference backward matches finite differences of store_kv + attention w.r.t. qkv (GQA, ${name})`, () => {
      const rng = new Rng(43);
      const a = { heads: 4, kvHeads: 2, headDim: 4, maxLen: 8 };
      const prefix = prefixOf(b, shared as Record<number, [number, number]>);
      const slots = Math.max(...b.slots) + 1;
      const width = (a.heads + 2 * a.kvHeads) * a.headDim;
      const qkv = rng.uniformArray(b.slots.length * width, -2, 2);
      const k0 = prefixCache(rng, a, slots, cached);
      const v0 = prefixCache(rng, a, slots, cached);
      const g = rng.uniformArray(b.slots.length * a.heads * a.headDim);
      const fwd = attentionRef(qkv, b.slots, b.positions, k0, v0, a, prefix);
      const analytic = attentionBackwardRef(qkv, b.slots, b.positions, fwd.cacheK, fwd.cacheV, g, a, prefix);
      const fd = numericGrad((x) => dot(g, attentionRef(x, b.slots, b.positions, k0, v0, a, prefix).out), qkv);
      expect(relErr(analytic, fd)).toBeLessThan(FD_TOL);
    });
  }
});
