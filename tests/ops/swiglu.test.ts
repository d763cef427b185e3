// SwiGLU and its backward: GPU against the reference, the reference against finite differences of its
// forward.
import { describe, expect, it } from 'vitest';
import { gpu, maxRelError } from '../helpers/gpu.ts';
import { dot, FD_TOL, GPU_TOL, numericGrad, relErr } from '../helpers/grads.ts';
import { Rng } from '../../src/util/random.ts';
import { swiglu, swigluBackward } from '../../src/ops/swiglu.ts';
import { swigluBackwardRef, swigluRef } from '../../src/reference/swiglu.ts';

describe('swiglu', () => {
  it('forward (GPU vs reference)', async () => {
    const rt = await gpu();
    const rng = new Rng(4);
    const [R, I] = [3, 270];
    const gu = rng.uniformArray(R * 2 * I, -4, 4);
    const h = rt.empty([R, I]);
    swiglu(rt, rt.upload([R, 2 * I], gu), h, R, I);
    expect(maxRelError(await rt.read(h), swigluRef(gu, R, I))).toBeLessThan(1e-5);
  });

  it('backward (GPU vs reference)', async () => {
    const rt = await gpu();
    const rng = new Rng(31);
    const [R, I] = [3, 270];
    const gu = rng.uniformArray(R * 2 * I, -6, 6);
    const dh = rng.uniformArray(R * I);
    const dgu = rt.empty([R, 2 * I]);
    swigluBackward(rt, rt.upload([R, 2 * I], gu), rt.upload([R, I], dh), dgu, R, I);
    expect(relErr(await rt.read(dgu), swigluBackwardRef(gu, dh, R, I))).toBeLessThan(GPU_TOL);
  });

  it('reference backward matches finite differences of the reference forward', () => {
    const rng = new Rng(32);
    const [R, I] = [2, 5];
    const gu = rng.uniformArray(R * 2 * I, -4, 4);
    const g = rng.uniformArray(R * I);
    const fd = numericGrad((x) => dot(g, swigluRef(x, R, I)), gu);
    expect(relErr(swigluBackwardRef(gu, g, R, I), fd)).toBeLessThan(FD_TOL);
  });
});
