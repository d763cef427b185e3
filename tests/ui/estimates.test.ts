// The studio's words for a running step and its time estimates, and the benchmark's size and time for the
// device: pure functions over the Worker's events, no GPU.
import { describe, expect, it } from 'vitest';
import { isBenchDataFile } from '../../src/eval/suites.ts';
import type { GpuInfo } from '../../src/gpu/device.ts';
import { benchSizeFor, benchTimeLeftMs, benchTimeMs, isCpuAdapter } from '../../src/ui/bench-estimate.ts';
import { formatDuration } from '../../src/ui/format.ts';
import { IDLE_VIEW, estimates, perStepMs, phaseText, withEvents, type ProgressEvent, type StepEvent } from '../../src/ui/training-run.ts';

const step = (n: number, seconds: number): StepEvent => ({
  type: 'step', step: n, rewardMean: 0, rewardStd: 0, formatRate: 0, loss: 0, kl: 0, clipFraction: 0, entropy: 0, gradNorm: 0, lr: 0,
  skipped: 0, trainedSequences: 0, completionLength: 0, tokensPerSec: 0, rolloutMs: seconds * 600, scoringMs: 0, updateMs: seconds * 400,
});
const progress = (p: Partial<ProgressEvent>): ProgressEvent => ({ type: 'progress', step: 1, phase: 'rollout', done: 0, total: 1, ms: 0, ...p });

describe('a running step in words', () => {
  it('names the phase with its counts', () => {
    expect(phaseText(progress({ phase: 'compile', done: 3, total: 10 }))).toBe('compiling GPU pipelines: 3 of 10');
    expect(phaseText(progress({ phase: 'rollout', done: 45, total: 96 }))).toBe('rolling out: token 45 of at most 96');
    expect(phaseText(progress({ phase: 'scoring', total: 2 }))).toBe('scoring 2 groups');
    expect(phaseText(progress({ step: 3, phase: 'update', done: 1, total: 4 }))).toBe('updating: micro-batch 2 of 4');
    expect(phaseText(progress({ step: 1, phase: 'update', done: 0, total: 4 }))).toBe('updating: micro-batch 1 of 4 (the first update compiles its pipelines)');
    expect(phaseText(progress({ phase: 'eval', done: 8, total: 16 }))).toBe('held-out evaluation: 8 of 16 prompts');
  });

  it('keeps the latest report until the run is done', () => {
    const view = withEvents({ ...IDLE_VIEW, status: 'running' }, [progress({ done: 1 }), progress({ done: 2 })], {});
    expect(view.progress).toMatchObject({ phase: 'rollout', done: 2 });
    expect(withEvents(view, [{ type: 'done', step: 1, stopped: false }], {}).progress).toBeNull();
  });
});

describe('estimates', () => {
  it('a step takes the median of the last steps, the first one (compiling) left out once others exist', () => {
    expect(perStepMs([])).toBeNull();
    expect(perStepMs([step(1, 100)])).toBe(100_000);
    expect(perStepMs([step(1, 100), step(2, 10), step(3, 12), step(4, 11)])).toBe(11_000);
  });

  it('the step and the run: what is left of this step plus the steps after it', () => {
    const steps = [step(1, 100), step(2, 10), step(3, 10)];
    expect(estimates(steps, 10, progress({ step: 4, phase: 'update' }), 4000)).toEqual({ stepLeft: 6000, runLeft: 6000 + 6 * 10_000 });
    // Evaluating after step 3: seven steps to go.
    expect(estimates(steps, 10, progress({ step: 3, phase: 'eval' }), 0)).toEqual({ stepLeft: null, runLeft: 70_000 });
    expect(estimates([], 10, progress({}), 0)).toEqual({ stepLeft: null, runLeft: null });
  });

  it('durations read as people say them', () => {
    expect(formatDuration(4200)).toBe('4 s');
    expect(formatDuration(192_000)).toBe('3 min 12 s');
    expect(formatDuration(7.5 * 3600_000)).toBe('7 h 30 min');
  });
});

describe('benchmarks sized for the device', () => {
  const info = (architecture: string, vendor = 'nvidia'): GpuInfo =>
    ({ vendor, architecture, device: '', description: '', features: [], limits: {}, f16: false, subgroups: false, subgroupMaxSize: 0, timestamps: false });

  it('a CPU adapter gets a few minutes’ worth, a GPU more', () => {
    expect(isCpuAdapter(info('swiftshader', 'google'))).toBe(true);
    expect(isCpuAdapter(info('ampere'))).toBe(false);
    expect(benchSizeFor(info('swiftshader', 'google')).count).toBeLessThan(benchSizeFor(info('ampere')).count);
  });

  it('time from a measured rate: rounds of the batch × tokens per round, and what is left from the pace so far', () => {
    // 8 sequences decode 16 tok/s together: 2 steps/s. 20 prompts in batches of 8 = 3 rounds × 96 steps.
    expect(benchTimeMs(20, 96, 8, { tokensPerSec: 16, batch: 8, where: 'x' })).toBe(144_000);
    expect(benchTimeLeftMs(0, 10, 5000)).toBeNull();
    expect(benchTimeLeftMs(2, 10, 5000)).toBe(20_000);
  });

  it('a picked folder keeps only the benchmark’s data files', () => {
    const paths = ['data/BFCL_v3_simple.json', 'data/possible_answer/BFCL_v3_simple.json', 'data/README.md', 'data/.DS_Store', 'data/BFCL_v3_simple.py'];
    expect(paths.filter((p) => isBenchDataFile('bfcl', p))).toEqual(['data/BFCL_v3_simple.json', 'data/possible_answer/BFCL_v3_simple.json']);
    expect(['test-data/level-1-api.json', 'test-data/level-3-api.json', 'x.json'].filter((p) => isBenchDataFile('apibank', p))).toEqual(['test-data/level-1-api.json']);
  });
});
