// A GRPO step of the studio's default Training preset, this checkout against another one (e.g. an older
// commit in a git worktree), in one process on one machine: same model (this checkout's embedded default),
// same prompts, same config, steps interleaved (ours, theirs, ours, ...) so that the machine's drift
// affects both alike. Prints per-step times, the ratio of medians after the warm-up, and whether the two
// runs agree (rewards, loss, gradient norm) step by step.
//   npx tsx scripts/grpo-step-vs.ts --base ../wt-base --steps 6 [--warmup 1]
// The other checkout needs node_modules (a symlink to this one's keeps one Dawn module in the process).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createNodeRuntime } from '../src/gpu/node.ts';
import { embeddedDirSource } from '../src/model/source-node.ts';
import { loadModel } from '../src/model/source.ts';
import { tokenizerForModel } from '../src/model/tokenizer.ts';
import { generateSynthetic } from '../src/data/synthetic.ts';
import { toolCallTask } from '../src/train/toolcall-task.ts';
import type { GrpoConfig } from '../src/train/trainer.ts';
import { DEFAULT_TRAIN_FORM } from '../src/ui/train-form.ts';
import type { TrainEvent } from '../src/train/events.ts';

type StepEvent = Extract<TrainEvent, { type: 'step' }>;

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) {
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  }
  return process.argv[i + 1];
}

const baseDir = resolve(arg('base'));
const steps = Number(arg('steps', '6'));
const warmup = Number(arg('warmup', '1'));

const f = DEFAULT_TRAIN_FORM;
const tc = f.config;
const config: GrpoConfig = { ...tc.grpo, steps: warmup + steps, evalEvery: 0, checkpointEvery: 0 };
if (tc.mode !== 'full' || tc.grpo.objective.beta !== 0) throw new Error('this script runs the full fine-tuning, β = 0 default preset only');

const loaded = await loadModel(embeddedDirSource());
const tokenizer = await tokenizerForModel(loaded);
const train = generateSynthetic({ level: f.synthetic.level, split: 'train', seed: f.synthetic.seed, count: f.synthetic.train });
const heldout = generateSynthetic({ level: f.synthetic.level, split: 'heldout', seed: f.synthetic.seed, count: f.synthetic.heldout });
const maxPromptTokens = Math.min(tc.maxPromptTokens, loaded.config.maxPositionEmbeddings - tc.grpo.maxNewTokens);
const task = toolCallTask(tokenizer, train, heldout, { reward: tc.reward, maxPromptTokens });
const longest = [...task.train, ...task.heldout].reduce((n, e) => Math.max(n, e.promptIds.length), 0);
const meanPrompt = task.train.reduce((n, e) => n + e.promptIds.length, 0) / task.train.length;
console.log(
  `default preset: ${config.promptsPerStep} prompts × G = ${config.groupSize}, ≤ ${config.maxNewTokens} new tokens, micro-batch ${config.microBatch}, ` +
    `lr ${config.schedule.lr}, β ${config.objective.beta}, ${f.synthetic.level} synthetic prompts (mean ${meanPrompt.toFixed(0)} tokens); model ${loaded.source}`,
);

interface Side {
  name: string;
  trainer: { trainStep(): Promise<void> };
  events: StepEvent[];
  ms: number[];
}

async function side(name: string, root: string): Promise<Side> {
  const mod = (p: string) => import(pathToFileURL(resolve(root, p)).href);
  const [{ createNodeRuntime: createRt }, { Policy }, { GrpoTrainer }] = await Promise.all([
    root === baseDir ? mod('src/gpu/node.ts') : { createNodeRuntime },
    mod('src/train/policy.ts'),
    mod('src/train/trainer.ts'),
  ]);
  const rt = await createRt();
  const policy = Policy.create(rt, loaded, { mode: 'full', maxPositions: longest + config.maxNewTokens, seed: config.seed });
  const events: StepEvent[] = [];
  const trainer = new GrpoTrainer(rt, policy, task, config, (e: TrainEvent) => e.type === 'step' && events.push(e));
  return { name, trainer, events, ms: [] };
}

const ours = await side('ours', resolve(import.meta.dirname, '..'));
const theirs = await side('theirs', baseDir);
for (let i = 0; i < warmup + steps; i++) {
  for (const s of [ours, theirs]) {
    const t0 = performance.now();
    await s.trainer.trainStep();
    s.ms.push(performance.now() - t0);
  }
  const [a, b] = [ours.events[i], theirs.events[i]];
  const same = a.rewardMean === b.rewardMean && Math.abs(a.loss - b.loss) <= 1e-5 * Math.max(1, Math.abs(b.loss));
  console.log(
    `step ${i + 1}${i < warmup ? ' (warm-up)' : ''}: ours ${(ours.ms[i] / 1000).toFixed(2)} s (update ${(a.updateMs / 1000).toFixed(2)} s, ` +
      `${a.trainedSequences} of ${config.promptsPerStep * config.groupSize} sequences trained), theirs ${(theirs.ms[i] / 1000).toFixed(2)} s ` +
      `(update ${(b.updateMs / 1000).toFixed(2)} s); reward ${a.rewardMean} / ${b.rewardMean}, loss ${a.loss} / ${b.loss}, ` +
      `grad norm ${a.gradNorm} / ${b.gradNorm}${same ? '' : '  ← differ'}`,
  );
}
const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const [mo, mt] = [median(ours.ms.slice(warmup)), median(theirs.ms.slice(warmup))];
const ratios = ours.ms.slice(warmup).map((t, i) => theirs.ms[warmup + i] / t);
console.log(
  `median step: ours ${(mo / 1000).toFixed(2)} s, theirs ${(mt / 1000).toFixed(2)} s: ${(mt / mo).toFixed(2)}× faster ` +
    `(per-step ratios ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
);
process.exit(0);
