// Step-through mode on the Training tab: one GRPO step phase by phase, the run waiting after each until
// the user goes on. (1) the G rollouts of a group stream in, (2) each is scored, (3) the group's mean, std
// and advantages are worked out with the numbers in the formula, (4) the update token by token: ratio
// π/π_old, clipping, and the change in log-probability as a colour over the text, (5) the next step.
import { useState } from 'react';
import type { TokenTrace } from '../train/events.ts';
import { Checks, CompletionBody } from './CompletionView.tsx';
import { Segmented } from './fields.tsx';
import { PromptInfoView, SIGNALS } from './TrainingSamples.tsx';
import { engineBusy, useStudio } from './store.ts';
import { PHASES, groupOnView, lastPhase, useStepThrough, type Phase, type PhaseTrace } from './step-through.ts';
import './StepThrough.css';

const signed = (v: number, digits = 3) => `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(digits)}`;
const num = (v: number, digits = 3) => (v < 0 ? `−${Math.abs(v).toFixed(digits)}` : v.toFixed(digits));
/** A reward or a sum of rewards as short as it is exact to 4 decimals (0.2, 1, 0.4). */
const short = (v: number) => String(Number(v.toFixed(4)));

/** A new run of the form's settings, in step-through mode or not (Start). */
export async function startRun(stepThrough: boolean): Promise<void> {
  await useStepThrough.getState().setOn(stepThrough);
  await useStudio.getState().startTraining();
}

/** Beside Start: a new run of the form's settings in step-through mode. */
export function StepThroughStart() {
  const model = useStudio((s) => s.model);
  const busy = useStudio(engineBusy);
  const grpo = useStudio((s) => s.trainForm.config.method === 'grpo');
  return (
    <button
      className="secondary"
      data-testid="train-step-through"
      disabled={!model || busy !== null || !grpo}
      title={grpo ? 'start the run and go through each GRPO step phase by phase, pausing after each' : 'step-through mode shows GRPO steps'}
      onClick={() => void startRun(true)}
    >
      Step through
    </button>
  );
}

/** While a run runs: the mode on or off (off, a paused step goes on and the run runs on). */
export function StepThroughToggle() {
  const on = useStepThrough((s) => s.on);
  const setOn = useStepThrough((s) => s.setOn);
  return (
    <label className="step-toggle" title="pause each GRPO step after each phase, from the next phase on">
      <input type="checkbox" data-testid="step-through-toggle" checked={on} onChange={(e) => void setOn(e.target.checked)} /> Step through
    </label>
  );
}

const NEXT_LABEL: Record<Phase, string> = {
  rollout: 'Score them',
  scores: 'Compute the advantages',
  advantages: 'Update the policy',
  update: 'Next step',
};

