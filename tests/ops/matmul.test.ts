// The matmul family (tiled, skinny, skinny vec4 with and without subgroups) and the linear layer's backward
// products: GPU against the reference, the reference backward against finite differences of its forward.
import { describe, expect, it } from 'vitest';
import { gpu, maxRelError } from '../helpers/gpu.ts';
import { dot, FD_TOL, numericGrad, relErr } from '../helpers/grads.ts';
import { createDawnNullRuntime, createNodeRuntime } from '../../src/gpu/node.ts';
import type { GpuRuntime } from '../../src/gpu/runtime.ts';
import { linear, linearBackwardInput, linearBackwardWeight, matmul } from '../../src/ops/matmul.ts';
import { linearBackwardRef, linearRef } from '../../src/reference/matmul.ts';
import { Rng } from '../../src/util/random.ts';

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [67, 33, 129],
  [8, 70, 40], // skinny path, one block of rows
  [19, 33, 21], // skinny path, three blocks, the last ragged
  [33, 65, 17], // just past skinny: tiled with ragged edges
];

describe('matmul C = A·Bᵀ (+ bias) against the TypeScript reference', () => {
  for (const [M, N, K] of SHAPES) {
    for (const withBias of [false, true]) {
      it(`${M}×${N}×${K}${withBias ? ' + bias' : ''}`, async () => {
        const rt = await gpu();
        const rng = new Rng(M * 1000 + N * 10 + K);
        const a = rng.uniformArray(M * K);
        const b = rng.uniformArray(N * K);
        const bias = rng.uniformArray(N);
        const ta = rt.upload([M, K], a);
        const tb = rt.upload([N, K], b);
        const tbias = rt.upload([N], bias);
        const tc = rt.empty([M, N]);
        linear(rt, ta, tb, tc, M, withBias ? tbias : undefined);
        const got = await rt.read(tc);
        expect(maxRelError(got, linearRef(a, b, M, N, K, withBias ? bias : undefined))).toBeLessThan(1e-5);
        for (const t of [ta, tb, tbias, tc]) t.release();
      });
    }
  }

  it('f16 weights match the reference on f16-rounded inputs (where the adapter has shader-f16)', async () => {
    const rt = await gpu();
    if (!rt.info.f16) return; // adapter without shader-f16 (SwiftShader): the f32 path above covers it
    const [M, N, K] = [5, 19, 33];
    const rng = new Rng(7);
    const a = rng.uniformArray(M * K);
    const b = rng.uniformArray(N * K);
    const tb = rt.upload([N, K], b, 'f16');
    const rounded = (await rt.read(tb)) as Float32Array;
    const tc = rt.empty([M, N]);
    linear(rt, rt.upload([M, K], a), tb, tc, M);
    expect(maxRelError(await rt.read(tc), linearRef(a, rounded, M, N, K))).toBeLessThan(1e-5);
  });

  it('backward products dX = dY·W and dW = dYᵀ·X, with accumulation', async () => {
    const rt = await gpu();
    const [M, N, K] = [13, 6, 21];
    const rng = new Rng(3);
    const x = rng.uniformArray(M * K);
    const w = rng.uniformArray(N * K);
    const dy = rng.uniformArray(M * N);
    const ref = linearBackwardRef(x, w, dy, M, N, K);
    const tdy = rt.upload([M, N], dy);
    const tw = rt.upload([N, K], w);
    const tx = rt.upload([M, K], x);
    const tdx = rt.empty([M, K]);
    const tdw = rt.upload([N, K], new Float32Array(N * K).fill(1));
    linearBackwardInput(rt, tdy, tw, tdx, M);
    linearBackwardWeight(rt, tdy, tx, tdw, M, true);
    expect(maxRelError(await rt.read(tdx), ref.dx)).toBeLessThan(1e-5);
    expect(maxRelError(await rt.read(tdw), ref.dw.map((v) => v + 1))).toBeLessThan(1e-5);
  });
});

