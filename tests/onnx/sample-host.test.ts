// The host sampler (ORT backends) against shaders/sample.wgsl on the same logits: the same token for every
// (seed, row, step) and setting, the same log-probabilities, so a sampling setting means the same on every backend.
import { describe, expect, it } from 'vitest';
import { gpu } from '../helpers/gpu.ts';
import { sample, type SamplingParams } from '../../src/ops/sample.ts';
import { sampleRow } from '../../src/onnx/sample-host.ts';
import { Rng } from '../../src/util/random.ts';

// Small: the shader's top-k / top-p bisections are slow on SwiftShader.
const V = 256;
const ROWS = 32;

/** The shader's picks for ROWS rows at `step`, and the host's for the same rows and step. */
async function both(logits: Float32Array, sp: SamplingParams, step: number) {
  const rt = await gpu();
  const ids = rt.empty([ROWS], 'u32');
  const lp = rt.empty([ROWS]);
  const input = rt.upload([ROWS, V], logits);
  const scratch = rt.empty([ROWS, V]);
  sample(rt, input, scratch, ids, lp, ROWS, V, sp, step);
  const gpuIds = Array.from(await rt.read(ids));
  const gpuLogprobs = Array.from(await rt.read(lp));
  for (const t of [ids, lp, input, scratch]) t.release();
  const host = Array.from({ length: ROWS }, (_, r) => sampleRow(logits.subarray(r * V, (r + 1) * V), sp, r, step));
  return { gpuIds, gpuLogprobs, hostIds: host.map((h) => h.id), hostLogprobs: host.map((h) => h.logprob) };
}

/** ROWS copies of one row (so the picks are draws from one distribution), or ROWS different rows. */
function logitsOf(rng: Rng, same: boolean): Float32Array {
  const out = new Float32Array(ROWS * V);
  const one = rng.uniformArray(V, -3, 3);
  for (let r = 0; r < ROWS; r++) out.set(same ? one : rng.uniformArray(V, -3, 3), r * V);
  return out;
}

describe('host sampler = sample.wgsl', () => {
  it('greedy: the first argmax on ties, log-prob 0', async () => {
    const logits = logitsOf(new Rng(1), false);
    logits[3] = 9;
    logits[7] = 9; // row 0: a tie, the lower index wins
    const r = await both(logits, { temperature: 0, topK: 0, topP: 1, seed: 5 }, 0);
    expect(r.hostIds).toEqual(r.gpuIds);
    expect(r.hostIds[0]).toBe(3);
    expect(r.hostLogprobs.every((l) => l === 0)).toBe(true);
  });

  const settings: [string, SamplingParams][] = [
    ['temperature 1', { temperature: 1, topK: 0, topP: 1, seed: 11 }],
    ['temperature 0.7, top-k 20, top-p 0.8 (the studio default)', { temperature: 0.7, topK: 20, topP: 0.8, seed: 1 }],
    ['temperature 0.5, top-p 0.5', { temperature: 0.5, topK: 0, topP: 0.5, seed: 3 }],
  ];
  for (const [name, sp] of settings) {
    it(`${name}: the same tokens for every row and step, the same log-probabilities`, async () => {
      const rng = new Rng(sp.seed + 100);
      for (const [step, same] of [[0, true], [7, false]] as const) {
        const r = await both(logitsOf(rng, same), sp, step);
        expect(r.hostIds).toEqual(r.gpuIds);
        for (let i = 0; i < ROWS; i++) expect(Math.abs(r.hostLogprobs[i] - r.gpuLogprobs[i])).toBeLessThan(1e-4);
        if (same) expect(new Set(r.hostIds).size).toBeGreaterThan(1); // really sampled, not a constant
      }
    });
  }
});
