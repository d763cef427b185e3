// Step-through mode's page state from the Worker's trace events: pure functions, no GPU.
import { describe, expect, it } from 'vitest';
import type { StepTrace, TrainEvent } from '../../src/train/events.ts';
import { groupOnView, lastPhase, withTraces } from '../../src/ui/step-through.ts';
import type { PromptInfo } from '../../src/worker/protocol.ts';

const trace = (step: number, t: StepTrace): TrainEvent => ({ type: 'trace', step, ...t });
const rollout = (step: number, done: boolean) => trace(step, { phase: 'rollout', groups: [{ exampleId: 'a', texts: ['x', 'y'] }, { exampleId: 'b', texts: ['z', 'w'] }], done });
const advantages = trace(1, {
  phase: 'advantages', scale: 'group', eps: 1e-6,
  groups: [
    { rewards: [0, 0], mean: 0, std: 0, allEqual: true, advantages: [0, 0] },
    { rewards: [1, 0], mean: 0.5, std: Math.SQRT1_2, allEqual: false, advantages: [0.7, -0.7] },
  ],
});
const info: PromptInfo = { question: 'q', tools: ['t'], expected: '<tool_call>[]</tool_call>' };
const empty = { on: true, traced: null, waiting: false, prompts: {}, picked: null };

describe('step-through view', () => {
  it('waits after each complete phase while on, not while rollouts stream or when off; the run ending ends the wait', () => {
    let s = { ...empty, ...withTraces(empty, [rollout(1, false)], { a: info }) };
    expect(s.waiting).toBe(false);
    expect(s.prompts).toEqual({ a: info });
    s = { ...s, ...withTraces(s, [rollout(1, true)], {}) };
    expect([s.waiting, lastPhase(s.traced!)]).toEqual([true, 'rollout']);
    s = { ...s, ...withTraces(s, [trace(1, { phase: 'scores', groups: [] }), advantages], {}) };
    expect([s.waiting, lastPhase(s.traced!)]).toEqual([true, 'advantages']);
    expect(withTraces({ ...s, on: false }, [trace(1, { phase: 'update', epsilonLow: 0.2, epsilonHigh: 0.2, passes: 1, optimizerSteps: 1, groups: [] })], {}).waiting).toBe(false);
    expect(withTraces(s, [{ type: 'done', step: 1, stopped: true }], {}).waiting).toBe(false);
  });

  it('a new step replaces the last one shown and forgets the pick; unpicked, the first group that learns is on view', () => {
    let s = { ...empty, ...withTraces(empty, [rollout(1, true), advantages], { a: info }) };
    expect(groupOnView(s.traced!, s.picked)).toBe(1);
    expect(groupOnView(s.traced!, 0)).toBe(0);
    s = { ...s, picked: 0 };
    s = { ...s, ...withTraces(s, [rollout(2, false)], {}) };
    expect(s.traced).toMatchObject({ step: 2, scores: null, advantages: null, update: null });
    expect([s.picked, s.prompts]).toEqual([null, {}]);
    expect(groupOnView(s.traced!, s.picked)).toBe(0);
  });
});
