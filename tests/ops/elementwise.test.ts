// Elementwise kernels against their references.
import { describe, expect, it } from 'vitest';
import { gpu, maxRelError } from '../helpers/gpu.ts';
import { Rng } from '../../src/util/random.ts';
import { add } from '../../src/ops/elementwise.ts';
import { addRef } from '../../src/reference/elementwise.ts';

describe('elementwise', () => {
  it('add matches the reference', async () => {
    const rt = await gpu();
    const rng = new Rng(11);
    const a = rng.uniformArray(1000);
    const b = rng.uniformArray(1000);
    const out = rt.empty([1000]);
    add(rt, rt.upload([1000], a), rt.upload([1000], b), out);
    expect(maxRelError(await rt.read(out), addRef(a, b))).toBe(0);
  });
});
