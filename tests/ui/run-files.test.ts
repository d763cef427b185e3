// A run's events as files: the CLI's events.jsonl read back (bad lines named, left out), JSON Lines written
// as the CLI writes them, a CSV row per step; and the overlay's series over the union of the runs' steps.
import { describe, expect, it } from 'vitest';
import type { TrainEvent } from '../../src/train/events.ts';
import { eventsCsv, eventsJsonl, parseEventsJsonl } from '../../src/ui/run-files.ts';
import { overlayCharts } from '../../src/ui/TrainingRuns.tsx';

const step = (n: number, reward: number): TrainEvent => ({
  type: 'step', step: n, rewardMean: reward, rewardStd: 0, formatRate: 0.5, loss: 0.1, kl: 0, clipFraction: 0, entropy: 1, gradNorm: 2, lr: 1e-3,
  skipped: 0, trainedSequences: 4, completionLength: 10, tokensPerSec: 3, rolloutMs: 1, scoringMs: 1, updateMs: 1,
});
const bench: TrainEvent = {
  type: 'bench', step: 2, bench: 'bfcl', accuracy: 0.5, correct: 1, total: 2, ms: 5,
  categories: [{ category: 'simple', accuracy: 1, correct: 1, total: 1 }, { category: 'irrelevance', accuracy: 0, correct: 0, total: 1 }],
};
const run: TrainEvent[] = [
  { type: 'log', level: 'info', message: '2 training prompts' },
  step(1, 0.25),
  step(2, 0.5),
  { type: 'eval', step: 2, meanReward: 0.75, examples: 4 },
  bench,
  { type: 'done', step: 2, stopped: false },
];

describe('events.jsonl', () => {
  it('round-trips what the CLI writes', () => {
    expect(parseEventsJsonl(eventsJsonl(run))).toEqual({ events: run, errors: [] });
  });

  it('names the lines it cannot use and keeps the rest', () => {
    const text = ['{"type": "step", "step": 1', '{"type": "weights"}', '{"type": "eval", "meanReward": 1}', '', JSON.stringify(step(1, 1))].join('\n');
    const parsed = parseEventsJsonl(text);
    expect(parsed.events).toEqual([step(1, 1)]);
    expect(parsed.errors).toEqual(['line 1: not JSON', 'line 2: not a training event (its "type" is "weights")', 'line 3: a eval event without a whole-number "step"']);
  });
});

describe('CSV', () => {
  it('a row per step, the step’s numbers, the held-out reward and the benchmark’s accuracy where measured', () => {
    const lines = eventsCsv(run).trim().split('\n');
    const head = lines[0].split(',');
    expect(head.slice(0, 3)).toEqual(['step', 'rewardMean', 'rewardStd']);
    expect(head.slice(-4)).toEqual(['heldoutReward', 'bfcl_accuracy', 'bfcl_simple', 'bfcl_irrelevance']);
    expect(lines).toHaveLength(3);
    const row = (i: number) => Object.fromEntries(head.map((h, j) => [h, lines[i].split(',')[j]]));
    expect(row(1)).toMatchObject({ step: '1', rewardMean: '0.25', heldoutReward: '', bfcl_accuracy: '' });
    expect(row(2)).toMatchObject({ step: '2', rewardMean: '0.5', heldoutReward: '0.75', bfcl_accuracy: '0.5', bfcl_simple: '1', bfcl_irrelevance: '0' });
  });
});

describe('overlay', () => {
  it('one chart per metric some run has, a series per run over the union of their steps', () => {
    const a = { id: 'a', name: 'binary', events: [step(1, 0.1), step(2, 0.2)] };
    const b = { id: 'b', name: 'partial', events: [step(1, 0.3), step(2, 0.4), step(3, 0.5), bench] };
    const charts = overlayCharts([a, b]);
    const reward = charts.find((c) => c.testid === 'overlay-reward')!;
    expect(reward.x).toEqual([1, 2, 3]);
    expect(reward.series.map((s) => [s.label, s.values])).toEqual([['binary', [0.1, 0.2, null]], ['partial', [0.3, 0.4, 0.5]]]);
    expect(charts.find((c) => c.testid === 'overlay-bench')!.series[1].values).toEqual([0.5]);
    expect(charts.some((c) => c.testid === 'overlay-sft-loss')).toBe(false);
  });
});