export function StepThroughCard() {
  const { on, traced, waiting, prompts, picked, next, pick, setOn } = useStepThrough();
  const running = useStudio((s) => s.training.status === 'running' && !s.training.stopping);
  const steps = useStudio((s) => s.training.start?.config.grpo.steps ?? 0);
  if (!traced) {
    if (!on || !running) return null;
    return (
      <section className="card step-through" data-testid="step-through">
        <h2>Step through</h2>
        <p className="muted">Waiting for the next step to start: its rollouts will stream in here.</p>
      </section>
    );
  }
  const phase = lastPhase(traced);
  const at = PHASES.indexOf(phase);
  const group = groupOnView(traced, picked);
  const rollout = traced.rollout?.groups[group];
  const info = rollout ? prompts[rollout.exampleId] : undefined;
  const last = traced.step === steps && phase === 'update';
  return (
    <section className="card step-through" data-testid="step-through" data-step={traced.step} data-phase={phase} data-waiting={waiting}>
      <div className="card-head">
        <h2>Step through · step {traced.step}</h2>
        <ol className="phase-line">
          {[...PHASES, 'next step'].map((label, i) => (
            <li key={label} className={i === at ? 'current' : i < at ? 'done' : ''}>
              {i + 1}. {label}
            </li>
          ))}
        </ol>
      </div>
      <div className="actions">
        {running && waiting && (
          <button className="primary" data-testid="step-next" onClick={next}>
            {last ? 'Finish the run' : `${NEXT_LABEL[phase]} →`}
          </button>
        )}
        {running && !waiting && on && <span className="muted">{phase === 'rollout' && !traced.rollout?.done ? 'Rolling out…' : 'Working…'}</span>}
        {running && on && (
          <button className="secondary" data-testid="step-run-on" onClick={() => void setOn(false)}>
            Run on without pausing
          </button>
        )}
        {(traced.rollout?.groups.length ?? 0) > 1 && (
          <span className="group-picker" role="group" aria-label="Group">
            {traced.rollout!.groups.map((_, i) => (
              <button key={i} className={i === group ? 'chip-button active' : 'chip-button'} data-testid="step-group" onClick={() => pick(i)}>
                prompt {i + 1}
                {traced.advantages && (traced.advantages.groups[i].allEqual ? ' · all equal' : ' · learns')}
              </button>
            ))}
          </span>
        )}
      </div>
      {info && <PromptInfoView info={info} />}
      {traced.rollout && <RolloutPhase trace={traced.rollout} group={group} />}
      {traced.scores && <ScoresPhase trace={traced.scores} group={group} />}
      {traced.advantages && <AdvantagesPhase trace={traced.advantages} group={group} />}
      {traced.update && <UpdatePhase trace={traced.update} group={group} />}
    </section>
  );
}

function RolloutPhase({ trace, group }: { trace: PhaseTrace<'rollout'>; group: number }) {
  const texts = trace.groups[group]?.texts ?? [];
  return (
    <div className="phase" data-testid="step-phase-rollout" data-done={trace.done}>
      <h3>1. Rollouts {trace.done ? '' : '(streaming)'}</h3>
      <p className="note">The policy answers the prompt G = {texts.length} times, sampling each token; the prompts of the step decode together.</p>
      <div className="completion-grid">
        {texts.map((text, k) => (
          <article key={k} className="card completion sample" data-testid="step-rollout">
            <header className="completion-head">
              <span className="completion-index">#{k + 1}</span>
            </header>
            <CompletionBody text={text} raw={false} empty="(no tokens yet)" />
          </article>
        ))}
      </div>
    </div>
  );
}

function ScoresPhase({ trace, group }: { trace: PhaseTrace<'scores'>; group: number }) {
  const outcomes = trace.groups[group] ?? [];
  return (
    <div className="phase" data-testid="step-phase-scores">
      <h3>2. Scores</h3>
      <p className="note">Each answer is checked by the rule-based reward; the checks it is made of are shown under its number.</p>
      <div className="score-row">
        {outcomes.map((o, k) => (
          <div key={k} className="score" data-testid="step-score" data-reward={o.reward}>
            <span className={`reward-mark ${o.reward >= 1 ? 'ok' : o.reward > 0 ? 'part' : 'bad'}`}>#{k + 1} r = {short(o.reward)}</span>
            <Checks checks={SIGNALS.filter(([key]) => key in o.signals).map(([key, label]): [string, boolean] => [label, Boolean(o.signals[key])])} />
          </div>
        ))}
      </div>
    </div>
  );
}

