// Proof that it learns, on real WebGPU with a tiny policy: SFT memorises, GRPO climbs a toy reward
// (full and LoRA), zero advantages leave the weights alone, and resume continues bit for bit.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { gpu } from '../helpers/gpu.ts';
import type { GpuRuntime } from '../../src/gpu/runtime.ts';
import { dirSource } from '../../src/model/source-node.ts';
import { loadModel, type LoadedModel } from '../../src/model/source.ts';
import { hfInitModel } from '../../src/bench/random-model.ts';
import { Policy, type PolicySettings } from '../../src/train/policy.ts';
import { accumulateGradients } from '../../src/train/gradients.ts';
import { optimizerStep } from '../../src/ops/optim.ts';
import { GrpoTrainer, PAPER_GRPO, type GrpoConfig } from '../../src/train/trainer.ts';
import type { RlTask } from '../../src/train/task.ts';
import type { TrainEvent } from '../../src/train/events.ts';
import { restoreCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.ts';

const MODEL = join(import.meta.dirname, '..', 'fixtures', 'models', 'gqa-tied-bf16');
// The embedded default's shape with a fresh HF init (the weights it shipped before its warm start): near-uniform
// over its 4032 tokens, a fair "chance" for the toy reward.
const TINY = join(import.meta.dirname, '..', '..', 'public', 'models', 'tiny');
const TINY_INIT_SEED = 20250101;
let rt: GpuRuntime;
let loaded: LoadedModel;
let tiny: LoadedModel;

beforeAll(async () => {
  rt = await gpu();
  loaded = await loadModel(dirSource(MODEL));
  tiny = hfInitModel((await loadModel(dirSource(TINY))).config, TINY_INIT_SEED, 'tiny shape, random');
});

/**
 * Reward 1 when the first completion token passes `wanted`. Default: below 400, chance ≈ 1/10 for the
 * near-uniform tiny policy.
 */
function toyTask(prompts = [[5, 9, 2], [7, 1], [3, 3, 8, 1], [11, 4]], wanted = (id: number) => id < 400): RlTask {
  const examples = prompts.map((promptIds, i) => ({ id: `p${i}`, promptIds }));
  return {
    train: examples,
    heldout: examples,
    eosIds: [],
    decode: (ids) => ids.join(' '),
    reward: (text) => {
      const ok = wanted(Number(text.split(' ')[0]));
      return { reward: ok ? 1 : 0, signals: { wanted: ok } };
    },
  };
}

const toyConfig: GrpoConfig = {
  ...PAPER_GRPO,
  steps: 12,
  promptsPerStep: 4,
  groupSize: 8,
  maxNewTokens: 1,
  temperature: 1,
  microBatch: 32,
  schedule: { kind: 'constant', lr: 0.1 },
  weightDecay: 0,
  objective: { lossType: 'bnpo', epsilonLow: 0.2, epsilonHigh: 0.2, beta: 0, klClamp: 10, maxCompletionLength: 1 },
  evalEvery: 0,
  checkpointEvery: 0,
  seed: 7,
};

async function runGrpo(
  settings: PolicySettings, config: GrpoConfig, model = tiny, task = toyTask(),
): Promise<{ first: number; last: number; policy: Policy; events: TrainEvent[] }> {
  const policy = Policy.create(rt, model, settings);
  const events: TrainEvent[] = [];
  const trainer = new GrpoTrainer(rt, policy, task, config, (e) => events.push(e));
  await trainer.run();
  trainer.release();
  const means = events.filter((e) => e.type === 'step').map((e) => (e as { rewardMean: number }).rewardMean);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  if (process.env.TOOLN1_DEBUG) console.log(means.join(" "));
  return { first: means[0], last: avg(means.slice(-3)), policy, events };
}

async function params(policy: Policy): Promise<Float32Array[]> {
  return Promise.all(policy.params.map(async (p) => (await rt.read(p.param)) as Float32Array));
}

describe('learning', { timeout: 300_000 }, () => {
  it('SFT drives the loss on a small fixed batch close to zero', async () => {
    const policy = Policy.create(rt, loaded, { mode: 'full', maxPositions: 16, seed: 0 });
    const seqs = [
      { promptIds: [1, 2, 3], completionIds: [40, 41, 42] },
      { promptIds: [9, 8], completionIds: [77, 5, 100, 6] },
    ];
    let loss = NaN;
    let firstLoss = NaN;
    for (let t = 1; t <= 60; t++) {
      policy.zeroGrads();
      loss = (await accumulateGradients(policy.model, policy.grads, seqs, { kind: 'sft' }, 1, 1)).loss;
      if (t === 1) firstLoss = loss;
      optimizerStep(rt, policy.params, policy.gradNorm, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxNorm: 1 }, t);
    }
    expect(firstLoss).toBeGreaterThan(2);
    expect(loss).toBeLessThan(0.05);
    policy.release();
  });

  it('GRPO raises a toy reward from chance to near 1 (full fine-tuning)', async () => {
    const { first, last, policy } = await runGrpo({ mode: 'full', maxPositions: 16, seed: 1 }, { ...toyConfig, steps: 8 });
    expect(first).toBeLessThan(0.4);
    expect(last).toBeGreaterThan(0.9);
    policy.release();
  });

  it('GRPO raises a toy reward from chance to near 1 (LoRA over the frozen base)', async () => {
    // The random tiny model's frozen LM head cannot move its logits far, so LoRA learns on the fixture model:
    // after [5, 9, 2] its runner-up first tokens {5, 93} start at 15% and must overtake the favourite (82%).
    const { first, last, policy } = await runGrpo(
      { mode: 'lora', lora: { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] }, maxPositions: 16, seed: 1 },
      { ...toyConfig, promptsPerStep: 2, steps: 15, schedule: { kind: 'constant', lr: 0.02 } },
      loaded,
      toyTask([[5, 9, 2]], (id) => [5, 93].includes(id)),
    );
    expect(first).toBeLessThan(0.4);
    expect(last).toBeGreaterThan(0.9);
    policy.release();
  });

  it('with all advantages zero and β = 0, no backward runs and weights and moments stay bit-identical', async () => {
    const policy = Policy.create(rt, loaded, { mode: 'full', maxPositions: 16, seed: 0 });
    const state = () => Promise.all(policy.params.flatMap((p) => [p.param, p.m, p.v]).map((t) => rt.read(t)));
    const task = { ...toyTask(), reward: () => ({ reward: 1, signals: {} }) };
    const events: TrainEvent[] = [];
    // One real step first (an alternating reward), so that AdamW's moments are non-zero when the zero steps come.
    let calls = 0;
    const first = new GrpoTrainer(rt, policy, { ...task, reward: () => ({ reward: calls++ % 2, signals: {} }) }, { ...toyConfig, steps: 1, weightDecay: 0.1 }, () => {});
    await first.run();
    first.release();
    const before = await state();
    const trainer = new GrpoTrainer(rt, policy, task, { ...toyConfig, steps: 2, weightDecay: 0.1 }, (e) => events.push(e), null, first.state);
    await trainer.run();
    const after = await state();
    after.forEach((a, i) => expect(Buffer.from(a.buffer).equals(Buffer.from(before[i].buffer))).toBe(true));
    expect(trainer.state.optimizerSteps).toBe(1);
    for (const e of events.filter((e) => e.type === 'step')) expect(e).toMatchObject({ trainedSequences: 0, loss: 0, gradNorm: 0 });
    trainer.release();
    policy.release();
  });

  it('miniBatches splits a rollout batch into that many optimizer steps of whole groups', async () => {
    const policy = Policy.create(rt, loaded, { mode: 'full', maxPositions: 16, seed: 0 });
    let calls = 0;
    const task = { ...toyTask(), reward: () => ({ reward: calls++ % 2, signals: {} }) }; // every group mixed
    const events: TrainEvent[] = [];
    const config = { ...toyConfig, steps: 1, promptsPerStep: 2, groupSize: 2, miniBatches: 2 };
    const trainer = new GrpoTrainer(rt, policy, task, config, (e) => events.push(e));
    await trainer.run();
    expect(trainer.state.optimizerSteps).toBe(2);
    expect(events.find((e) => e.type === 'step')).toMatchObject({ trainedSequences: 4, skipped: 0 });
    expect(() => new GrpoTrainer(rt, policy, task, { ...config, miniBatches: 3 }, () => {})).toThrow(/miniBatches must be a whole number from 1 to promptsPerStep \(2\), got 3/);
    trainer.release();
    policy.release();
  });

  it('a NaN reward makes a NaN loss: the step is skipped, logged, and weights and moments stay as they were', async () => {
    const policy = Policy.create(rt, loaded, { mode: 'full', maxPositions: 16, seed: 0 });
    const before = await Promise.all(policy.params.flatMap((p) => [p.param, p.m, p.v]).map((t) => rt.read(t)));
    const task = { ...toyTask(), reward: () => ({ reward: NaN, signals: {} }) };
    const events: TrainEvent[] = [];
    const trainer = new GrpoTrainer(rt, policy, task, { ...toyConfig, steps: 1 }, (e) => events.push(e));
    await trainer.run();
    const after = await Promise.all(policy.params.flatMap((p) => [p.param, p.m, p.v]).map((t) => rt.read(t)));
    after.forEach((a, i) => expect(Buffer.from(a.buffer).equals(Buffer.from(before[i].buffer))).toBe(true));
    expect(events.some((e) => e.type === 'log' && e.level === 'warn' && /skipped/.test(e.message))).toBe(true);
    expect(events.find((e) => e.type === 'step')).toMatchObject({ skipped: 1 });
    expect(trainer.state.optimizerSteps).toBe(0);
    trainer.release();
    policy.release();
  });

  it('resuming from a checkpoint continues bit for bit like an uninterrupted run', async () => {
    const settings: PolicySettings = { mode: 'lora', lora: { rank: 2, alpha: 4, targets: ['q', 'v'] }, maxPositions: 16, seed: 3 };
    const config = { ...toyConfig, steps: 4, schedule: { kind: 'constant' as const, lr: 2e-2 } };
    const straight = await runGrpo(settings, config, loaded, toyTask([[5, 9, 2], [7, 1]], (id) => [5, 93, 9, 122].includes(id)));
    const want = await params(straight.policy);
    straight.policy.release();

    const firstHalf = Policy.create(rt, loaded, settings);
    const t1 = new GrpoTrainer(rt, firstHalf, toyTask([[5, 9, 2], [7, 1]], (id) => [5, 93, 9, 122].includes(id)), { ...config, steps: 2 }, () => {});
    await t1.run();
    const bytes = await saveCheckpoint(firstHalf, t1.state, config);
    t1.release();
    firstHalf.release();

    const resumed = Policy.create(rt, loaded, { ...settings, seed: 999 }); // different init, overwritten by the checkpoint
    const meta = restoreCheckpoint(resumed, bytes, 'checkpoint');
    const events: TrainEvent[] = [];
    const t2 = new GrpoTrainer(rt, resumed, toyTask([[5, 9, 2], [7, 1]], (id) => [5, 93, 9, 122].includes(id)), config, (e) => events.push(e), null, meta.state);
    await t2.run();
    const got = await params(resumed);
    got.forEach((g, i) => expect(Buffer.from(g.buffer).equals(Buffer.from(want[i].buffer))).toBe(true));
    const rewards = (evs: TrainEvent[]) => evs.filter((e) => e.type === 'step').map((e) => JSON.stringify({ ...e, tokensPerSec: 0, rolloutMs: 0, scoringMs: 0, updateMs: 0 }));
    expect(rewards(events)).toEqual(rewards(straight.events).slice(2));
    t2.release();
    resumed.release();
  });
});