describe('linear backward reference', () => {
  it('matches finite differences of the reference forward in x, w and the bias', () => {
    const rng = new Rng(4);
    const [M, N, K] = [3, 4, 5];
    const [x, w, bias, g] = [rng.uniformArray(M * K), rng.uniformArray(N * K), rng.uniformArray(N), rng.uniformArray(M * N)];
    const ref = linearBackwardRef(x, w, g, M, N, K);
    expect(relErr(ref.dx, numericGrad((xx) => dot(g, linearRef(xx, w, M, N, K, bias)), x))).toBeLessThan(FD_TOL);
    expect(relErr(ref.dw, numericGrad((ww) => dot(g, linearRef(x, ww, M, N, K, bias)), w))).toBeLessThan(FD_TOL);
    expect(relErr(ref.dbias, numericGrad((bb) => dot(g, linearRef(x, w, M, N, K, bb)), bias))).toBeLessThan(FD_TOL);
  });
});

// The skinny kernels (M ≤ 32, in blocks of 8 rows) read A and B as vec4 along K when K % 4 = 0: with subgroup sums where the adapter
// has subgroups (SwiftShader does, size 4), with workgroup sums otherwise. Ragged N, every ROWS variant.
const SKINNY_VEC4: [number, number, number][] = [
  [1, 13, 12],
  [2, 1, 8],
  [3, 70, 40],
  [5, 4, 4],
  [8, 65, 132],
  [16, 70, 40], // a GRPO micro-batch's decode: two blocks of rows
  [21, 9, 12],
];

let plainRt: Promise<GpuRuntime> | null = null;
const runtimes: [string, () => Promise<GpuRuntime>][] = [
  ['subgroups where the adapter has them', gpu],
  ['no subgroups', () => (plainRt ??= createNodeRuntime({ disableFeatures: ['subgroups'] }))],
];

describe('skinny vec4 matmul against the TypeScript reference', () => {
  for (const [name, runtime] of runtimes) {
    for (const [M, N, K] of SKINNY_VEC4) {
      it(`${name}: ${M}×${N}×${K} + bias, accumulated`, async () => {
        const rt = await runtime();
        const rng = new Rng(M * 7919 + N * 31 + K);
        const a = rng.uniformArray(M * K);
        const b = rng.uniformArray(N * K);
        const bias = rng.uniformArray(N);
        const c0 = rng.uniformArray(M * N);
        const tc = rt.upload([M, N], c0);
        linear(rt, rt.upload([M, K], a), rt.upload([N, K], b), tc, M, rt.upload([N], bias), true);
        const want = linearRef(a, b, M, N, K, bias).map((v, i) => v + c0[i]);
        expect(maxRelError(await rt.read(tc), want)).toBeLessThan(1e-5);
      });
    }

    it(`${name}: one row picked from a batch into a row of a wider output, scaled (the LM head at prefill)`, async () => {
      const rt = await runtime();
      const [R, N, K] = [5, 9, 16];
      const rng = new Rng(5);
      const a = rng.uniformArray(R * K);
      const b = rng.uniformArray(N * K);
      const tc = rt.upload([3, N], new Float32Array(3 * N));
      matmul(rt, rt.upload([R, K], a), rt.upload([N, K], b), tc, { M: 1, N, K, aSm: K, aSk: 1, bSn: K, bSk: 1, aOff: 3 * K, cOff: 2 * N, alpha: 0.5 });
      const got = await rt.read(tc);
      const want = linearRef(a.slice(3 * K, 4 * K), b, 1, N, K).map((v) => 0.5 * v);
      expect(got.slice(0, 2 * N).every((v) => v === 0)).toBe(true);
      expect(maxRelError(got.slice(2 * N), want)).toBeLessThan(1e-5);
    });
  }

  it('every matmul entry compiles with f16 weights and subgroups (Dawn null backend: validated, not run)', async () => {
    const rt = await createDawnNullRuntime();
    expect(rt.info.f16 && rt.info.subgroups).toBe(true);
    const [M, N, K] = [8, 8, 8];
    const b = rt.upload([N, K], new Float32Array(N * K), 'f16');
    const c = rt.empty([M, N]);
    for (const rows of [1, 8, 16]) {
      const a = rt.upload([rows, K], new Float32Array(rows * K));
      linear(rt, a, b, c, rows); // skinny_vec4_subgroups
      linearBackwardInput(rt, c, b, a, rows); // skinny with strides
    }
    linear(rt, rt.upload([33, K], new Float32Array(33 * K)), b, rt.empty([33, N]), 33); // tiled
    await rt.sync(); // throws with file:line on any WGSL or pipeline error
    rt.destroy();
  });
});
