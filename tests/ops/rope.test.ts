// Rotary embedding and its backward (the inverse rotation): GPU against the reference, the GPU's inverse
// as the adjoint of its forward, the reference's inverse against finite differences of its forward.
import { describe, expect, it } from 'vitest';
import { gpu, maxRelError } from '../helpers/gpu.ts';
import { dot, FD_TOL, numericGrad, relErr } from '../helpers/grads.ts';
import { Rng } from '../../src/util/random.ts';
import { rope, ropeTables } from '../../src/ops/rope.ts';
import { ropeRef } from '../../src/reference/rope.ts';

describe('rope', () => {
  it('on a column slice, with per-row positions and theta 1e6; inverse undoes it (GPU vs reference)', async () => {
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

  it('reference backward (the inverse rotation) matches finite differences of the reference forward', () => {
    const rng = new Rng(45);
    const [R, H, hd, stride, off] = [3, 2, 4, 10, 1];
    const positions = [0, 5, 17];
    const x = rng.uniformArray(R * stride);
    const g = rng.uniformArray(R * stride);
    const fd = numericGrad((xx) => dot(g, ropeRef(xx, positions, H, hd, stride, off, 1e4)), x);
    expect(relErr(ropeRef(g, positions, H, hd, stride, off, 1e4, true), fd)).toBeLessThan(FD_TOL);
  });
});
