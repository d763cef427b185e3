// Proof that it learns: GRPO from the shipped default with the studio's default Training preset, exactly as
// the Training tab assembles the run (src/train/run.ts). First the default's starting scores on the train
// prompts (greedy binary reward and format rate; at the preset's temperature, the share of groups of G
// samples that are mixed, some 1s and some 0s), then per step the train-prompt reward, the format rate, the
// mixed groups and the time, and every `evalEvery` steps the held-out greedy reward.
import type { GpuRuntime } from '../gpu/runtime.ts';
import { Generator } from '../model/generate.ts';
import type { LoadedModel, ModelSource } from '../model/source.ts';
import type { QwenTokenizer } from '../model/tokenizer.ts';
import type { TrainConfig } from '../train/config.ts';
import type { TrainEvent } from '../train/events.ts';
import { prepareRun, Run } from '../train/run.ts';
import type { ToolCallExample, ToolCallTask } from '../train/toolcall-task.ts';
import { DEFAULT_TRAIN_FORM, trainArgs } from '../ui/train-form.ts';

export interface LearningOptions {
  steps: number;
  /** train prompts scored for the starting point */
  startPrompts: number;
  log: (msg: string) => void;
}

/** How the default does before training, on the run's first train prompts. */
export interface StartScores {
  prompts: number;
  greedyReward: number;
  /** think tags and a parseable tool call */
  greedyFormat: number;
  temperature: number;
  groupSize: number;
  sampledReward: number;
  mixedGroups: number;
}

export interface LearningStep {
  step: number;
  trainReward: number;
  /** mean train reward over this step and the ones before it, up to `ROLLING` steps */
  rollingReward: number;
  /** think tags and a parseable tool call */
  formatRate: number;
  mixedGroups: number;
  /** held-out greedy reward, on the steps the preset evaluates */
  heldoutReward: number | null;
  stepMs: number;
}

export interface LearningResult {
  config: TrainConfig;
  meanPromptTokens: number;
  start: StartScores;
  heldoutAtStart: number;
  steps: LearningStep[];
}

export const ROLLING = 10;

const formatted = (s: Record<string, boolean | number>) => s.thinkTags === true && s.jsonParsed === true;

/** The fraction of groups of `g` consecutive rewards that hold both a 1 and a 0. */
function mixed(rewards: number[], g: number): number {
  let count = 0;
  for (let i = 0; i < rewards.length; i += g) {
    const group = rewards.slice(i, i + g);
    if (group.some((r) => r > 0) && group.some((r) => r <= 0)) count++;
  }
  return count / Math.ceil(rewards.length / g);
}

async function startScores(gen: Generator, task: ToolCallTask, config: TrainConfig, prompts: number): Promise<StartScores> {
  const g = config.grpo;
  const examples = task.train.slice(0, prompts);
  const score = (e: ToolCallExample, ids: number[]) => task.reward(task.decode(ids), e);
  let greedyReward = 0;
  let greedyFormat = 0;
  const sampled: number[] = [];
  for (let i = 0; i < examples.length; i += g.microBatch) {
    const part = examples.slice(i, i + g.microBatch);
    const ids = part.map((e) => e.promptIds);
    const greedy = await gen.generateBatch(ids, { n: 1, maxNewTokens: g.maxNewTokens, eosIds: task.eosIds, sampling: { temperature: 0, topP: 1, topK: 0, seed: 0 } });
    part.forEach((e, j) => {
      const r = score(e, greedy.tokens[j]);
      greedyReward += r.reward;
      greedyFormat += formatted(r.signals) ? 1 : 0;
    });
    const samples = await gen.generateBatch(ids, {
      n: g.groupSize, maxNewTokens: g.maxNewTokens, eosIds: task.eosIds, sampling: { temperature: g.temperature, topP: g.topP, topK: g.topK, seed: 1 + i },
    });
    part.forEach((e, j) => {
      for (let k = 0; k < g.groupSize; k++) sampled.push(score(e, samples.tokens[j * g.groupSize + k]).reward);
    });
  }
  const n = examples.length;
  return {
    prompts: n, greedyReward: greedyReward / n, greedyFormat: greedyFormat / n, temperature: g.temperature, groupSize: g.groupSize,
    sampledReward: sampled.reduce((a, b) => a + b, 0) / sampled.length, mixedGroups: mixed(sampled, g.groupSize),
  };
}

