// The Training tab's view of a run, built from the Worker's notices by pure functions: every step's metrics
// (for the charts), evaluations, the samples of the last steps (for the cards and the step slider) and logs.
import type { EngineError, PromptInfo, TrainEvent, TrainStart } from '../worker/protocol.ts';

export type SampleEvent = Extract<TrainEvent, { type: 'sample' }>;
export type StepEvent = Extract<TrainEvent, { type: 'step' }>;
export type EvalEvent = Extract<TrainEvent, { type: 'eval' }>;
export type SftStepEvent = Extract<TrainEvent, { type: 'sft-step' }>;
export type ProgressEvent = Extract<TrainEvent, { type: 'progress' }>;
export type BenchEvent = Extract<TrainEvent, { type: 'bench' }>;

/** Steps whose samples are kept for browsing; metrics of every step are kept. */
export const SAMPLE_STEPS = 50;
const LOG_LINES = 200;

export interface StepSamples {
  /** the step these rollouts belong to, counted from 1 as the step metrics are */
  step: number;
  samples: SampleEvent[];
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  at: number;
}

export interface TrainingView {
  status: 'idle' | 'running' | 'done' | 'stopped' | 'failed';
  /** Stop was pressed; the current step is finishing */
  stopping: boolean;
  start: TrainStart | null;
  steps: StepEvent[];
  evals: EvalEvent[];
  /** the config's benchmark subset, every N steps */
  benches: BenchEvent[];
  /** an SFT run's steps and evaluations, kept beside the GRPO run that continues from it */
  sftSteps: SftStepEvent[];
  sftEvals: EvalEvent[];
  /** oldest first, at most SAMPLE_STEPS */
  samples: StepSamples[];
  /** the prompts the kept samples answer */
  prompts: Record<string, PromptInfo>;
  logs: LogLine[];
  error: EngineError | null;
  /** where the running step is, and when the page heard it (ms since the epoch) */
  progress: (ProgressEvent & { at: number }) | null;
}

export const IDLE_VIEW: TrainingView = {
  status: 'idle', stopping: false, start: null, steps: [], evals: [], benches: [], sftSteps: [], sftEvals: [], samples: [], prompts: {}, logs: [], error: null, progress: null,
};

/**
 * A training call was sent: a new run clears the view (the console stays), a resumed one keeps its history,
 * a GRPO run continuing an SFT run keeps the SFT curves.
 */
export function running(view: TrainingView, kind: 'new' | 'resume' | 'continue'): TrainingView {
  const base =
    kind === 'resume' ? view : kind === 'continue' ? { ...IDLE_VIEW, logs: view.logs, sftSteps: view.sftSteps, sftEvals: view.sftEvals } : { ...IDLE_VIEW, logs: view.logs };
  return { ...base, status: 'running', stopping: false, error: null };
}

/** The Worker describes the run: a resumed one keeps the history up to its checkpoint. */
export function started(view: TrainingView, start: TrainStart): TrainingView {
  const upTo = start.resumedFrom;
  if (upTo === null) return { ...view, start };
  return {
    ...view,
    start,
    steps: view.steps.filter((s) => s.step <= upTo),
    evals: view.evals.filter((e) => e.step <= upTo),
    benches: view.benches.filter((e) => e.step <= upTo),
    ...(start.config.method === 'sft' && { sftSteps: view.sftSteps.filter((s) => s.step <= upTo), sftEvals: view.sftEvals.filter((e) => e.step <= upTo) }),
    samples: view.samples.filter((s) => s.step <= upTo),
  };
}

