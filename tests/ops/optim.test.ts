// Optimizer: gradient norm and AdamW (with clipping and the non-finite skip) on the GPU against the f64
// reference; the reference against closed-form AdamW facts.
import { describe, expect, it } from 'vitest';
import { gpu } from '../helpers/gpu.ts';
import { relErr } from '../helpers/grads.ts';
import { Rng } from '../../src/util/random.ts';
import { adamw, gradNorm, optimizerStep, type AdamWConfig } from '../../src/ops/optim.ts';
import { adamwRef, gradNormRef } from '../../src/reference/optim.ts';

const CFG: AdamWConfig = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, maxNorm: 1 };

describe('global gradient norm', () => {
  it('matches the reference over tensors of many sizes, bit-identical across runs', async () => {
    const rt = await gpu();
    const rng = new Rng(61);
    const sizes = [1, 255, 256, 1000, 70_001]; // the last one grid-strides over 256 workgroups
    const host = sizes.map((n) => rng.uniformArray(n));
    const grads = host.map((g, i) => rt.upload([g.length], g, 'f32', `g${i}`));
    const norm = rt.empty([1]);
    gradNorm(rt, grads, norm);
    const first = (await rt.read(norm))[0];
    expect(Math.abs(first - gradNormRef(host)) / gradNormRef(host)).toBeLessThan(1e-5);
    gradNorm(rt, grads, norm);
    expect((await rt.read(norm))[0]).toBe(first);
  });
});

describe('AdamW', () => {
  it('several steps over three tensors, clipping on and off, per-tensor weight decay (GPU vs reference)', async () => {
    const rt = await gpu();
    const rng = new Rng(62);
    const sizes = [300, 5, 1025];
    const decay = [0.1, 0, 0.1];
    const p = sizes.map((n) => Float64Array.from(rng.uniformArray(n)));
    const m = sizes.map((n) => new Float64Array(n));
    const v = sizes.map((n) => new Float64Array(n));
    const states = sizes.map((n, i) => ({
      param: rt.upload([n], Float32Array.from(p[i])),
      grad: rt.empty([n]),
      m: rt.upload([n], new Float32Array(n)),
      v: rt.upload([n], new Float32Array(n)),
      weightDecay: decay[i],
    }));
    const norm = rt.empty([1]);
    let clipped = 0;
    for (let t = 1; t <= 6; t++) {
      const scale = t % 2 ? 0.01 : 1; // small grads: under maxNorm; large: clipped
      const g = sizes.map((n) => rng.uniformArray(n, -scale, scale));
      states.forEach((s, i) => rt.write(s.grad, g[i]));
      optimizerStep(rt, states, norm, CFG, t);
      const n = gradNormRef(g);
      if (n > CFG.maxNorm) clipped++;
      for (let i = 0; i < sizes.length; i++) adamwRef(p[i], g[i], m[i], v[i], n, { ...CFG, weightDecay: decay[i] }, t);
      expect(Math.abs((await rt.read(norm))[0] - n) / n).toBeLessThan(1e-5);
    }
    expect(clipped).toBe(3);
    for (let i = 0; i < sizes.length; i++) {
      expect(relErr(await rt.read(states[i].param), p[i])).toBeLessThan(1e-5);
      expect(relErr(await rt.read(states[i].m), m[i])).toBeLessThan(1e-5);
      expect(relErr(await rt.read(states[i].v), v[i])).toBeLessThan(1e-5);
    }
  });

  it('a NaN or Inf gradient skips the step: weights and moments untouched, the norm reads non-finite', async () => {
    const rt = await gpu();
    const rng = new Rng(63);
    const n = 513;
    const [p0, m0, v0] = [rng.uniformArray(n), rng.uniformArray(n), rng.uniformArray(n, 0, 1)];
    for (const bad of [NaN, Infinity, -Infinity]) {
      const states = [
        { param: rt.upload([n], p0), grad: rt.upload([n], rng.uniformArray(n)), m: rt.upload([n], m0), v: rt.upload([n], v0) },
        { param: rt.upload([3], [1, 2, 3]), grad: rt.upload([3], [0.5, bad, 0.5]), m: rt.empty([3]), v: rt.empty([3]) },
      ];
      rt.zero(states[1].m);
      rt.zero(states[1].v);
      const norm = rt.empty([1]);
      optimizerStep(rt, states, norm, CFG, 3);
      expect(Number.isFinite((await rt.read(norm))[0])).toBe(false);
      expect(Array.from(await rt.read(states[0].param))).toEqual(Array.from(p0));
      expect(Array.from(await rt.read(states[0].m))).toEqual(Array.from(m0));
      expect(Array.from(await rt.read(states[0].v))).toEqual(Array.from(v0));
      expect(Array.from(await rt.read(states[1].param))).toEqual([1, 2, 3]);
    }
  });

  it('a single tensor without clipping (maxNorm 0) steps even with a huge gradient', async () => {
    const rt = await gpu();
    const g = [1e3, -2e3, 5e2, 0];
    const p = Float64Array.from([0.5, -0.5, 1, 2]);
    const [m, v] = [new Float64Array(4), new Float64Array(4)];
    const param = rt.upload([4], Float32Array.from(p));
    const [tm, tv] = [rt.upload([4], new Float32Array(4)), rt.upload([4], new Float32Array(4))];
    const grad = rt.upload([4], g);
    const norm = rt.empty([1]);
    const cfg = { ...CFG, maxNorm: 0 };
    gradNorm(rt, [grad], norm);
    adamw(rt, param, grad, tm, tv, norm, cfg, 1);
    adamwRef(p, g, m, v, gradNormRef([g]), cfg, 1);
    expect(relErr(await rt.read(param), p)).toBeLessThan(1e-6);
  });

  it('reference: step 1 moves each weight by lr·sign(g) after decay p·(1 − lr·wd); zero grads only decay', () => {
    const g = [3, -0.2, 1e-3, 0];
    const p = Float64Array.from([1, 1, -1, 2]);
    const [m, v] = [new Float64Array(4), new Float64Array(4)];
    const cfg = { ...CFG, eps: 1e-12, maxNorm: 0 };
    adamwRef(p, g, m, v, gradNormRef([g]), cfg, 1);
    const decay = 1 - cfg.lr * cfg.weightDecay;
    const want = [decay - cfg.lr, decay + cfg.lr, -decay - cfg.lr, 2 * decay];
    expect(relErr(p, want)).toBeLessThan(1e-9);
  });

  it('reference: clipping scales grads by maxNorm / (norm + 1e-6), so Adam moments see the clipped grads', () => {
    const g = [3, 4]; // norm 5
    const [p, m, v] = [new Float64Array(2), new Float64Array(2), new Float64Array(2)];
    adamwRef(p, g, m, v, 5, { ...CFG, maxNorm: 1 }, 1);
    const s = 1 / (5 + 1e-6);
    expect(relErr(m, [0.1 * 3 * s, 0.1 * 4 * s])).toBeLessThan(1e-12);
    expect(relErr(v, [0.001 * 9 * s * s, 0.001 * 16 * s * s])).toBeLessThan(1e-12);
  });
});
