// The paper's ablation sets: every variant is the form's run with exactly its one setting changed, and a
// config the trainer accepts.
import { describe, expect, it } from 'vitest';
import { resolveTrainConfig } from '../../src/train/config.ts';
import { ABLATIONS } from '../../src/ui/ablations.ts';
import { DEFAULT_TRAIN_FORM, patchForm, trainArgs } from '../../src/ui/train-form.ts';

const variant = (set: string, i: number) => trainArgs(patchForm(DEFAULT_TRAIN_FORM, ABLATIONS.find((a) => a.id === set)!.variants[i].patch)).config;

describe('ablation sets', () => {
  it('each variant resolves as the CLI would resolve it', () => {
    for (const a of ABLATIONS) for (const v of a.variants) expect(() => resolveTrainConfig(trainArgs(patchForm(DEFAULT_TRAIN_FORM, v.patch)).config), `${a.id}: ${v.name}`).not.toThrow();
  });

  it('change one thing each', () => {
    expect([0, 1, 2].map((i) => variant('rewards', i).reward)).toEqual(['binary', 'partial_format', 'partial_names']);
    expect([0, 1].map((i) => variant('reasoning', i).reward)).toEqual(['binary', 'binary_no_think']);
    expect([0, 1, 2].map((i) => variant('methods', i).method)).toEqual(['sft', 'grpo', 'grpo']);
    expect(ABLATIONS.find((a) => a.id === 'methods')!.variants.map((v) => v.continues ?? false)).toEqual([false, true, false]);
    expect([0, 1].map((i) => variant('beta', i).grpo.objective.beta)).toEqual([0, 0.001]);
    // Everything else is the form's: the β variants differ in β alone.
    const [zero, paper] = [variant('beta', 0), variant('beta', 1)];
    expect({ ...paper, grpo: { ...paper.grpo, objective: { ...paper.grpo.objective, beta: 0 } } }).toEqual(zero);
  });
});
