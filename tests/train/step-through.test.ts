// Step-through mode on the embedded tiny default: a GRPO step reports its phases in order and waits after
// each, and its per-token data is consistent: on-policy ratios are 1, clip flags follow the clip rule, the
// "before" and "after" log-probs are fresh forwards of the weights before and after the step. Off, a run
// traces nothing and runs no extra forward; a stop ends the waiting. Rewards are set by the test, not by what
// the model writes.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuRuntime } from '../../src/gpu/runtime.ts';
import { embeddedDirSource } from '../../src/model/source-node.ts';
import { loadModel, type LoadedModel } from '../../src/model/source.ts';
import { tokenizerForModel, type QwenTokenizer } from '../../src/model/tokenizer.ts';
import type { StepTrace, TokenTrace, TrainEvent } from '../../src/train/events.ts';
import { sequenceLogprobs } from '../../src/train/gradients.ts';
import { Policy } from '../../src/train/policy.ts';
import { StepThrough } from '../../src/train/step-through.ts';
import { GrpoTrainer, PAPER_GRPO, type GrpoConfig } from '../../src/train/trainer.ts';
import type { RlExample, RlTask } from '../../src/train/task.ts';
import { gpu, maxRelError } from '../helpers/gpu.ts';

const G = 4;
let rt: GpuRuntime;
let tiny: LoadedModel;
let tokenizer: QwenTokenizer;
let prompts: number[][];

beforeAll(async () => {
  rt = await gpu();
  tiny = await loadModel(embeddedDirSource());
  tokenizer = await tokenizerForModel(tiny);
  prompts = ['hi', 'weather in Paris?'].map((q) => tokenizer.encode(`<|im_start|>user\n${q}<|im_end|>\n<|im_start|>assistant\n`));
});

/** Each step's first group alternates 0, 1, 0, 1 (it learns); the second scores 0 throughout (A = 0, left out of the update). */
function task(): RlTask {
  let call = 0;
  const examples = prompts.map((promptIds, i) => ({ id: `p${i}`, promptIds }));
  return {
    train: examples,
    heldout: examples,
    eosIds: tokenizer.eosIds,
    decode: (ids) => tokenizer.decode(ids),
    reward: () => {
      const k = call++ % (2 * G);
      return { reward: k < G ? k % 2 : 0, signals: { alternating: k < G } };
    },
  };
}

const config: GrpoConfig = {
  ...PAPER_GRPO,
  steps: 1,
  promptsPerStep: 2,
  groupSize: G,
  maxNewTokens: 4,
  temperature: 1,
  microBatch: 16,
  schedule: { kind: 'constant', lr: 1e-4 },
  weightDecay: 0,
  objective: { lossType: 'bnpo', epsilonLow: 0.2, epsilonHigh: 0.2, beta: 0, klClamp: 10, maxCompletionLength: 4 },
  evalEvery: 0,
  checkpointEvery: 0,
  seed: 3,
};

const policyOf = () => Policy.create(rt, tiny, { mode: 'full', maxPositions: 64, seed: 0 });

interface Traced {
  events: TrainEvent[];
  /** the phases the trainer waited after, with how many events had been emitted when it was let go */
  waits: { phase: StepTrace['phase']; events: number }[];
  policy: Policy;
  forwards: number;
}

/** One step in step-through mode (or not), the test pressing Next whenever the trainer waits. */
async function oneStep(c: GrpoConfig, on: boolean): Promise<Traced> {
  const policy = policyOf();
  const events: TrainEvent[] = [];
  const waits: Traced['waits'] = [];
  const gate = new StepThrough();
  gate.enable(on);
  let forwards = 0;
  const forward = policy.model.forward.bind(policy.model);
  policy.model.forward = (...args) => (forwards++, forward(...args));
  const trainer = new GrpoTrainer(rt, policy, task(), c, (e) => {
    events.push(e);
    if (e.type !== 'trace' || (e.phase === 'rollout' && !e.done)) return;
    // The trainer starts waiting right after it emits a phase: let it go on the next turn of the loop.
    setTimeout(() => {
      waits.push({ phase: e.phase, events: events.length });
      expect(gate.next()).toBe(true);
    }, 0);
  });
  trainer.stepThrough = gate;
  await trainer.run();
  trainer.release();
  return { events, waits, policy, forwards };
}