export async function benchLearning(
  rt: GpuRuntime, model: { source: ModelSource; loaded: LoadedModel; tokenizer: QwenTokenizer }, opts: LearningOptions,
): Promise<LearningResult> {
  const { config: preset } = trainArgs(DEFAULT_TRAIN_FORM);
  const raw: TrainConfig = { ...preset, grpo: { ...preset.grpo, steps: opts.steps, checkpointEvery: 0 } };
  const prepared = await prepareRun(raw, model, () => Promise.reject(new Error('the default preset reads no files')));
  const { config, task } = prepared;
  const g = config.grpo;
  const meanPromptTokens = task.train.reduce((n, e) => n + e.promptIds.length, 0) / task.train.length;
  opts.log(`learning: ${task.train.length} train / ${task.heldout.length} held-out prompts (${meanPromptTokens.toFixed(0)} tokens on average); ` +
    `${g.promptsPerStep} prompts × G = ${g.groupSize}, temperature ${g.temperature}, lr ${g.schedule.lr}, ${g.maxNewTokens} new tokens`);

  let samples: Extract<TrainEvent, { type: 'sample' }>[] = [];
  let heldout: number | null = null;
  const run = new Run(rt, prepared, (e) => {
    if (e.type === 'sample') samples.push(e);
    if (e.type === 'eval') heldout = e.meanReward;
  });
  try {
    const gen = new Generator(run.policy.model);
    const start = await startScores(gen, task, config, opts.startPrompts);
    gen.release();
    opts.log(`  start: greedy reward ${pct(start.greedyReward)}, format ${pct(start.greedyFormat)} on ${start.prompts} train prompts; ` +
      `at T = ${start.temperature}: reward ${pct(start.sampledReward)}, mixed groups ${pct(start.mixedGroups)}`);
    const heldoutAtStart = await run.trainer.evaluate();
    opts.log(`  held-out greedy reward at step 0: ${pct(heldoutAtStart)}`);
    const steps: LearningStep[] = [];
    for (let s = 1; s <= g.steps; s++) {
      samples = [];
      heldout = null;
      const t = performance.now();
      await run.trainer.trainStep();
      const stepMs = performance.now() - t;
      if (g.evalEvery > 0 && s % g.evalEvery === 0) await run.trainer.evaluate();
      const rewards = samples.map((e) => e.reward);
      const trainReward = rewards.reduce((a, b) => a + b, 0) / rewards.length;
      const recent = [...steps.slice(-(ROLLING - 1)).map((x) => x.trainReward), trainReward];
      const point: LearningStep = {
        step: s, trainReward, rollingReward: recent.reduce((a, b) => a + b, 0) / recent.length,
        formatRate: samples.filter((e) => formatted(e.signals)).length / samples.length,
        mixedGroups: mixed(rewards, g.groupSize), heldoutReward: heldout, stepMs,
      };
      steps.push(point);
      opts.log(`  step ${s}: train reward ${pct(trainReward)} (rolling ${pct(point.rollingReward)}), format ${pct(point.formatRate)}, ` +
        `mixed groups ${pct(point.mixedGroups)}${heldout === null ? '' : `, held-out greedy ${pct(heldout)}`}, ${(stepMs / 1000).toFixed(1)} s`);
    }
    return { config, meanPromptTokens, start, heldoutAtStart, steps };
  } finally {
    run.release();
  }
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

/** The curve as a Markdown table, and the summary against the issue's targets. */
export function learningReport(r: LearningResult): string {
  const g = r.config.grpo;
  const s = r.start;
  const lines = [
    `GRPO from the embedded default, studio preset: ${g.promptsPerStep} prompts × G = ${g.groupSize}, T = ${g.temperature}, ` +
      `lr ${g.schedule.lr}, ${g.maxNewTokens} new tokens; prompts ≈ ${r.meanPromptTokens.toFixed(0)} tokens`,
    '',
    `start, ${s.prompts} train prompts: greedy reward ${pct(s.greedyReward)}, format ${pct(s.greedyFormat)}; ` +
      `T = ${s.temperature}, G = ${s.groupSize}: reward ${pct(s.sampledReward)}, mixed groups ${pct(s.mixedGroups)}; held-out greedy ${pct(r.heldoutAtStart)}`,
    '',
    '| step | train reward | rolling (10) | format | mixed groups | held-out greedy | s / step |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...r.steps.map((p) =>
      `| ${p.step} | ${pct(p.trainReward)} | ${pct(p.rollingReward)} | ${pct(p.formatRate)} | ${pct(p.mixedGroups)} | ` +
        `${p.heldoutReward === null ? '' : pct(p.heldoutReward)} | ${(p.stepMs / 1000).toFixed(1)} |`),
  ];
  const first = r.steps.slice(0, ROLLING);
  const last = r.steps.slice(-ROLLING);
  if (r.steps.length >= 2 * ROLLING) {
    const mean = (xs: LearningStep[]) => xs.reduce((a, p) => a + p.trainReward, 0) / xs.length;
    const evals = r.steps.filter((p) => p.heldoutReward !== null);
    const lastHeldout = evals.length ? evals[evals.length - 1].heldoutReward! : NaN;
    lines.push('', `train reward, first ${ROLLING} steps ${pct(mean(first))} → last ${ROLLING} ${pct(mean(last))}; ` +
      `held-out greedy ${pct(r.heldoutAtStart)} → ${pct(lastHeldout)}`);
  }
  return lines.join('\n');
}
