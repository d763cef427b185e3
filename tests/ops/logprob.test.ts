// Token log-probabilities through the LM head, chunked, and their backward: GPU against the reference, the
// reference against finite differences of its forward.
import { describe, expect, it } from 'vitest';
import { gpu } from '../helpers/gpu.ts';
import { dot, FD_TOL, GPU_TOL, numericGrad, plus, relErr } from '../helpers/grads.ts';
import { Rng } from '../../src/util/random.ts';
import { tokenLogprobs, tokenLogprobsBackward } from '../../src/ops/logprob.ts';
import { tokenLogprobsBackwardRef, tokenLogprobsRef } from '../../src/reference/logprob.ts';

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
    expect(relErr(await rt.read(dW), plus(dwInit, bref.dW))).toBeLessThan(GPU_TOL);
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