function AdvantagesPhase({ trace, group }: { trace: PhaseTrace<'advantages'>; group: number }) {
  const g = trace.groups[group];
  if (!g) return null;
  const G = g.rewards.length;
  const sum = g.rewards.reduce((a, b) => a + b, 0);
  const squares = g.rewards.reduce((a, r) => a + (r - g.mean) ** 2, 0);
  const eps = trace.eps.toExponential(0);
  return (
    <div className="phase" data-testid="step-phase-advantages">
      <h3>3. Advantages</h3>
      <div className="formula" data-testid="step-formula">
        <p>
          mean = ({g.rewards.map(short).join(' + ')}) / {G} = {short(sum)} / {G} = <strong>{num(g.mean)}</strong>
        </p>
        {trace.scale === 'group' && (
          <p>
            std = √(Σ (r − mean)² / (G − 1)) = √({num(squares)} / {G - 1}) = <strong>{num(g.std ?? 0)}</strong>
          </p>
        )}
        {trace.scale === 'batch' && (
          <p>
            std = the whole batch's reward std (scale rewards: batch) = <strong>{num(g.std ?? 0)}</strong>
          </p>
        )}
        {g.allEqual ? (
          <p data-testid="step-all-equal">
            All {G} rewards are equal: every advantage is 0, so this group teaches nothing this step (with β = 0 its answers are
            left out of the update).
          </p>
        ) : (
          <ul className="advantages">
            {g.rewards.map((r, k) => (
              <li key={k} data-testid="step-advantage" data-advantage={g.advantages[k]}>
                A<sub>{k + 1}</sub> = {trace.scale === 'none' ? `${short(r)} − ${num(g.mean)}` : `(${short(r)} − ${num(g.mean)}) / (${num(g.std ?? 0)} + ${eps})`} ={' '}
                <strong className={g.advantages[k] > 0 ? 'pos' : g.advantages[k] < 0 ? 'neg' : ''}>{signed(g.advantages[k])}</strong>
              </li>
            ))}
          </ul>
        )}
      </div>
      <p className="note">
        Answers better than their group's mean (A &gt; 0) will be made likelier, worse ones (A &lt; 0) less likely.
      </p>
    </div>
  );
}

/** Mean change in log-probability per token over completions. */
function meanChange(tokens: TokenTrace[]): number | null {
  let n = 0;
  let sum = 0;
  for (const t of tokens) t.after.forEach((a, k) => ((sum += a - t.before[k]), n++));
  return n > 0 ? sum / n : null;
}

function ChangeSummary({ label, tokens, testid }: { label: string; tokens: TokenTrace[]; testid: string }) {
  const rewarded = meanChange(tokens.filter((t) => t.reward > 0));
  const unrewarded = meanChange(tokens.filter((t) => t.reward <= 0));
  const show = (v: number | null) =>
    v === null ? <span className="muted">none</span> : <strong className={v > 0 ? 'pos' : v < 0 ? 'neg' : ''}>{signed(v, 4)}</strong>;
  return (
    <p data-testid={testid}>
      {label}: mean Δ log π per token, rewarded completions {show(rewarded)}, unrewarded {show(unrewarded)}
    </p>
  );
}

/** What the tokens' colour shows: the change in log-probability, or how far the ratio is from 1. */
type Colour = 'change' | 'ratio';

/** Per token, the value the colour shows (positive: green) and what full colour stands for. */
function colourValues(t: TokenTrace, by: Colour): number[] {
  return by === 'change' ? t.after.map((a, k) => a - t.before[k]) : t.pieces.map((_, k) => (t.ratio ? t.ratio[k] - 1 : 0));
}

