// The train and eval commands end to end on the embedded tiny model, in-process: 2 GRPO steps (full
// fine-tuning, β ≠ 0 so with a frozen reference copy) into a temp dir, a resumed 3rd step, then `eval` on the
// exported model. Prompts are hand-written and short, the template one letter per part and completions
// 2 tokens: on SwiftShader a step costs seconds per prompt token.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { train } from '../../src/cli/commands/train.ts';
import { evaluate } from '../../src/cli/commands/eval.ts';
import type { CliCommand } from '../../src/cli/command.ts';
import { readCheckpointMeta } from '../../src/train/checkpoint.ts';
import type { TrainEvent } from '../../src/train/events.ts';

const dir = mkdtempSync(join(tmpdir(), 'tooln1-train-'));
const out = join(dir, 'run');
// ~57-token prompts: every token costs backward time.
writeFileSync(join(dir, 'data.jsonl'), [
  { query: 'p', tools: [{ name: 'p' }], answers: [{ name: 'p', arguments: {} }] },
  { query: 'hi', tools: [{ name: 'p' }], answers: [] },
].map((r) => JSON.stringify(r)).join('\n'));

/** The config as a user writes it, comments included; `steps` varies between the runs. */
const config = (steps: number) => `// tiny run for the tests
{
  "model": "embedded",
  "mode": "full",
  "data": { "train": "data.jsonl", "heldout": "data.jsonl" },  /* relative to this file */
  "template": { "preamble": "P", "toolsIntro": "T", "instructions": "I", "exampleReply": "E" },
  "grpo": {
    "steps": ${steps}, "promptsPerStep": 1, "groupSize": 2, "maxNewTokens": 2, "microBatch": 4,
    "schedule": { "kind": "constant", "lr": 0.001 },
    "evalEvery": 2, "evalSize": 1, "checkpointEvery": 1, "seed": 3
  }
}`;

async function run(command: CliCommand, argv: string[]): Promise<{ stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (stderr.push(String(chunk)), true));
  await command.run(argv);
  vi.restoreAllMocks();
  return { stdout: stdout.join(''), stderr: stderr.join('') };
}

const events = (): TrainEvent[] => readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const checkpointStep = () => readCheckpointMeta(readFileSync(join(out, 'checkpoint.safetensors')), 'checkpoint').state.step;

afterEach(() => vi.restoreAllMocks());

describe('cli train and eval', () => {
  it('trains 2 steps: events, checkpoints, the merged export', async () => {
    writeFileSync(join(dir, 'two.json'), config(2));
    const { stderr } = await run(train, ['--config', join(dir, 'two.json'), '--out', out]);
    expect(stderr).toMatch(/^step 1\/2 {2}reward 0\.000 ± 0\.000 {2}format 0\.00 {2}loss .* tok\/s/m);
    expect(stderr).toContain('exported the merged model');
    const log = events();
    expect(log.filter((e) => e.type === 'step').map((e) => e.step)).toEqual([1, 2]);
    expect(log.filter((e) => e.type === 'sample').map((e) => [e.step, e.index])).toEqual([[0, 0], [0, 1], [1, 0], [1, 1]]);
    expect(log.filter((e) => e.type === 'checkpoint').map((e) => e.step)).toEqual([1, 2]);
    expect(log.filter((e) => e.type === 'eval')).toEqual([{ type: 'eval', step: 2, meanReward: 0, examples: 1 }]);
    expect(log[log.length - 1]).toEqual({ type: 'done', step: 2, stopped: false });
    expect(checkpointStep()).toBe(2);
    for (const f of ['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'train-config.json']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(existsSync(join(out, 'checkpoint.safetensors.tmp'))).toBe(false);
    await expect(train.run(['--config', join(dir, 'two.json'), '--out', out])).rejects.toThrow('already holds a run');
  });

  it('resumes from the checkpoint for a 3rd step, appending to the events', async () => {
    const before = events().length;
    writeFileSync(join(dir, 'three.json'), config(3));
    const { stderr } = await run(train, ['--config', join(dir, 'three.json'), '--out', out, '--resume']);
    expect(stderr).toContain('resuming from');
    expect(stderr).not.toContain('settings differ'); // only the step count grew
    const after = events().slice(before);
    expect(after.filter((e) => e.type === 'step').map((e) => e.step)).toEqual([3]);
    expect(after.filter((e) => e.type === 'sample').map((e) => e.step)).toEqual([2, 2]);
    expect(checkpointStep()).toBe(3);
  });

  it('evaluates the exported model on the synthetic held-out split', async () => {
    // The merged export loads like any model folder; --template takes the run's template from its config.
    const evalOut = join(dir, 'eval.jsonl');
    const { stdout, stderr } = await run(evaluate, [
      '--model', out, '--bench', 'synthetic', '--data', 'tiny:0', '--limit', '1', '--max-new-tokens', '2',
      '--template', join(out, 'train-config.json'), '--out', evalOut,
    ]);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ bench: 'synthetic', entries: 2, stopped: false, aggregate: { meanReward: 0, exactMatch: 0 } });
    expect(summary.categories.map((c: { category: string; total: number }) => [c.category, c.total])).toEqual([['single', 1], ['no_call', 1]]);
    const entries = readFileSync(evalOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(entries.map((e) => e.id)).toEqual(['synthetic-tiny-heldout-0-0', 'synthetic-tiny-heldout-0-1']);
    expect(stderr).toContain('eval: 2/2');
  });

  it('--step-through writes each step\'s phases to events.jsonl as trace events, without waiting', async () => {
    const traced = join(dir, 'traced');
    writeFileSync(join(dir, 'one.json'), config(1));
    await run(train, ['--config', join(dir, 'one.json'), '--out', traced, '--step-through']);
    const log: TrainEvent[] = readFileSync(join(traced, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const traces = log.filter((e) => e.type === 'trace');
    expect(traces.map((e) => [e.step, e.phase])).toEqual([[1, 'rollout'], [1, 'scores'], [1, 'advantages'], [1, 'update']]);
    const samples = log.filter((e) => e.type === 'sample');
    const rollout = traces[0];
    if (rollout.phase !== 'rollout') throw new Error('phase order');
    expect(rollout.done).toBe(true);
    expect(rollout.groups.flatMap((g) => g.texts)).toEqual(samples.map((s) => s.text));
    expect(log.at(-1)).toEqual({ type: 'done', step: 1, stopped: false });
    writeFileSync(join(dir, 'sft.json'), '{"method": "sft", "model": "embedded", "data": {"synthetic": {"level": "tiny"}}}');
    await expect(train.run(['--config', join(dir, 'sft.json'), '--out', join(dir, 'y'), '--step-through'])).rejects.toThrow("--step-through traces GRPO steps; this config's method is sft");
  });

  it('rejects unknown config keys and bad values before touching the GPU', async () => {
    writeFileSync(join(dir, 'typo.json'), '{"model": "embedded", "data": {"synthetic": {"level": "tiny"}}, "grpo": {"step": 3}}');
    await expect(train.run(['--config', join(dir, 'typo.json'), '--out', join(dir, 'x')])).rejects.toThrow('grpo.step is not a setting');
    writeFileSync(join(dir, 'bad.json'), '{"model": "embedded", "data": {"synthetic": {"level": "huge"}}}');
    await expect(train.run(['--config', join(dir, 'bad.json'), '--out', join(dir, 'x')])).rejects.toThrow('data.synthetic.level must be one of tiny, small, medium, hard');
  });
});
