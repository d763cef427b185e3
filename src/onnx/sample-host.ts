// Token sampling on the host from a row of logits, for backends that hand logits back (onnxruntime-web).
// The same rules and the same counter-based random stream (seed, row, step) as shaders/sample.wgsl, so a
// setting means the same on every backend: greedy = first argmax; else softmax(logits / T) restricted to the
// top-k values (ties at the k-th kept), then to the smallest set of largest probabilities reaching top-p,
// sampled by inverse CDF in vocabulary order. The log-probability is under the full softmax(logits / T).

import type { SamplingParams } from '../ops/sample.ts';

const mul = (a: number, b: number) => Math.imul(a, b) >>> 0;

function pcg(v: number): number {
  const state = (mul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = mul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737);
  return ((word >>> 22) ^ word) >>> 0;
}

/** The shader's uniform01(seq): 24 random bits in [0, 1). */
export function uniform01(seed: number, row: number, step: number): number {
  const bits = pcg((seed ^ pcg((row ^ pcg((step + 0x9e3779b9) >>> 0)) >>> 0)) >>> 0);
  return (bits >>> 8) / 16777216;
}

export function sampleRow(logits: Float32Array, sp: SamplingParams, row: number, step: number): { id: number; logprob: number } {
  const V = logits.length;
  let m = -Infinity;
  let argmax = 0;
  for (let i = 0; i < V; i++) {
    if (logits[i] > m) {
      m = logits[i];
      argmax = i;
    }
  }
  if (sp.temperature <= 0) return { id: argmax, logprob: 0 };
  const invT = 1 / sp.temperature;
  let zFull = 0;
  for (let i = 0; i < V; i++) zFull += Math.exp((logits[i] - m) * invT);

  let kth = -Infinity;
  if (sp.topK > 0 && sp.topK < V) kth = Float32Array.from(logits).sort()[V - sp.topK];
  const probs = new Float64Array(V);
  let mass = 0;
  for (let i = 0; i < V; i++) {
    if (logits[i] >= kth) probs[i] = Math.exp((logits[i] - m) * invT);
    mass += probs[i];
  }
  let theta = 0;
  if (sp.topP < 1) {
    // The largest θ whose kept mass Σ_{p ≥ θ} p still reaches topP of the total.
    const sorted = Float64Array.from(probs).sort().reverse();
    const wanted = sp.topP * mass;
    let kept = 0;
    for (const p of sorted) {
      kept += p;
      theta = p;
      if (kept >= wanted) break;
    }
    mass = 0;
    for (let i = 0; i < V; i++) if (probs[i] >= theta) mass += probs[i];
  }
  const goal = uniform01(sp.seed, row, step) * mass;
  let acc = 0;
  let pick = argmax;
  for (let i = 0; i < V; i++) {
    const p = probs[i];
    if (p >= theta && p > 0) {
      acc += p;
      pick = i;
      if (acc > goal) break;
    }
  }
  return { id: pick, logprob: (logits[pick] - m) * invT - Math.log(zFull) };
}
