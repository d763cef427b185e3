// Inference benchmark: prefill and batched decode through the real Generator.generateBatch, at several
// batch sizes, plus per-kernel GPU time (timestamp queries) of one extra, separately profiled decode step.
import type { GpuRuntime } from '../gpu/runtime.ts';
import type { LoadedModel } from '../model/source.ts';
import { instantiateModel } from '../model/instantiate.ts';
import { Generator } from '../model/generate.ts';
import { Rng } from '../util/random.ts';

export interface InferenceOptions {
  promptTokens: number;
  /** tokens generated per sequence in the timed run (the first comes from the prefill's logits) */
  newTokens: number;
  batches: number[];
  /** batch sizes whose extra decode step is profiled per kernel (empty: none) */
  profileBatches: number[];
  /** kernels listed per profiled step */
  topKernels: number;
  /**
   * rounds over the batch sizes, alternating so that a busy machine slows every size alike. Round 1 measures
   * prefill (promptTokens) and decode; later rounds use 1-token prompts (their prefill costs about one decode
   * step) and only re-measure decode. Each size reports its fastest decode round.
   */
  repeats: number;
  log: (msg: string) => void;
}

export interface BatchResult {
  batch: number;
  promptTokens: number;
  prefillMs: number;
  prefillTokensPerSec: number;
  decodeSteps: number;
  /** mean wall time of one decode step (forward of B rows, logits, sampling, readback of B ids) */
  decodeStepMs: number;
  decodeTokensPerSec: number;
  /** decode step time of every round (ms) */
  roundsStepMs: number[];
}

export interface KernelShare {
  kernel: string;
  calls: number;
  ms: number;
  share: number;
}

export interface StepProfile {
  batch: number;
  /** wall time of the profiled step (every dispatch in its own timed pass: a little slower) */
  wallMs: number;
  gpuMs: number;
  top: KernelShare[];
}

export interface InferenceResult {
  model: string;
  parameters: number;
  weightDtype: string;
  batches: BatchResult[];
  /** decode step time at the largest batch / at batch 1 */
  decodeRatio: number | null;
  ratioBatches: [number, number] | null;
  profiles: StepProfile[];
  bytesHeld: number;
}

export function parameterCount(loaded: LoadedModel): number {
  let n = 0;
  for (const t of loaded.tensors.values()) n += t.shape.reduce((a, b) => a * b, 1);
  return n;
}

function randomPrompts(vocab: number, count: number, length: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => Array.from({ length }, () => rng.int(vocab)));
}

/** Compiles every pipeline a run at these batch sizes uses (pipelines do not depend on the model's size). */
export async function warmUp(rt: GpuRuntime, small: LoadedModel, batches: number[], promptTokens: number): Promise<void> {
  const model = instantiateModel(rt, small, { maxPositions: promptTokens + 4 });
  const gen = new Generator(model);
  await gen.prepare();
  for (const b of batches) {
    await gen.generateBatch(randomPrompts(small.config.vocabSize, b, promptTokens, 99), {
      n: 1, maxNewTokens: 3, eosIds: [], sampling: { temperature: 1, topK: 0, topP: 1, seed: 1 },
    });
  }
  gen.release();
  model.release();
  await rt.sync();
}

export interface ColdStart {
  model: string;
  /** weights uploaded (instantiateModel) */
  uploadMs: number;
  /** Generator.prepare: every pipeline generation uses, compiled together */
  pipelinesMs: number;
  pipelines: number;
  /** prefill of one prompt to its first sampled token */
  firstTokenMs: number;
  totalMs: number;
}

/** Load to first token on a runtime that has compiled nothing yet, as the studio does it. */
export async function coldStart(rt: GpuRuntime, loaded: LoadedModel, promptTokens: number): Promise<ColdStart> {
  const t0 = performance.now();
  const model = instantiateModel(rt, loaded, { maxPositions: promptTokens + 2 });
  await rt.sync();
  const t1 = performance.now();
  const gen = new Generator(model);
  let pipelines = 0;
  await gen.prepare((_, total) => (pipelines = total));
  const t2 = performance.now();
  await gen.generate(randomPrompts(loaded.config.vocabSize, 1, promptTokens, 5)[0], {
    n: 1, maxNewTokens: 1, eosIds: [], sampling: { temperature: 1, topK: 0, topP: 1, seed: 1 },
  });
  const t3 = performance.now();
  gen.release();
  model.release();
  await rt.sync();
  return { model: loaded.source, uploadMs: t1 - t0, pipelinesMs: t2 - t1, pipelines, firstTokenMs: t3 - t2, totalMs: t3 - t0 };
}

