// Proof that the shipped default learns, bounded for CI: GRPO on two synthetic train prompts that the
// warm-started default half-solves raises their sampled binary reward within a few steps.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpu } from '../helpers/gpu.ts';
import { dirSource } from '../../src/model/source-node.ts';
import { loadModel } from '../../src/model/source.ts';
import { tokenizerForModel } from '../../src/model/tokenizer.ts';
import { Generator } from '../../src/model/generate.ts';
import { generateSynthetic } from '../../src/data/synthetic.ts';
import { toolCallTask, type ToolCallTask } from '../../src/train/toolcall-task.ts';
import { Policy } from '../../src/train/policy.ts';
import { GrpoTrainer, PAPER_GRPO, type GrpoConfig } from '../../src/train/trainer.ts';
import type { TrainEvent } from '../../src/train/events.ts';

const TINY = join(import.meta.dirname, '..', '..', 'public', 'models', 'tiny');
// Studio train prompts (synthetic tiny, seed 0) on which the default's samples at T = 1 are partly right.
const PROMPTS = [0, 12];
const NEW_TOKENS = 64;
const SAMPLES = 8;

const config: GrpoConfig = {
  ...PAPER_GRPO,
  steps: 3,
  promptsPerStep: 2,
  groupSize: 8,
  maxNewTokens: NEW_TOKENS,
  temperature: 1,
  microBatch: 16,
  schedule: { kind: 'constant', lr: 2e-3 },
  objective: { ...PAPER_GRPO.objective, beta: 0, maxCompletionLength: NEW_TOKENS },
  evalEvery: 0,
  checkpointEvery: 0,
  seed: 0,
};

/** Mean binary reward of `SAMPLES` completions per prompt at T = 1, with a fixed sampling seed. */
async function sampledReward(policy: Policy, task: ToolCallTask): Promise<number> {
  const gen = new Generator(policy.model);
  try {
    const out = await gen.generateBatch(task.train.map((e) => e.promptIds), {
      n: SAMPLES, maxNewTokens: NEW_TOKENS, eosIds: task.eosIds, sampling: { temperature: 1, topP: 1, topK: 0, seed: 11 },
    });
    const rewards = out.tokens.map((ids, s) => task.reward(task.decode(ids), task.train[Math.floor(s / SAMPLES)]).reward);
    return rewards.reduce((a, b) => a + b, 0) / rewards.length;
  } finally {
    gen.release();
  }
}

describe('the embedded default learns', { timeout: 900_000 }, () => {
  it('GRPO raises the sampled reward on prompts it half-solves', async () => {
    const rt = await gpu();
    const loaded = await loadModel(dirSource(TINY));
    const tokenizer = await tokenizerForModel(loaded);
    const all = generateSynthetic({ level: 'tiny', split: 'train', seed: 0, count: Math.max(...PROMPTS) + 1 });
    const picked = PROMPTS.map((i) => all[i]);
    const task = toolCallTask(tokenizer, picked, picked, { reward: 'binary', maxPromptTokens: 1024 });
    const longest = Math.max(...task.train.map((e) => e.promptIds.length));
    const policy = Policy.create(rt, loaded, { mode: 'full', maxPositions: longest + NEW_TOKENS, seed: 0 });
    try {
      const before = await sampledReward(policy, task);
      const events: TrainEvent[] = [];
      const trainer = new GrpoTrainer(rt, policy, task, config, (e) => events.push(e));
      await trainer.run();
      trainer.release();
      const after = await sampledReward(policy, task);
      const steps = events.filter((e) => e.type === 'step');
      if (process.env.TOOLN1_DEBUG) console.log({ before, after, rewards: steps.map((e) => e.rewardMean), ms: steps.map((e) => [e.rolloutMs, e.updateMs]) });
      // Partly right at the start, so that groups carry signal; clearly better after four steps.
      expect(before).toBeGreaterThan(0.15);
      expect(before).toBeLessThan(0.75);
      expect(steps.some((e) => e.trainedSequences > 0)).toBe(true);
      expect(after).toBeGreaterThan(before + 0.15);
    } finally {
      policy.release();
    }
  });
});