function UpdatePhase({ trace, group }: { trace: PhaseTrace<'update'>; group: number }) {
  const [by, setBy] = useState<Colour>('change');
  const completions = trace.groups[group] ?? [];
  // One colour scale over the group: the largest value is full colour.
  const scale = Math.max(1e-12, ...completions.flatMap((t) => colourValues(t, by).map(Math.abs)));
  const onPolicy = trace.passes === 1 && trace.optimizerSteps <= 1;
  return (
    <div className="phase" data-testid="step-phase-update">
      <h3>4. Update</h3>
      <p className="note">
        Per token, the ratio π<sub>θ</sub>/π<sub>old</sub> weighs the advantage; the objective takes min(ratio·A, clip(ratio, 1 − {trace.epsilonLow}, 1 +{' '}
        {trace.epsilonHigh})·A), so a clipped token gives no gradient.{' '}
        {onPolicy
          ? 'With μ = 1 the rollouts are used once, by the policy that sampled them: every ratio is 1 and nothing clips.'
          : `With μ = ${trace.passes} passes the ratio drifts from 1 (shown: the last pass).`}{' '}
        {trace.optimizerSteps === 0
          ? 'No group had a spread of rewards, so nothing was updated: the log-probabilities are what they were.'
          : `The step took ${trace.optimizerSteps} optimizer step${trace.optimizerSteps === 1 ? '' : 's'}; then the updated policy scored the same tokens again.`}{' '}
        Colour: {by === 'change' ? 'the change in log-probability of each token,' : 'the ratio of each token,'} <span className="delta-up">{by === 'change' ? 'likelier' : 'above 1'}</span> or{' '}
        <span className="delta-down">{by === 'change' ? 'less likely' : 'below 1'}</span>; a clipped token is framed (hover a token for its numbers).
      </p>
      <Segmented<Colour>
        label="Colour by"
        value={by}
        options={[
          { value: 'change', label: 'Δ log π after the step', testid: 'step-colour-change' },
          { value: 'ratio', label: 'ratio π/π_old', testid: 'step-colour-ratio' },
        ]}
        onChange={setBy}
      />
      <div className="change-summary">
        <ChangeSummary label={`Prompt ${group + 1}`} tokens={completions} testid="step-mean-change" />
        {trace.groups.length > 1 && <ChangeSummary label="Whole step" tokens={trace.groups.flat()} testid="step-mean-change-all" />}
      </div>
      {completions.map((t, k) => (
        <TokenRow key={k} index={k} trace={t} values={colourValues(t, by)} scale={scale} />
      ))}
      <p className="note">5. Next: the step's metrics are on the charts; the next step draws new prompts and starts again at 1.</p>
    </div>
  );
}

function TokenRow({ index, trace: t, values, scale }: { index: number; trace: TokenTrace; values: number[]; scale: number }) {
  const ratios = t.ratio ?? [];
  const clipped = t.clipped?.filter(Boolean).length ?? 0;
  const change = meanChange([t]);
  return (
    <div className="token-row" data-testid="step-completion" data-reward={t.reward} data-advantage={t.advantage}>
      <div className="token-head">
        <span className={`reward-mark ${t.reward >= 1 ? 'ok' : t.reward > 0 ? 'part' : 'bad'}`}>#{index + 1}</span>
        <span className={`advantage ${t.advantage > 0 ? 'pos' : t.advantage < 0 ? 'neg' : 'zero'}`}>A {signed(t.advantage, 2)}</span>
        <span className="muted" data-testid="step-ratio">
          {t.ratio
            ? `ratio ${num(Math.min(...ratios))}–${num(Math.max(...ratios))} · ${clipped} of ${ratios.length} clipped`
            : 'not in the update (A = 0, β = 0)'}
        </span>
        <span className="muted">mean Δ log π {change === null ? '—' : signed(change, 4)}</span>
      </div>
      <div className="tokens">
        {t.pieces.map((piece, k) => {
          const delta = t.after[k] - t.before[k];
          const alpha = Math.min(1, Math.abs(values[k]) / scale) * 0.75;
          const colour = values[k] > 0 ? `rgba(26, 127, 55, ${alpha})` : `rgba(198, 40, 40, ${alpha})`;
          const ratio = t.ratio ? ` · ratio ${t.ratio[k].toFixed(4)}${t.clipped![k] ? ' · clipped' : ''}` : '';
          return (
            <span
              key={k}
              className={t.clipped?.[k] ? 'token clipped' : 'token'}
              data-testid="step-token"
              data-delta={delta}
              style={{ background: colour }}
              title={`log π_old ${t.before[k].toFixed(4)} → ${t.after[k].toFixed(4)} (Δ ${signed(delta, 4)})${ratio}`}
            >
              {piece}
            </span>
          );
        })}
      </div>
    </div>
  );
}
