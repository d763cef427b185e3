// One gradient computation over a batch of (prompt, completion) sequences, micro-batch by micro-batch:
// forward keeping per-layer activations → chunked log-probs of the completion tokens (read back: one
// float per token) → the objective on the host gives dL/dlogp → chunked LM-head backward → model backward.
// The completions of a group share their prompt (as in Prefix Grouper, arXiv 2506.05433): it is forwarded
// once, every completion attends to its keys/values, and its gradient sums all completions' in one
// backward: the same loss and gradients as G separate copies, for ~P + G·n rows instead of G·(P + n).

import type { GpuRuntime, Tensor } from '../gpu/runtime.ts';
import { KvCache, type ModelGrads, type Qwen2Model, type RowBatch } from '../model/model.ts';
import { LayerActivations, RecomputeActivations, ScratchActivations, type Activations } from '../model/activations.ts';
import { tokenLogprobs, tokenLogprobsBackward, type RowSpan } from '../ops/logprob.ts';
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
  /** per trained sequence, the current policy's completion log-probs (logits / T) */
  logprobs: Float32Array[];
  /** GRPO, per trained sequence and token: the ratio π/π_old the objective used, and whether it was clipped */
  ratio: Float64Array[];
  clipped: Uint8Array[];
  /** mean entropy of the trained completion tokens' distributions (NaN when none trained) */
  entropy: number;
  kl: number;
  clipFraction: number;
  /** completion tokens of the batch */
  tokens: number;
  /** sequences that ran forward and backward (the others could not change the gradient) */
  sequences: number;
}

interface Packed {
  batch: RowBatch;
  cache: KvCache;
  targets: Tensor;
  /** per sequence, its first row: row starts[i] + t predicts completion token t */
  starts: number[];
  /** per group, the rows of its completions (the only rows the LM head runs on) */
  spans: RowSpan[];
}

function samePrompt(a: number[], b: number[]): boolean {
  return a === b || (a.length === b.length && a.every((id, i) => id === b[i]));
}

/**
 * Lays sequences out as rows. Consecutive sequences with the same prompt form a group (with `share` off,
 * each sequence is its own): the prompt's first P−1 tokens once, in the group's prefix slot at positions
 * 0..P−2; then per sequence, in a slot of its own, the prompt's last token and its completion but the last
 * token (positions P−1..), reading keys below P−1 from the prefix slot. So row t of a sequence predicts
 * completion token t, and a prompt's gradient sums over its whole group in one backward. The last
 * completion token is only a target: nothing is predicted from it.
 */
