// Fuzz: training configs through the one config module (src/train/config.ts), as the CLI reads a config
// file: every setting given values of every wrong kind and range. Each is an error naming the key, before any
// GPU work; a valid mutation resolves.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTrainConfigText, resolveTrainConfig } from '../../src/train/config.ts';
import { PAPER_GRPO } from '../../src/train/trainer.ts';
import { cli, deepJson, expectFailure, expectNoLeak, tempDir, writeText } from './harness.ts';

const BASE = { model: 'embedded', data: { synthetic: { level: 'tiny' } } };
const parse = (config: unknown) => parseTrainConfigText(typeof config === 'string' ? config : JSON.stringify(config), 'c.json', (p) => p);

function refusal(config: unknown): string {
  try {
    parse(config);
  } catch (e) {
    expect(e).not.toBeInstanceOf(TypeError);
    expectNoLeak((e as Error).message);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

const COUNTS = ['steps', 'promptsPerStep', 'groupSize', 'maxNewTokens', 'iterations', 'miniBatches', 'microBatch'];
const WHOLE = ['evalEvery', 'evalSize', 'checkpointEvery', 'seed', 'topK'];
const POSITIVE = ['temperature', 'maxGradNorm'];
const NON_NEGATIVE = ['weightDecay', 'advantageEps'];
const shown = (v: unknown) => JSON.stringify(v);

describe('grpo settings: every numeric key, every wrong value', () => {
  const cases: [string, unknown, RegExp][] = [
    ...COUNTS.filter((k) => k in PAPER_GRPO).flatMap((k) =>
      [0, -1, 2.5, '4', null, true].map((v): [string, unknown, RegExp] => [k, v, new RegExp(`^c\\.json: grpo\\.${k} must be (a whole number ≥ 1, got ${escape(shown(v))}|at least 2)`)])),
    ...WHOLE.filter((k) => k in PAPER_GRPO).flatMap((k) =>
      [-1, 0.5, '0', null, []].map((v): [string, unknown, RegExp] => [k, v, new RegExp(`^c\\.json: grpo\\.${k} must be a whole number ≥ 0, got ${escape(shown(v))}`)])),
    ...POSITIVE.filter((k) => k in PAPER_GRPO).flatMap((k) =>
      [0, -0.5, '1', null].map((v): [string, unknown, RegExp] => [k, v, new RegExp(`^c\\.json: grpo\\.${k} must be a finite number > 0`)])),
    ...NON_NEGATIVE.filter((k) => k in PAPER_GRPO).flatMap((k) =>
      [-1e-9, '0', null].map((v): [string, unknown, RegExp] => [k, v, new RegExp(`^c\\.json: grpo\\.${k} must be a finite number ≥ 0`)])),
    ...['beta1', 'beta2'].flatMap((k) => [1, -0.1, 2].map((v): [string, unknown, RegExp] => [k, v, new RegExp(`^c\\.json: grpo\\.${k} must be in \\[0, 1\\)`)])),
    ...[0, -0.5, 1.01].map((v): [string, unknown, RegExp] => ['topP', v, /^c\.json: grpo\.topP must be in \(0, 1\]/]),
    ['scaleRewards', 'all', /^c\.json: grpo\.scaleRewards must be one of group, batch, none, got "all"/],
    ['groupSize', 1, /^c\.json: grpo\.groupSize must be at least 2: advantages compare completions within a group/],
    ['stpes', 3, /^c\.json: grpo\.stpes is not a setting \(known: /],
  ];
  it.each(cases)('grpo.%s = %j', (key, value, message) => {
    expect(refusal({ ...BASE, grpo: { [key]: value } })).toMatch(message);
  });
  it.each(['temperature', 'maxGradNorm', 'steps'])('grpo.%s = 1e999 in the file (an infinity)', (key) => {
    expect(refusal(`{"model": "embedded", "data": {"synthetic": {"level": "tiny"}}, "grpo": {"${key}": 1e999}}`)).toMatch(new RegExp(`^c\\.json: grpo\\.${key} must be`));
  });
});

describe('grpo.objective and grpo.schedule', () => {
  it.each([
    [{ lossType: 'ppo' }, 'grpo.objective.lossType must be one of grpo, bnpo, dr_grpo, dapo, got "ppo"'],
    [{ epsilonLow: -0.2 }, 'grpo.objective.epsilonLow must be a finite number ≥ 0'],
    [{ epsilonHigh: '0.2' }, 'grpo.objective.epsilonHigh must be a finite number ≥ 0'],
    [{ beta: -1 }, 'grpo.objective.beta must be a finite number ≥ 0'],
    [{ klClamp: 0 }, 'grpo.objective.klClamp must be a finite number > 0'],
    [{ maxCompletionLength: 0 }, 'grpo.objective.maxCompletionLength must be a whole number ≥ 1, got 0'],
    [{ maxCompletionLength: 1.5 }, 'grpo.objective.maxCompletionLength must be a whole number ≥ 1, got 1.5'],
    [{ epsilon: 0.2 }, 'grpo.objective.epsilon is not a setting'],
  ])('objective %j', (objective, message) => {
    expect(refusal({ ...BASE, grpo: { objective } })).toContain(`c.json: ${message}`);
  });
  it.each([
    [{ kind: 'step', lr: 1e-3 }, 'grpo.schedule.kind must be one of constant, linear, cosine, got "step"'],
    [{ kind: 'constant' }, 'grpo.schedule.lr must be a finite number > 0'],
    [{ kind: 'constant', lr: 0 }, 'grpo.schedule.lr must be a finite number > 0'],
    [{ kind: 'constant', lr: -1 }, 'grpo.schedule.lr must be a finite number > 0'],
    [{ kind: 'cosine', lr: 1e-3, totalSteps: 5, warmupSteps: 5 }, 'grpo.schedule.totalSteps must exceed warmupSteps (5)'],
    [{ kind: 'cosine', lr: 1e-3, totalSteps: 5, warmupSteps: -1 }, 'grpo.schedule.warmupSteps must be a whole number ≥ 0, got -1'],
    [{ kind: 'linear', lr: 1e-3, totalSteps: 5, minLr: -1 }, 'grpo.schedule.minLr must be a finite number ≥ 0'],
    [{ kind: 'constant', lr: 1e-3, decay: 1 }, 'grpo.schedule.decay is not a setting'],
  ])('schedule %j', (schedule, message) => {
    expect(refusal({ ...BASE, grpo: { schedule } })).toContain(`c.json: ${message}`);
  });
});

describe('the rest of the config', () => {
  it.each([
    ['not JSON', '{"model": ', /^c\.json: not valid JSON/],
    ['a list', '[]', /^c\.json: config must be an object/],
    ['nested 100 000 deep', `{"model": "embedded", "data": {"synthetic": {"level": "tiny"}}, "template": ${deepJson(100_000, 'object')}}`, /^c\.json: (not valid JSON|template)/],
    ['an unknown key', { ...BASE, modle: 'x' }, /^c\.json: config\.modle is not a setting/],
    ['no model', { data: BASE.data }, /^c\.json: model \("embedded", a folder, or \{"hub": "<repo>"\}\) must be a non-empty string/],
    ['model a number', { ...BASE, model: 3 }, /^c\.json: model .* must be a non-empty string/],
    ['model.hub empty', { ...BASE, model: { hub: '' } }, /^c\.json: model\.hub must be a non-empty string/],
    ['model with another key', { ...BASE, model: { hub: 'a/b', revision: 'x' } }, /^c\.json: model\.revision is not a setting/],
    ['mode "half"', { ...BASE, mode: 'half' }, /^c\.json: mode must be one of full, lora, got "half"/],
    ['lora rank 0', { ...BASE, mode: 'lora', lora: { rank: 0 } }, /^c\.json: lora\.rank must be a whole number ≥ 1, got 0/],
    ['lora rank 2.5', { ...BASE, mode: 'lora', lora: { rank: 2.5 } }, /^c\.json: lora\.rank must be a whole number ≥ 1, got 2\.5/],
    ['lora alpha 0', { ...BASE, mode: 'lora', lora: { alpha: 0 } }, /^c\.json: lora\.alpha must be a finite number > 0/],
    ['lora targets empty', { ...BASE, mode: 'lora', lora: { targets: [] } }, /^c\.json: lora\.targets must be a non-empty list of q, k, v, o, gate, up, down/],
    ['lora target "attn"', { ...BASE, mode: 'lora', lora: { targets: ['q', 'attn'] } }, /^c\.json: lora\.targets\[1\] must be one of q, k, v, o, gate, up, down, got "attn"/],
    ['lora dropout', { ...BASE, mode: 'lora', lora: { dropout: 0.1 } }, /^c\.json: lora\.dropout is not a setting/],
    ['no data', { model: 'embedded' }, /^c\.json: data must be an object/],
    ['synthetic level "huge"', { ...BASE, data: { synthetic: { level: 'huge' } } }, /^c\.json: data\.synthetic\.level must be one of tiny, small, medium, hard, got "huge"/],
    ['synthetic seed -1', { ...BASE, data: { synthetic: { level: 'tiny', seed: -1 } } }, /^c\.json: data\.synthetic\.seed must be a whole number ≥ 0, got -1/],
    ['synthetic train 0', { ...BASE, data: { synthetic: { level: 'tiny', train: 0 } } }, /^c\.json: data\.synthetic\.train must be a whole number ≥ 1, got 0/],
    ['synthetic with a train file', { ...BASE, data: { synthetic: { level: 'tiny' }, train: 'x' } }, /^c\.json: data\.train is not a setting/],
    ['a data file of an unknown format', { ...BASE, data: { train: 'x.jsonl', format: 'csv' } }, /^c\.json: data\.format must be one of instance, xlam, toolace, got "csv"/],
    ['heldoutFraction 1', { ...BASE, data: { train: 'x.jsonl', heldoutFraction: 1 } }, /^c\.json: data\.heldoutFraction must be in \[0, 1\)/],
    ['heldoutFraction -0.1', { ...BASE, data: { train: 'x.jsonl', heldoutFraction: -0.1 } }, /^c\.json: data\.heldoutFraction must be in \[0, 1\)/],
    ['data.train empty', { ...BASE, data: { train: '' } }, /^c\.json: data\.train \(or data\.synthetic\) must be a non-empty string/],
    ['reward "dense"', { ...BASE, reward: 'dense' }, /^c\.json: reward must be one of binary, .*got "dense"/],
    ['maxPromptTokens 0', { ...BASE, maxPromptTokens: 0 }, /^c\.json: maxPromptTokens must be a whole number ≥ 1, got 0/],
    ['maxPromptTokens -5', { ...BASE, maxPromptTokens: -5 }, /^c\.json: maxPromptTokens must be a whole number ≥ 1, got -5/],
    ['resume a number', { ...BASE, resume: 5 }, /^c\.json: resume must be a non-empty string/],
    ['template a number', { ...BASE, template: 5 }, /^c\.json: template/],
  ] as [string, unknown, RegExp][])('%s', (_, config, message) => {
    expect(refusal(config)).toMatch(message);
  });

  it('a valid config resolves with the defaults filled in', () => {
    const c = resolveTrainConfig({ ...BASE, grpo: { steps: 3 } });
    expect(c).toMatchObject({ mode: 'full', lora: null, reward: 'binary', maxPromptTokens: 4096, grpo: { steps: 3, groupSize: PAPER_GRPO.groupSize } });
  });
});

describe('train --config: a bad config is refused before anything is written', () => {
  const dir = tempDir();
  it.each([
    [{ ...BASE, grpo: { steps: -1 } }, 'grpo.steps must be a whole number ≥ 1, got -1'],
    [{ ...BASE, grpo: { temperature: 0 } }, 'grpo.temperature must be a finite number > 0, got 0'],
    [{ ...BASE, mode: 'lora', lora: { rank: 100_000 } }, 'lora.rank 100000 is above what the'],
    [{ ...BASE, data: { train: 'missing.jsonl' } }, 'missing.jsonl: cannot be read'],
  ] as [unknown, string][])('%j', async (config, message) => {
    const out = `${dir}/run-${Math.random().toString(36).slice(2)}`;
    expectFailure(await cli(['train', '--config', writeText(dir, 'c.json', JSON.stringify(config)), '--out', out]), 1, message);
    expect(existsSync(out)).toBe(false);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