const traces = (events: TrainEvent[]) => events.filter((e): e is Extract<TrainEvent, { type: 'trace' }> => e.type === 'trace');
const updateOf = (events: TrainEvent[]) => traces(events).find((e) => e.phase === 'update') as Extract<StepTrace, { phase: 'update' }>;
const flat = (xs: TokenTrace[][]) => xs.flat();

describe('step-through mode', { timeout: 300_000 }, () => {
  it('reports the phases in order and waits after each; on-policy ratios are 1, before/after are fresh forwards; off costs nothing', async () => {
    const start = policyOf();
    const on = await oneStep(config, true);
    const off = await oneStep(config, false);

    // Waiting: after each phase nothing more happened until Next; the update's wait comes after the step's events.
    expect(on.waits.map((w) => w.phase)).toEqual(['rollout', 'scores', 'advantages', 'update']);
    for (const w of on.waits) expect(on.events[w.events - 1]).toMatchObject({ type: 'trace', phase: w.phase, step: 1 });
    expect(on.events.findIndex((e) => e.type === 'step')).toBeLessThan(on.waits[3].events - 1);
    expect(on.events.findIndex((e) => e.type === 'sample')).toBeGreaterThan(on.waits[2].events - 1);

    // The phases' numbers are the step's: texts, rewards, the advantages' mean and std.
    const samples = on.events.filter((e) => e.type === 'sample');
    const [rollout, scores, advantages] = on.waits.map((w) => on.events[w.events - 1]) as StepTrace[];
    if (rollout.phase !== 'rollout' || scores.phase !== 'scores' || advantages.phase !== 'advantages') throw new Error('phase order');
    expect(rollout.groups.flatMap((g) => g.texts)).toEqual(samples.map((s) => s.text));
    expect(scores.groups.flat().map((o) => o.reward)).toEqual([0, 1, 0, 1, 0, 0, 0, 0]);
    const [learns, idle] = advantages.groups;
    expect(learns.mean).toBe(0.5);
    expect(learns.std).toBeCloseTo(Math.sqrt(1 / 3), 12); // unbiased
    expect(learns.advantages).toEqual(samples.slice(0, G).map((s) => s.advantage));
    expect(idle).toMatchObject({ allEqual: true, advantages: [0, 0, 0, 0] });

    // The update, token by token: the sampled completions, on-policy ratios exactly 1, nothing clipped.
    const update = updateOf(on.events);
    expect(update).toMatchObject({ passes: 1, optimizerSteps: 1, epsilonLow: 0.2, epsilonHigh: 0.2 });
    const tokens = flat(update.groups);
    expect(tokens).toHaveLength(2 * G);
    tokens.forEach((t, i) => {
      expect(tokenizer.decode(t.ids)).toBe(samples[i].text);
      expect([t.pieces.length, t.before.length, t.after.length]).toEqual([1, 1, 1].map(() => samples[i].tokens));
      expect([t.reward, t.advantage]).toEqual([samples[i].reward, samples[i].advantage]);
    });
    for (const t of update.groups[0]) {
      expect(t.ratio!.every((r) => r === 1)).toBe(true);
      expect(t.clipped!.every((c) => !c)).toBe(true);
    }
    for (const t of update.groups[1]) expect([t.ratio, t.clipped]).toEqual([null, null]);

    // Fresh forwards, one sequence at a time and without prompt sharing (another packing than the trainer's).
    const seqs = sequencesOf(on.events);
    const fresh = async (p: Policy) => sequenceLogprobs(p.model, seqs, config.temperature, 1, false);
    const [before, after] = [await fresh(start), await fresh(on.policy)];
    tokens.forEach((t, i) => {
      expect(maxRelError(t.before, before[i])).toBeLessThan(1e-4);
      expect(maxRelError(t.after, after[i])).toBeLessThan(1e-4);
    });
    // The rewarded completions became likelier against the others: Σ A · Δlog π > 0 (AdamW's step, to first order).
    const moved = tokens.reduce((n, t) => n + t.advantage * t.after.reduce((m, a, k) => m + a - t.before[k], 0), 0);
    expect(moved).toBeGreaterThan(0);

    // Off: no trace and only the update's forwards (on adds "before" for the idle group, and "after"); the same weights.
    expect(traces(off.events)).toHaveLength(0);
    expect(on.forwards - off.forwards).toBe(2);
    const weights = (p: Policy) => Promise.all(p.params.map((x) => rt.read(x.param)));
    const [a, b] = [await weights(on.policy), await weights(off.policy)];
    a.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(b[i].buffer))).toBe(true));
    for (const p of [start, on.policy, off.policy]) p.release();
  });

  it('with μ = 2 the second pass moves the ratios off 1 and the clip flags follow the clip rule', async () => {
    const eps = { epsilonLow: 0.01, epsilonHigh: 0.02 };
    const start = policyOf();
    const c: GrpoConfig = { ...config, iterations: 2, schedule: { kind: 'constant', lr: 0.02 }, objective: { ...config.objective, ...eps } };
    const { events, policy } = await oneStep(c, true);
    const update = updateOf(events);
    expect(update).toMatchObject({ passes: 2, optimizerSteps: 2 });
    const learning = update.groups[0];
    const ratios = learning.flatMap((t) => t.ratio!);
    expect(ratios.some((r) => Math.abs(r - 1) > 0.05)).toBe(true);
    let clipped = 0;
    for (const t of learning) {
      t.ratio!.forEach((r, k) => {
        const rule = (t.advantage > 0 && r > 1 + eps.epsilonHigh) || (t.advantage < 0 && r < 1 - eps.epsilonLow);
        expect(t.clipped![k]).toBe(rule);
        if (rule) clipped++;
      });
    }
    expect(clipped).toBeGreaterThan(0);
    // μ > 1 keeps the sampling policy's log-probs: "before" is still the starting weights'.
    const before = await sequenceLogprobs(start.model, sequencesOf(events), c.temperature, 1, false);
    flat(update.groups).forEach((t, i) => expect(maxRelError(t.before, before[i])).toBeLessThan(1e-4));
    start.release();
    policy.release();
  });

  it('timings leave out the waits: the step\'s phases and every progress report count only working time', async () => {
    const policy = policyOf();
    const gate = new StepThrough();
    gate.enable(true);
    const PAUSE = 400;
    let paused = 0;
    const progress: { ms: number; wall: number; paused: number }[] = [];
    const events: TrainEvent[] = [];
    const t0 = performance.now();
    const trainer = new GrpoTrainer(rt, policy, task(), { ...config, evalEvery: 1, evalSize: 1 }, (e) => {
      events.push(e);
      if (e.type === 'progress') progress.push({ ms: e.ms, wall: performance.now() - t0, paused });
      if (e.type !== 'trace' || (e.phase === 'rollout' && !e.done)) return;
      setTimeout(() => ((paused += PAUSE), gate.next()), PAUSE);
    });
    trainer.stepThrough = gate;
    await trainer.run();
    const wall = performance.now() - t0;
    const step = events.find((e) => e.type === 'step');
    if (step?.type !== 'step') throw new Error('no step');
    expect(paused).toBe(4 * PAUSE);
    expect(step.rolloutMs + step.scoringMs + step.updateMs).toBeLessThan(wall - 3 * PAUSE);
    // The held-out evaluation comes after all four waits: its reports leave all of them out.
    expect(progress.filter((p) => p.paused === 4 * PAUSE).length).toBeGreaterThan(0);
    for (const p of progress) expect(p.ms).toBeLessThanOrEqual(p.wall - p.paused + 1);
    trainer.release();
    policy.release();
  });

  it('a stop while a step waits lets the step complete its update without waiting again, then the run stops', async () => {
    const policy = policyOf();
    const gate = new StepThrough();
    gate.enable(true);
    const events: TrainEvent[] = [];
    const trainer: GrpoTrainer<RlExample> = new GrpoTrainer(rt, policy, task(), { ...config, steps: 2 }, (e) => {
      events.push(e);
      if (e.type === 'trace' && e.phase === 'rollout' && e.done) setTimeout(() => trainer.stop(), 0);
    });
    trainer.stepThrough = gate;
    await trainer.run();
    expect(traces(events).filter((e) => e.phase !== 'rollout').map((e) => e.phase)).toEqual(['scores', 'advantages', 'update']);
    expect(events.filter((e) => e.type === 'step')).toHaveLength(1);
    expect(events.at(-1)).toEqual({ type: 'done', step: 1, stopped: true });
    expect(trainer.state.optimizerSteps).toBe(1);
    expect(gate.next()).toBe(false); // nothing left waiting
    trainer.release();
    policy.release();
  });
});

/** The step's sequences: each sample's prompt and the traced completion ids. */
function sequencesOf(events: TrainEvent[]) {
  const samples = events.filter((e) => e.type === 'sample');
  const tokens = flat(updateOf(events).groups);
  return samples.map((s, i) => ({ promptIds: prompts[Number(s.exampleId.slice(1))], completionIds: tokens[i].ids }));
}
