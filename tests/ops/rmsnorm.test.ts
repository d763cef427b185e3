// RMSNorm and its backward: GPU against the reference, the reference against finite differences of its
// forward.
import { describe, expect, it } from 'vitest';
import { gpu, maxRelError } from '../helpers/gpu.ts';
import { dot, FD_TOL, GPU_TOL, numericGrad, plus, relErr } from '../helpers/grads.ts';
import { Rng } from '../../src/util/random.ts';
import { createNodeRuntime } from '../../src/gpu/node.ts';
import type { GpuRuntime } from '../../src/gpu/runtime.ts';
import { rmsnorm, rmsnormBackward } from '../../src/ops/rmsnorm.ts';
import { rmsnormBackwardRef, rmsnormRef } from '../../src/reference/rmsnorm.ts';

describe('rmsnorm', () => {
  // The subgroup forward where the adapter has subgroups (SwiftShader does, size 4), the workgroup one otherwise.
  let plainRt: Promise<GpuRuntime> | null = null;
  const runtimes: [string, () => Promise<GpuRuntime>][] = [
    ['subgroups where the adapter has them', gpu],
    ['no subgroups', () => (plainRt ??= createNodeRuntime({ disableFeatures: ['subgroups'] }))],
  ];
  for (const [name, runtime] of runtimes) {
    it(`${name}: forward and its saved 1/rms (GPU vs reference)`, async () => {
      const rt = await runtime();
      const rng = new Rng(2);
      const [R, D] = [37, 300];
      const x = rng.uniformArray(R * D, -3, 3);
      const w = rng.uniformArray(D);
      const y = rt.empty([R, D]);
      const rstd = rt.empty([R]);
      rmsnorm(rt, rt.upload([R, D], x), rt.upload([D], w), y, rstd, R, 1e-6);
      const ref = rmsnormRef(x, w, 1e-6);
      expect(maxRelError(await rt.read(y), ref.y)).toBeLessThan(1e-5);
      expect(maxRelError(await rt.read(rstd), ref.rstd)).toBeLessThan(1e-5);
    });
  }

  it('backward: dx (written and accumulated) and dw accumulated over rows (GPU vs reference)', async () => {
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
    const ref = rmsnormBackwardRef(x, w, rmsnormRef(x, w, 1e-6).rstd, dy);
    const dx = rt.empty([R, D]);
    const dwInit = rng.uniformArray(D);
    const dw = rt.upload([D], dwInit);
    const tdy = rt.upload([R, D], dy);
    rmsnormBackward(rt, tx, tw, rstd, tdy, dx, dw, R);
    expect(relErr(await rt.read(dx), ref.dx)).toBeLessThan(GPU_TOL);
    expect(relErr(await rt.read(dw), plus(dwInit, ref.dw))).toBeLessThan(GPU_TOL);
    const resid = rng.uniformArray(R * D);
    const dxAcc = rt.upload([R, D], resid);
    rmsnormBackward(rt, tx, tw, rstd, tdy, dxAcc, null, R, true);
    expect(relErr(await rt.read(dxAcc), plus(resid, ref.dx))).toBeLessThan(GPU_TOL);
  });

  it('reference backward matches finite differences of the reference forward in x and w', () => {
    const rng = new Rng(22);
    const [R, D] = [3, 7];
    const x = rng.uniformArray(R * D, -2, 2);
    const w = rng.uniformArray(D);
    const g = rng.uniformArray(R * D);
    const ref = rmsnormBackwardRef(x, w, rmsnormRef(x, w, 1e-6).rstd, g);
    expect(relErr(ref.dx, numericGrad((xx) => dot(g, rmsnormRef(xx, w, 1e-6).y), x))).toBeLessThan(FD_TOL);
    expect(relErr(ref.dw, numericGrad((ww) => dot(g, rmsnormRef(x, ww, 1e-6).y), w))).toBeLessThan(FD_TOL);
  });
});
