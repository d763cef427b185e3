// Embedding gather and its scatter-add backward: GPU against the reference, the reference against finite
// differences of its forward.
import { describe, expect, it } from 'vitest';
import { gpu, maxRelError } from '../helpers/gpu.ts';
import { dot, FD_TOL, GPU_TOL, numericGrad, plus, relErr } from '../helpers/grads.ts';
import { Rng } from '../../src/util/random.ts';
import { embedding, embeddingBackward } from '../../src/ops/embedding.ts';
import { embeddingBackwardRef, embeddingRef } from '../../src/reference/embedding.ts';

describe('embedding', () => {
  it('gather (GPU vs reference)', async () => {
    const rt = await gpu();
    const rng = new Rng(1);
    const [V, D] = [11, 37];
    const table = rng.uniformArray(V * D);
    const ids = [3, 0, 10, 3, 7];
    const out = rt.empty([ids.length, D]);
    embedding(rt, rt.upload([5], ids, 'u32'), rt.upload([V, D], table), out, ids.length);
    expect(maxRelError(await rt.read(out), embeddingRef(ids, table, D))).toBe(0);
  });

  it('backward scatter-adds rows into an existing gradient, repeated ids included (GPU vs reference)', async () => {
    const rt = await gpu();
    const rng = new Rng(11);
    const [V, D] = [40, 70];
    const ids = [3, 19, 3, 0, 39, 19, 3, 35]; // 3 and 19 share a bucket; 3 repeats
    const dOut = rng.uniformArray(ids.length * D);
    const init = rng.uniformArray(V * D);
    const dTable = rt.upload([V, D], init);
    embeddingBackward(rt, rt.upload([ids.length], ids, 'u32'), rt.upload([ids.length, D], dOut), dTable, ids.length);
    expect(relErr(await rt.read(dTable), plus(init, embeddingBackwardRef(ids, dOut, V, D)))).toBeLessThan(GPU_TOL);
  });

  it('reference backward matches finite differences of the reference forward', () => {
    const rng = new Rng(12);
    const [V, D] = [6, 5];
    const ids = [1, 4, 1, 0];
    const table = rng.uniformArray(V * D);
    const g = rng.uniformArray(ids.length * D);
    const fd = numericGrad((t) => dot(g, embeddingRef(ids, t, D)), table);
    expect(relErr(embeddingBackwardRef(ids, g, V, D), fd)).toBeLessThan(FD_TOL);
  });
});
