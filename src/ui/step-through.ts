// Step-through mode's state on the page: the switch, the traced step's phases as the Worker reports them,
// and the group on view. Its own store, fed by the same 'train-events' notices as the run's view.
import { create } from 'zustand';
import type { StepTrace } from '../train/events.ts';
import type { EngineClient } from './engine-client.ts';
import type { EngineNotice, PromptInfo, TrainEvent } from '../worker/protocol.ts';

export type Phase = StepTrace['phase'];
export type PhaseTrace<P extends Phase> = Extract<StepTrace, { phase: P }>;

/** The phases in the order a step runs them. */
export const PHASES: Phase[] = ['rollout', 'scores', 'advantages', 'update'];

export interface TracedStep {
  /** counted from 1, as the step's metrics are */
  step: number;
  rollout: PhaseTrace<'rollout'> | null;
  scores: PhaseTrace<'scores'> | null;
  advantages: PhaseTrace<'advantages'> | null;
  update: PhaseTrace<'update'> | null;
}

export interface StepThroughState {
  /** the mode: each GRPO step from the next one on pauses after each phase */
  on: boolean;
  traced: TracedStep | null;
  /** the Worker's trainer waits after the last phase shown (until next()) */
  waiting: boolean;
  prompts: Record<string, PromptInfo>;
  /** the group (prompt of the step) on view; null: the first whose rewards differ, once scored */
  picked: number | null;
  setOn(on: boolean): Promise<void>;
  next(): void;
  pick(group: number): void;
}

let engine: EngineClient | null = null;

export const useStepThrough = create<StepThroughState>()((set, get) => ({
  on: false,
  traced: null,
  waiting: false,
  prompts: {},
  picked: null,
  async setOn(on) {
    // Off, a waiting step goes on by itself.
    set({ on, ...(!on && { waiting: false }) });
    await engine?.call('stepThrough', { on });
  },
  next() {
    if (!get().waiting) return;
    set({ waiting: false });
    void engine?.call('stepThroughNext', {});
  },
  pick(group) {
    set({ picked: group });
  },
}));

/** Feeds the store from the engine's notices; call once with the page's engine. */
export function attachStepThrough(client: EngineClient): void {
  engine = client;
  client.onNotice((n: EngineNotice) => {
    if (n.type === 'train-start') useStepThrough.setState({ traced: null, waiting: false, prompts: {}, picked: null });
    if (n.type === 'train-events') useStepThrough.setState((s) => withTraces(s, n.events, n.prompts));
  });
}

/** The traces of a batch of events: a new step replaces the last one shown; the run's end ends any wait. */
export function withTraces(
  s: Pick<StepThroughState, 'on' | 'traced' | 'waiting' | 'prompts' | 'picked'>, events: TrainEvent[], prompts: Record<string, PromptInfo>,
): Pick<StepThroughState, 'traced' | 'waiting' | 'prompts' | 'picked'> {
  let { traced, waiting, picked } = s;
  let known = s.prompts;
  for (const e of events) {
    if (e.type === 'done') waiting = false;
    if (e.type !== 'trace') continue;
    if (traced?.step !== e.step) {
      traced = { step: e.step, rollout: null, scores: null, advantages: null, update: null };
      known = {};
      picked = null;
    }
    const { type: _type, step: _step, ...trace } = e;
    traced = { ...traced, [trace.phase]: trace };
    // The trainer waits after each complete phase while the mode is on (streamed rollouts are not one).
    waiting = s.on && (trace.phase !== 'rollout' || trace.done);
    if (trace.phase === 'rollout') for (const g of trace.groups) if (prompts[g.exampleId]) known = { ...known, [g.exampleId]: prompts[g.exampleId] };
  }
  return { traced, waiting, prompts: known, picked };
}

/** The group on view: the picked one, else the first whose rewards differ (it learns), else the first. */
export function groupOnView(traced: TracedStep, picked: number | null): number {
  if (picked !== null) return picked;
  const spread = traced.advantages?.groups.findIndex((g) => !g.allEqual) ?? -1;
  return Math.max(0, spread);
}

/** Where the step is: the last phase reported. */
export function lastPhase(traced: TracedStep): Phase {
  return [...PHASES].reverse().find((p) => traced[p] !== null) ?? 'rollout';
}
