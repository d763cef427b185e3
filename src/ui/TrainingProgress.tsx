// What the running step is doing: its phase (pipelines compiling, rollout tokens, scoring, update
// micro-batches, evaluation), the time since it began, and estimates for the step and the run.
import { useClock } from './clock.ts';
import { formatDuration } from './format.ts';
import { estimates, phaseText, type TrainingView } from './training-run.ts';

export function StepPhase({ view, total }: { view: TrainingView; total: number }) {
  const p = view.progress;
  const now = useClock(view.status === 'running');
  if (view.status !== 'running') return null;
  if (!p) return <p className="phase muted" data-testid="train-phase">preparing the prompts and the policy…</p>;
  const elapsed = p.ms + Math.max(0, now - p.at);
  const steps = view.start?.config.method === 'sft' ? view.sftSteps : view.steps;
  const { stepLeft, runLeft } = estimates(steps, total, p, elapsed);
  const between = p.phase === 'eval' || p.phase === 'bench' || p.phase === 'compile';
  return (
    <p className="phase" data-testid="train-phase" data-phase={p.phase}>
      {between ? (p.phase === 'compile' ? 'before the first step: ' : `after step ${p.step}: `) : `step ${p.step}: `}
      <strong>{phaseText(p)}</strong>
      {!between && ` · ${formatDuration(elapsed)} in`}
      {stepLeft !== null && ` · ~${formatDuration(stepLeft)} left in the step`}
      {runLeft !== null ? ` · ~${formatDuration(runLeft)} left in the run` : ' · estimates after the first step'}
    </p>
  );
}