export async function benchInference(rt: GpuRuntime, loaded: LoadedModel, opts: InferenceOptions): Promise<InferenceResult> {
  const cfg = loaded.config;
  const model = instantiateModel(rt, loaded, { maxPositions: opts.promptTokens + opts.newTokens + 1 });
  const gen = new Generator(model);
  const profiles: StepProfile[] = [];

  /** One generateBatch of B prompts; with `profile`, one more decode step timed per kernel. */
  const runOnce = async (B: number, promptTokens: number, profile: boolean): Promise<BatchResult> => {
    const timed = opts.newTokens;
    const stamps: number[] = [];
    opts.log(`  B=${B}: prefill ${B}×${promptTokens} tokens, ${timed - 1} decode step(s)${profile ? ' + 1 profiled' : ''}`);
    const result = await gen.generateBatch(randomPrompts(cfg.vocabSize, B, promptTokens, 7 + B), {
      n: 1,
      maxNewTokens: timed + (profile ? 1 : 0),
      eosIds: [],
      sampling: { temperature: 1, topK: 0, topP: 1, seed: 1 },
      onStep: (step) => {
        stamps.push(performance.now());
        if (profile && step === timed - 1) {
          rt.timings.clear(); // nothing is pending: profiling was off until now
          rt.setProfiling(true);
        }
      },
    });
    const decodeSteps = timed - 1;
    const decodeMs = decodeSteps > 0 ? stamps[timed - 1] - stamps[0] : 0;
    const r: BatchResult = {
      batch: B,
      promptTokens,
      prefillMs: result.prefillMs,
      prefillTokensPerSec: result.prefillTokensPerSec,
      decodeSteps,
      decodeStepMs: decodeSteps > 0 ? decodeMs / decodeSteps : NaN,
      decodeTokensPerSec: decodeSteps > 0 ? ((B * decodeSteps) / decodeMs) * 1000 : NaN,
      roundsStepMs: [],
    };
    if (profile) {
      const timings = await rt.kernelTimings();
      rt.setProfiling(false);
      const entries = [...timings.entries()].map(([kernel, t]) => ({ kernel, calls: t.calls, ms: t.ms }));
      timings.clear();
      const gpuMs = entries.reduce((a, e) => a + e.ms, 0);
      profiles.push({
        batch: B,
        wallMs: stamps[timed] - stamps[timed - 1],
        gpuMs,
        top: entries.sort((a, b) => b.ms - a.ms).slice(0, opts.topKernels).map((e) => ({ ...e, share: gpuMs > 0 ? e.ms / gpuMs : 0 })),
      });
    }
    opts.log(
      `    prefill ${r.prefillTokensPerSec.toFixed(2)} tok/s (${(r.prefillMs / 1000).toFixed(2)} s), ` +
        `decode ${r.decodeTokensPerSec.toFixed(2)} tok/s (${(r.decodeStepMs / 1000).toFixed(2)} s/step)`,
    );
    return r;
  };

  const batches: BatchResult[] = [];
  try {
    const rounds: BatchResult[][] = [];
    for (let round = 0; round < opts.repeats; round++) {
      const last = round === opts.repeats - 1;
      const results: BatchResult[] = [];
      for (const B of opts.batches) {
        results.push(await runOnce(B, round === 0 ? opts.promptTokens : 1, last && opts.profileBatches.includes(B) && rt.info.timestamps));
      }
      rounds.push(results);
    }
    // Per batch size: prefill from round 1, decode from the fastest round.
    opts.batches.forEach((_, i) => {
      const all = rounds.map((r) => r[i]);
      const decode = all.reduce((a, b) => (b.decodeStepMs < a.decodeStepMs ? b : a));
      batches.push({ ...all[0], decodeStepMs: decode.decodeStepMs, decodeTokensPerSec: decode.decodeTokensPerSec, roundsStepMs: all.map((b) => b.decodeStepMs) });
    });
  } finally {
    rt.setProfiling(false);
  }
  const bytesHeld = rt.bytesHeld;
  const weightDtype = model.weights.layers[0].qkv.dtype;
  gen.release();
  model.release();
  await rt.sync();
  const one = batches.find((b) => b.batch === 1);
  const most = batches.reduce((a, b) => (b.batch > a.batch ? b : a), batches[0]);
  const ratio = one && most && most.batch > 1 && Number.isFinite(one.decodeStepMs) ? most.decodeStepMs / one.decodeStepMs : null;
  return {
    model: loaded.source,
    parameters: parameterCount(loaded),
    weightDtype,
    batches,
    decodeRatio: ratio,
    ratioBatches: ratio === null ? null : [most.batch, 1],
    profiles,
    bytesHeld,
  };
}