function pack(rt: GpuRuntime, model: Qwen2Model, seqs: TrainSequence[], share: boolean): Packed {
  const ids: number[] = [];
  const slots: number[] = []; // (slot, prefix slot, prefix length) per row
  const positions: number[] = [];
  const targets: number[] = [];
  const starts: number[] = [];
  const spans: RowSpan[] = [];
  const limits = { vocabSize: model.config.vocabSize, maxPositions: model.maxPositions };
  const row = (id: number, slot: number, pos: number, prefixSlot: number, prefixLen: number, target: number) => {
    ids.push(id);
    slots.push(slot, prefixSlot, prefixLen);
    positions.push(pos);
    targets.push(target);
  };
  let slot = 0;
  let maxLen = 1;
  for (let i = 0; i < seqs.length; ) {
    const prompt = seqs[i].promptIds;
    let end = i + 1;
    while (share && end < seqs.length && samePrompt(seqs[end].promptIds, prompt)) end++;
    if (prompt.length === 0) throw new Error('a training sequence needs a non-empty prompt');
    const group = seqs.slice(i, end);
    group.forEach((s, j) => {
      checkTokenIds([...prompt, ...s.completionIds], limits, `sequence ${i + j}`);
      maxLen = Math.max(maxLen, prompt.length + s.completionIds.length - 1);
    });
    i = end;
    const shared = prompt.length - 1;
    const prefixSlot = slot++;
    const from = ids.length;
    if (group.some((s) => s.completionIds.length > 0)) {
      for (let p = 0; p < shared; p++) row(prompt[p], prefixSlot, p, prefixSlot, 0, 0);
    }
    const segmentsFrom = ids.length;
    for (const s of group) {
      const own = slot++;
      starts.push(ids.length);
      s.completionIds.forEach((target, t) => row(t === 0 ? prompt[shared] : s.completionIds[t - 1], own, shared + t, prefixSlot, shared, target));
    }
    if (ids.length > from) spans.push({ from: segmentsFrom, to: ids.length });
  }
  const n = ids.length;
  return {
    batch: {
      rows: n,
      ids: rt.upload([n], ids, 'u32', 'train.ids'),
      slots: rt.upload([n, 3], slots, 'u32', 'train.slots'),
      positions: rt.upload([n], positions, 'u32', 'train.positions'),
    },
    cache: new KvCache(rt, model.config, slot, maxLen),
    targets: rt.upload([n], targets, 'u32', 'train.targets'),
    starts,
    spans,
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
  for (const span of p.spans) tokenLogprobs(rt, hidden, model.weights.lmHead, p.targets, span, temperature, { logprobs: lp, entropy: ent });
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
export async function sequenceLogprobs(
  model: Qwen2Model, seqs: TrainSequence[], temperature: number, microBatch: number, sharePrompts = true,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const acts = new ScratchActivations(model.rt);
  for (let i = 0; i < seqs.length; i += microBatch) {
    const part = seqs.slice(i, i + microBatch);
    if (tokensOf(part) === 0) {
      out.push(...part.map(() => new Float32Array(0)));
      continue;
    }
    const p = pack(model.rt, model, part, sharePrompts);
    out.push(...(await forwardLogprobs(model, p, acts, temperature, part)).logprobs);
    releasePacked(p);
  }
  acts.release();
  return out;
}

function tokensOf(seqs: TrainSequence[]): number {
  return seqs.reduce((n, s) => n + s.completionIds.length, 0);
}

/**
 * Whether a sequence can move the objective's gradient. With β = 0 a GRPO sequence of advantage 0 has
 * dL/dlogp = 0 on every token (surrogate −A·ratio = 0, no KL term), so it is left out of the forward and
 * backward; with β ≠ 0 it still carries the KL gradient. SFT trains every sequence.
 */
export function contributes(s: TrainSequence, objective: Objective): boolean {
  return objective.kind === 'sft' || objective.settings.beta !== 0 || (s.advantage ?? 0) !== 0;
}

/**
 * Adds dL/dθ of the objective over all `seqs` into `grads` (zero them first for a fresh step), running
 * `microBatch` sequences at a time; aggregation weights use the whole batch, so the parts add up exactly.
 * Sequences that do not contribute (see `contributes`) count in those weights but are not run: when none
 * does, nothing runs and `grads` is untouched. `recompute` keeps only each layer's input and recomputes
 * the rest during the backward; `sharePrompts` off packs every sequence with its own copy of its prompt.
 * `logprobs` and `entropy` cover the trained sequences only.
 */
export async function accumulateGradients(
  model: Qwen2Model,
  grads: ModelGrads,
  seqs: TrainSequence[],
  objective: Objective,
  temperature: number,
  microBatch: number,
  recompute = false,
  sharePrompts = true,
  /** after each micro-batch's sync: (done, of) */
  onMicroBatch?: (done: number, total: number) => void,
): Promise<BatchResult> {
  const rt = model.rt;
  const totalTokens = tokensOf(seqs);
  const trained = seqs.filter((s) => contributes(s, objective) && s.completionIds.length > 0);
  const trainedTokens = tokensOf(trained);
  const result: BatchResult = { loss: 0, logprobs: [], ratio: [], clipped: [], entropy: 0, kl: 0, clipFraction: 0, tokens: totalTokens, sequences: trained.length };
  const scratch = new ScratchActivations(rt);
  for (let i = 0; i < trained.length; i += microBatch) {
    const part = trained.slice(i, i + microBatch);
    const p = pack(rt, model, part, sharePrompts);
    const acts = recompute ? new RecomputeActivations(rt) : new LayerActivations(rt);
    const { hidden, logprobs, entropy } = await forwardLogprobs(model, p, acts, temperature, part);
    const obj: ObjectiveResult =
      objective.kind === 'sft'
        ? sftObjective(logprobs, totalTokens)
        : grpoObjective(
            part.map((s, j) => ({ logprobs: logprobs[j], oldLogprobs: s.oldLogprobs, refLogprobs: s.refLogprobs, advantage: s.advantage ?? 0 })),
            { ...objective.settings, batch: { sequences: seqs.length, tokens: totalTokens } },
          );
    // dL/dlogp per row: the objective's value on each completion row, zero on the shared prompt rows.
    const dlogp = new Float32Array(p.batch.rows);
    part.forEach((_, j) => dlogp.set(obj.dlogp[j], p.starts[j]));
    const dlogpT = rt.upload([dlogp.length], dlogp, 'f32', 'train.dlogp');
    const dHidden = scratch.get(0, 'dhidden', [p.batch.rows, model.config.hiddenSize]);
    rt.zero(dHidden); // prompt rows get no gradient from the LM head
    for (const span of p.spans) {
      tokenLogprobsBackward(rt, hidden, model.weights.lmHead, p.targets, span, temperature, dlogpT, dHidden, grads.lmHead);
    }
    model.backward(p.batch, p.cache, acts, scratch, dHidden, grads);
    await rt.sync();
    onMicroBatch?.(i / microBatch + 1, Math.ceil(trained.length / microBatch));
    dlogpT.release();
    acts.release();
    releasePacked(p);
    const partTokens = tokensOf(part);
    result.loss += obj.loss;
    result.logprobs.push(...logprobs);
    result.ratio.push(...(obj.ratio ?? []));
    result.clipped.push(...(obj.clipped ?? []));
    result.entropy += entropy;
    result.kl += obj.metrics.kl * partTokens;
    result.clipFraction += obj.metrics.clipFraction * partTokens;
  }
  scratch.release();
  // Sequences left out have no KL (β = 0) and are never clipped (A = 0): they count as zeros.
  if (totalTokens > 0) {
    result.kl /= totalTokens;
    result.clipFraction /= totalTokens;
  }
  result.entropy = trainedTokens > 0 ? result.entropy / trainedTokens : NaN;
  return result;
}