export function withEvents(view: TrainingView, events: TrainEvent[], prompts: Record<string, PromptInfo>): TrainingView {
  const steps = [...view.steps];
  const sft = view.start?.config.method === 'sft';
  const evals = [...(sft ? view.sftEvals : view.evals)];
  const sftSteps = [...view.sftSteps];
  const benches = [...view.benches];
  let samples = view.samples;
  const logs = [...view.logs];
  let status = view.status;
  let progress = view.progress;
  const log = (level: LogLine['level'], message: string) => logs.push({ level, message, at: Date.now() });
  for (const e of events) {
    switch (e.type) {
      case 'sample': {
        const step = e.step + 1;
        const last = samples[samples.length - 1];
        if (last?.step === step) samples = [...samples.slice(0, -1), { step, samples: [...last.samples, e] }];
        else samples = [...samples, { step, samples: [e] }].slice(-SAMPLE_STEPS);
        break;
      }
      case 'step':
        steps.push(e);
        if (e.skipped > 0) log('warn', `step ${e.step}: ${e.skipped} update pass${e.skipped === 1 ? '' : 'es'} skipped`);
        break;
      case 'sft-step':
        sftSteps.push(e);
        if (e.skipped > 0) log('warn', `step ${e.step}: update skipped`);
        break;
      case 'eval':
        evals.push(e);
        log('info', `step ${e.step}: held-out mean reward ${e.meanReward.toFixed(3)} on ${e.examples} prompts`);
        break;
      case 'bench':
        benches.push(e);
        log('info', `step ${e.step}: ${e.bench} accuracy ${(100 * e.accuracy).toFixed(1)}% (${e.correct} of ${e.total})`);
        break;
      case 'checkpoint':
        log('info', `step ${e.step}: checkpoint saved to ${e.where} (${(e.bytes / 2 ** 20).toFixed(2)} MiB)`);
        break;
      case 'log':
        log(e.level, e.message);
        break;
      case 'progress':
        progress = { ...e, at: Date.now() };
        break;
      case 'done':
        status = e.stopped ? 'stopped' : 'done';
        progress = null;
        log('info', e.stopped ? `stopped after step ${e.step}` : `done: ${e.step} steps`);
        break;
    }
  }
  const kept = new Set(samples.flatMap((s) => s.samples.map((x) => x.exampleId)));
  const merged = Object.fromEntries(Object.entries({ ...view.prompts, ...prompts }).filter(([id]) => kept.has(id)));
  return { ...view, status, progress, steps, sftSteps, benches, ...(sft ? { sftEvals: evals } : { evals }), samples, prompts: merged, logs: logs.slice(-LOG_LINES) };
}

export function failed(view: TrainingView, error: EngineError): TrainingView {
  return { ...view, status: 'failed', stopping: false, error, progress: null };
}

/** Samples grouped by prompt, in the order the trainer drew the prompts. */
export function byPrompt(samples: SampleEvent[]): SampleEvent[][] {
  const groups: SampleEvent[][] = [];
  for (const s of samples) (groups[s.prompt] ??= []).push(s);
  return groups.filter(Boolean).map((g) => g.sort((a, b) => a.index - b.index));
}

/** The phase of a running step in words. */
export function phaseText(p: ProgressEvent): string {
  switch (p.phase) {
    case 'compile':
      return `compiling GPU pipelines: ${p.done} of ${p.total}`;
    case 'rollout':
      return `rolling out: token ${p.done} of at most ${p.total}`;
    case 'scoring':
      return `scoring ${p.total} group${p.total === 1 ? '' : 's'}`;
    case 'reference':
      return 'reference log-probs (KL)';
    case 'update':
      return `updating: micro-batch ${Math.min(p.done + 1, p.total)} of ${p.total}${p.step === 1 && p.done === 0 ? ' (the first update compiles its pipelines)' : ''}`;
    case 'eval':
      return `held-out evaluation: ${p.done} of ${p.total} prompts`;
    case 'bench':
      return `benchmark: ${p.done} of ${p.total} entries`;
  }
}

/** Duration of a finished step (GRPO: its phases; SFT: the whole step). */
const stepMs = (s: StepEvent | SftStepEvent) => (s.type === 'step' ? s.rolloutMs + s.scoringMs + s.updateMs : s.updateMs);

/**
 * Expected time per step: the median of the last finished steps, leaving out the run's first one when others
 * exist (it compiles pipelines); null before any step finished.
 */
export function perStepMs(steps: (StepEvent | SftStepEvent)[]): number | null {
  const recent = (steps.length > 1 ? steps.slice(1) : steps).slice(-5).map(stepMs).sort((a, b) => a - b);
  return recent.length ? recent[Math.floor(recent.length / 2)] : null;
}

/** Time left in the step now running and in the whole run (ms), from `elapsed` into the step; null before a step finished. */
export function estimates(steps: (StepEvent | SftStepEvent)[], total: number, p: ProgressEvent | null, elapsed: number): { stepLeft: number | null; runLeft: number | null } {
  const per = perStepMs(steps);
  if (per === null || !p) return { stepLeft: null, runLeft: null };
  // Between steps (evaluating, compiling): the steps not yet begun.
  if (p.phase === 'eval' || p.phase === 'bench' || p.phase === 'compile') return { stepLeft: null, runLeft: Math.max(0, total - (steps.at(-1)?.step ?? 0)) * per };
  const stepLeft = Math.max(0, per - elapsed);
  return { stepLeft, runLeft: stepLeft + Math.max(0, total - p.step) * per };
}
