// One gradient computation over a batch of (prompt, completion) sequences, micro-batch by micro-batch:
// forward keeping per-layer activations → chunked log-probs of the completion tokens (read back: one
// float per token) → the objective on the host gives dL/dlogp → chunked LM-head backward → model backward.

import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { KvCache, LayerActivations, RecomputeActivations, ScratchActivations, type Activations, type ModelGrads, type Qwen2Model, type RowBatch } from '../model/model.ts';
import { tokenLogprobs, tokenLogprobsBackward } from '../ops/logprob.ts';
import { checkTokenIds } from '../model/inputs.ts';
import { grpoObjective, sftObjective, type GrpoSettings, type ObjectiveResult } from './objectives.ts';

export interface TrainSequence {
  promptIds: number[];
  completionIds: number[];
  advantage?: number;
  oldLogprobs?: number[];
  refLogprobs?: number[];
}

export type Objective = { kind: 'sft' } | { kind: 'grpo'; settings: GrpoSettings };

export interface BatchResult {
  loss: number;
  /** per sequence, the current policy's completion log-probs (logits / T) */
  logprobs: Float32Array[];
  /** mean entropy of the completion tokens' distributions */
  entropy: number;
  kl: number;
  clipFraction: number;
  tokens: number;
}

interface Packed {
  batch: RowBatch;
  cache: KvCache;
  targets: Tensor;
  /** first completion row's predecessor per sequence: row of token P−1 */
  starts: number[];
}

/** Lays sequences out as rows (one cache slot each, positions from 0) with next-token targets. */
function pack(rt: GpuRuntime, model: Qwen2Model, seqs: TrainSequence[]): Packed {
  const ids: number[] = [];
  const slots: number[] = [];
  const positions: number[] = [];
  const targets: number[] = [];
  const starts: number[] = [];
  let maxLen = 1;
  const limits = { vocabSize: model.config.vocabSize, maxPositions: model.maxPositions };
  seqs.forEach((s, i) => {
    if (s.promptIds.length === 0) throw new Error('a training sequence needs a non-empty prompt');
    const all = [...s.promptIds, ...s.completionIds];
    checkTokenIds(all, limits, `sequence ${i}`);
    maxLen = Math.max(maxLen, all.length);
    starts.push(ids.length + s.promptIds.length - 1);
    all.forEach((id, p) => {
      ids.push(id);
      slots.push(i);
      positions.push(p);
      targets.push(p + 1 < all.length ? all[p + 1] : 0);
    });
  });
  const n = ids.length;
  return {
    batch: {
      rows: n,
      ids: rt.upload([n], ids, 'u32', 'train.ids'),
      slots: rt.upload([n], slots, 'u32', 'train.slots'),
      positions: rt.upload([n], positions, 'u32', 'train.positions'),
    },
    cache: new KvCache(rt, model.config, seqs.length, maxLen),
    targets: rt.upload([n], targets, 'u32', 'train.targets'),
    starts,
  };
}

function releasePacked(p: Packed): void {
  for (const t of [p.batch.ids, p.batch.slots, p.batch.positions, p.targets]) t.release();
  p.cache.release();
}

async function forwardLogprobs(model: Qwen2Model, p: Packed, acts: Activations, temperature: number, seqs: TrainSequence[]) {
  const rt = model.rt;
  const R = p.batch.rows;
  const hidden = model.forward(p.batch, p.cache, acts);
  const lp = rt.empty([R], 'f32', 'train.logprobs');
  const ent = rt.empty([R], 'f32', 'train.entropy');
  tokenLogprobs(rt, hidden, model.weights.lmHead, p.targets, R, temperature, { logprobs: lp, entropy: ent });
  const all = (await rt.read(lp)) as Float32Array;
  const entAll = (await rt.read(ent)) as Float32Array;
  lp.release();
  ent.release();
  let entropy = 0;
  const logprobs = seqs.map((s, i) => {
    const from = p.starts[i];
    for (let t = 0; t < s.completionIds.length; t++) entropy += entAll[from + t];
    return all.slice(from, from + s.completionIds.length);
  });
  return { hidden, logprobs, entropy };
}

/** Completion log-probs under the model as it is (no gradients), micro-batched. Old and reference log-probs. */
export async function sequenceLogprobs(model: Qwen2Model, seqs: TrainSequence[], temperature: number, microBatch: number): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const acts = new ScratchActivations(model.rt);
  for (let i = 0; i < seqs.length; i += microBatch) {
    const part = seqs.slice(i, i + microBatch);
    const p = pack(model.rt, model, part);
    out.push(...(await forwardLogprobs(model, p, acts, temperature, part)).logprobs);
    releasePacked(p);
  }
  acts.release();
  return out;
}

/**
 * Adds dL/dθ of the objective over all `seqs` into `grads` (zero them first for a fresh step), running
 * `microBatch` sequences at a time; aggregation weights use the whole batch, so the parts add up exactly.
 * `recompute` keeps only each layer's input and recomputes the rest during the backward.
 */
export async function accumulateGradients(
  model: Qwen2Model,
  grads: ModelGrads,
  seqs: TrainSequence[],
  objective: Objective,
  temperature: number,
  microBatch: number,
  recompute = false,
): Promise<BatchResult> {
  const rt = model.rt;
  const totalTokens = seqs.reduce((n, s) => n + s.completionIds.length, 0);
  const result: BatchResult = { loss: 0, logprobs: [], entropy: 0, kl: 0, clipFraction: 0, tokens: totalTokens };
  const scratch = new ScratchActivations(rt);
  for (let i = 0; i < seqs.length; i += microBatch) {
    const part = seqs.slice(i, i + microBatch);
    const p = pack(rt, model, part);
    const acts = recompute ? new RecomputeActivations(rt) : new LayerActivations(rt);
    const { hidden, logprobs, entropy } = await forwardLogprobs(model, p, acts, temperature, part);
    const obj: ObjectiveResult =
      objective.kind === 'sft'
        ? sftObjective(logprobs, totalTokens)
        : grpoObjective(
            part.map((s, j) => ({ logprobs: logprobs[j], oldLogprobs: s.oldLogprobs, refLogprobs: s.refLogprobs, advantage: s.advantage ?? 0 })),
            { ...objective.settings, batch: { sequences: seqs.length, tokens: totalTokens } },
          );
    // dL/dlogp per row: the objective's value on each completion row, zero on prompt rows.
    const dlogp = new Float32Array(p.batch.rows);
    part.forEach((_, j) => dlogp.set(obj.dlogp[j], p.starts[j]));
    const dlogpT = rt.upload([dlogp.length], dlogp, 'f32', 'train.dlogp');
    const dHidden = scratch.get(0, 'dhidden', [p.batch.rows, model.config.hiddenSize]);
    tokenLogprobsBackward(rt, hidden, model.weights.lmHead, p.targets, p.batch.rows, temperature, dlogpT, dHidden, grads.lmHead);
    model.backward(p.batch, p.cache, acts, scratch, dHidden, grads);
    await rt.sync();
    dlogpT.release();
    acts.release();
    releasePacked(p);
    const partTokens = part.reduce((n, s) => n + s.completionIds.length, 0);
    result.loss += obj.loss;
    result.logprobs.push(...logprobs);
    result.entropy += entropy;
    result.kl += obj.metrics.kl * partTokens;
    result.clipFraction += obj.metrics.clipFraction * partTokens;
  }
  scratch.release();
  if (totalTokens > 0) {
    result.entropy /= totalTokens;
    result.kl /= totalTokens;
    result.clipFraction /= totalTokens;
  }
  return result;
}
