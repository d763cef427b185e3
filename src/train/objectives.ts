// The training objectives as plain functions of per-token log-probabilities: the loss, its gradient with
// respect to each log-prob (what the GPU backward starts from), and the metrics the live panel shows.
// The model's gradient is then dL/dθ = Σ_t dL/dlogp_t · dlogp_t/dθ.

export type LossType = 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo';
export type ScaleRewards = 'group' | 'batch' | 'none';

export interface GrpoSettings {
  lossType: LossType;
  epsilonLow: number;
  epsilonHigh: number;
  beta: number;
  /** verl clamps the k3 estimate to ±10; TRL does not */
  klClamp: number | null;
  /** dr_grpo's denominator: B · maxCompletionLength */
  maxCompletionLength: number;
  /** dapo's denominator: completion tokens of the whole generation batch (defaults to this batch's) */
  generationBatchTokens?: number;
  /**
   * The optimiser batch these sequences belong to, when they are one micro-batch of it: aggregation
   * weights then use the whole batch's sequence and token counts, so micro-batch losses and gradients
   * simply add up. Defaults to the sequences passed.
   */
  batch?: { sequences: number; tokens: number };
}

/** One sequence's completion tokens as seen by the objective. */
export interface TokenSeq {
  logprobs: ArrayLike<number>; // current policy, logits / T
  oldLogprobs?: ArrayLike<number>; // sampling policy; absent = on-policy (old = current, detached)
  refLogprobs?: ArrayLike<number>; // reference policy, needed when β ≠ 0
  advantage: number;
}

export interface ObjectiveResult {
  loss: number;
  /** dL/dlogp per token, same layout as the inputs */
  dlogp: Float64Array[];
  /** per token: π/π_old and whether the clipped branch was taken (no gradient through the ratio); GRPO only */
  ratio?: Float64Array[];
  clipped?: Uint8Array[];
  metrics: { kl: number; clipFraction: number; tokens: number };
}

/** One group's rewards as the advantages use them: the mean, and the std they divide by (null: none). */
export interface GroupStats {
  mean: number;
  std: number | null;
  /** every reward the same: the group's advantages are all 0 */
  allEqual: boolean;
}

/** Per group: its mean and the std that scaling divides by (unbiased; the whole batch's for 'batch'). */
export function groupStats(rewards: number[], groupSize: number, scale: ScaleRewards): GroupStats[] {
  if (rewards.length % groupSize !== 0) throw new Error(`${rewards.length} rewards do not split into groups of ${groupSize}`);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = (xs: number[]) => {
    if (xs.length < 2) return 0;
    const m = mean(xs);
    return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
  };
  const batchStd = std(rewards);
  const out: GroupStats[] = [];
  for (let g = 0; g < rewards.length; g += groupSize) {
    const group = rewards.slice(g, g + groupSize);
    out.push({ mean: mean(group), std: scale === 'group' ? std(group) : scale === 'batch' ? batchStd : null, allEqual: group.every((r) => r === group[0]) });
  }
  return out;
}

/** Group-normalised advantages: (r − mean_group) / (std + eps), unbiased std; all-equal groups get 0. */
export function groupAdvantages(rewards: number[], groupSize: number, scale: ScaleRewards, eps: number): number[] {
  const stats = groupStats(rewards, groupSize, scale);
  return rewards.map((r, i) => {
    const { mean, std, allEqual } = stats[Math.floor(i / groupSize)];
    return allEqual ? 0 : std === null ? r - mean : (r - mean) / (std + eps);
  });
}

/** Per-sequence token weights implementing each loss_type's aggregation. */
function tokenWeights(seqs: TokenSeq[], s: GrpoSettings): number[] {
  const lengths = seqs.map((q) => q.logprobs.length);
  const B = s.batch?.sequences ?? seqs.length;
  const total = s.batch?.tokens ?? lengths.reduce((a, b) => a + b, 0);
  switch (s.lossType) {
    case 'grpo':
      return lengths.map((n) => (n > 0 ? 1 / (B * n) : 0));
    case 'bnpo':
      return lengths.map(() => (total > 0 ? 1 / total : 0));
    case 'dr_grpo':
      return lengths.map(() => 1 / (B * s.maxCompletionLength));
    case 'dapo': {
      const denom = s.generationBatchTokens ?? total;
      return lengths.map(() => (denom > 0 ? 1 / denom : 0));
    }
  }
}

/** GRPO: clipped surrogate with ε_low / ε_high, plus β · k3 KL to the reference policy. */
export function grpoObjective(seqs: TokenSeq[], s: GrpoSettings): ObjectiveResult {
  const weights = tokenWeights(seqs, s);
  let loss = 0;
  let klSum = 0;
  let clipped = 0;
  let tokens = 0;
  const ratios: Float64Array[] = [];
  const clips: Uint8Array[] = [];
  const dlogp = seqs.map((q, i) => {
    const d = new Float64Array(q.logprobs.length);
    const tokenRatio = new Float64Array(q.logprobs.length);
    const tokenClipped = new Uint8Array(q.logprobs.length);
    ratios.push(tokenRatio);
    clips.push(tokenClipped);
    if (s.beta !== 0 && !q.refLogprobs) throw new Error('β ≠ 0 needs reference log-probs');
    for (let t = 0; t < q.logprobs.length; t++) {
      const lp = q.logprobs[t];
      const old = q.oldLogprobs ? q.oldLogprobs[t] : lp;
      const ratio = Math.exp(lp - old);
      const A = q.advantage;
      const unclipped = -A * ratio;
      const clippedRatio = Math.min(Math.max(ratio, 1 - s.epsilonLow), 1 + s.epsilonHigh);
      const clippedTerm = -A * clippedRatio;
      // max(unclipped, clipped): the gradient flows through the unclipped branch unless the clip is active.
      const useUnclipped = unclipped >= clippedTerm;
      let lt = useUnclipped ? unclipped : clippedTerm;
      let g = useUnclipped || clippedRatio === ratio ? -A * ratio : 0;
      tokenRatio[t] = ratio;
      if (!useUnclipped) {
        clipped++;
        tokenClipped[t] = 1;
      }
      if (s.beta !== 0) {
        const delta = q.refLogprobs![t] - lp;
        let kl = Math.exp(delta) - delta - 1;
        let dkl = 1 - Math.exp(delta); // d kl / d logp
        if (s.klClamp !== null && Math.abs(kl) > s.klClamp) {
          kl = Math.sign(kl) * s.klClamp;
          dkl = 0;
        }
        lt += s.beta * kl;
        g += s.beta * dkl;
        klSum += kl;
      }
      loss += weights[i] * lt;
      d[t] = weights[i] * g;
      tokens++;
    }
    return d;
  });
  return { loss, dlogp, ratio: ratios, clipped: clips, metrics: { kl: tokens ? klSum / tokens : 0, clipFraction: tokens ? clipped / tokens : 0, tokens } };
}

/** SFT: token-mean cross-entropy over every completion token of the batch (`batchTokens` when micro-batched). */
export function sftObjective(logprobs: ArrayLike<number>[], batchTokens?: number): ObjectiveResult {
  const tokens = batchTokens ?? logprobs.reduce((n, l) => n + l.length, 0);
  let loss = 0;
  const dlogp = logprobs.map((l) => {
    const d = new Float64Array(l.length);
    for (let t = 0; t < l.length; t++) {
      loss -= l[t] / tokens;
      d[t] = -1 / tokens;
    }
    return d;
  });
  return { loss, dlogp, metrics: { kl: 0, clipFraction: 0, tokens } };
}
