// A step's rollouts as cards grouped by prompt (reasoning and tool call apart, the binary reward, its
// sub-signals and the advantage), a slider over the last steps, and a short GRPO explainer with live numbers.
import { useState } from 'react';
import type { TrainConfig } from '../train/config.ts';
import type { PromptInfo } from '../worker/protocol.ts';
import { Checks, CompletionBody, RawToggle } from './CompletionView.tsx';
import { REWARD_TEXT } from './train-form.ts';
import { byPrompt, type SampleEvent, type StepEvent } from './training-run.ts';
import { useStudio } from './store.ts';

/** The reward's sub-signals (src/toolcall/reward.ts), in the order the reward checks them. */
export const SIGNALS: [string, string][] = [
  ['toolCallFound', 'tool_call'],
  ['jsonParsed', 'JSON'],
  ['thinkTags', 'think'],
  ['namesMatch', 'names'],
  ['exactMatch', 'exact'],
];

const signed = (v: number) => `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(2)}`;

export function TrainingSamples() {
  const history = useStudio((s) => s.training.samples);
  const prompts = useStudio((s) => s.training.prompts);
  const steps = useStudio((s) => s.training.steps);
  const settings = useStudio((s) => s.training.start?.config);
  // null follows the newest step; a number pins one.
  const [pinned, setPinned] = useState<number | null>(null);
  if (history.length === 0 || !settings) return null;
  const at = pinned === null ? history.length - 1 : Math.min(pinned, history.length - 1);
  const { step, samples } = history[at];
  const groups = byPrompt(samples);
  return (
    <section className="card samples" data-testid="train-samples" data-step={step}>
      <div className="card-head">
        <h2>Samples of step {step}</h2>
        <div className="step-slider">
          <input
            type="range"
            aria-label="Step"
            data-testid="step-slider"
            min={0}
            max={history.length - 1}
            value={at}
            onChange={(e) => {
              const i = e.target.valueAsNumber;
              setPinned(i === history.length - 1 ? null : i);
            }}
          />
          <span className="muted">
            {history[0].step}–{history[history.length - 1].step}
          </span>
          <button className="link" disabled={pinned === null} onClick={() => setPinned(null)}>
            {pinned === null ? 'following the latest' : 'latest'}
          </button>
        </div>
      </div>
      <Explainer groups={groups} settings={settings} metrics={steps.find((s) => s.step === step)} />
      {groups.map((group) => (
        <PromptGroup key={group[0].prompt} samples={group} info={prompts[group[0].exampleId]} />
      ))}
    </section>
  );
}

/** A training prompt's question, its tools and the expected call. */
export function PromptInfoView({ info }: { info: PromptInfo }) {
  return (
    <div className="prompt-info">
      <p className="question">{info.question}</p>
      <p className="muted">
        tools {info.tools.map((t) => <code key={t}>{t}</code>)} · expected <code className="expected">{info.expected}</code>
      </p>
    </div>
  );
}

function PromptGroup({ samples, info }: { samples: SampleEvent[]; info: PromptInfo | undefined }) {
  const first = samples[0];
  const rewards = samples.map((s) => s.reward);
  const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  return (
    <div className="prompt-group" data-testid="prompt-group">
      <div className="prompt-head">
        <span className="prompt-index">Prompt {first.prompt + 1}</span>
        <code className="muted">{first.exampleId}</code>
        <span className="muted">
          group mean reward <strong>{mean.toFixed(2)}</strong>
        </span>
      </div>
      {info && <PromptInfoView info={info} />}
      <div className="completion-grid">
        {samples.map((s) => (
          <SampleCard key={s.index} sample={s} />
        ))}
      </div>
    </div>
  );
}

function SampleCard({ sample: s }: { sample: SampleEvent }) {
  const [raw, setRaw] = useState(false);
  const sign = s.advantage > 0 ? 'pos' : s.advantage < 0 ? 'neg' : 'zero';
  return (
    <article className="card completion sample" data-testid="sample-card" data-reward={s.reward} data-advantage={s.advantage}>
      <header className="completion-head">
        <span className={`reward-mark ${s.reward >= 1 ? 'ok' : s.reward > 0 ? 'part' : 'bad'}`} data-testid="sample-reward" title={`reward ${s.reward}`}>
          {s.reward >= 1 ? '✓' : s.reward > 0 ? s.reward.toFixed(1) : '✗'}
        </span>
        <span className="completion-index">#{s.index + 1}</span>
        <span className={`advantage ${sign}`} data-testid="sample-advantage" title="advantage: (r − group mean) / (group std + ε)">
          A {signed(s.advantage)}
        </span>
        <span className="muted">
          {s.tokens} token{s.tokens === 1 ? '' : 's'}
        </span>
        <RawToggle raw={raw} onToggle={() => setRaw(!raw)} />
      </header>
      <Checks checks={SIGNALS.map(([key, label]): [string, boolean] => [label, Boolean(s.signals[key])])} />
      <CompletionBody text={s.text} raw={raw} empty="(no tokens)" />
    </article>
  );
}

/** What GRPO did with this step, in numbers: the group with the most spread stands for the rest. */
function Explainer({ groups, settings, metrics }: { groups: SampleEvent[][]; settings: TrainConfig; metrics: StepEvent | undefined }) {
  const c = { ...settings.grpo, ...settings.grpo.objective, reward: settings.reward };
  const spread = (g: SampleEvent[]) => Math.max(...g.map((s) => s.reward)) - Math.min(...g.map((s) => s.reward));
  const group = groups.reduce((best, g) => (spread(g) > spread(best) ? g : best), groups[0]);
  const r = group.map((s) => s.reward);
  const mean = r.reduce((a, b) => a + b, 0) / r.length;
  const std = r.length > 1 ? Math.sqrt(r.reduce((a, x) => a + (x - mean) ** 2, 0) / (r.length - 1)) : 0;
  const learning = groups.filter((g) => spread(g) > 0).length;
  return (
    <details className="explainer" data-testid="grpo-explainer" open>
      <summary>How GRPO used this step</summary>
      <ol>
        <li>
          <strong>Groups.</strong> {groups.length} prompt{groups.length === 1 ? '' : 's'}, each answered G = {c.groupSize} times at temperature{' '}
          {c.temperature}. Each answer gets a reward r: {REWARD_TEXT[c.reward]}.
        </li>
        <li>
          <strong>Advantage = (r − mean) / std</strong> within the group. Prompt {group[0].prompt + 1}: r = [{r.join(', ')}], mean{' '}
          {mean.toFixed(2)}, std {std.toFixed(2)} → A = [{group.map((s) => signed(s.advantage)).join(', ')}]. Answers better than their
          siblings (A &gt; 0) are made likelier, worse ones less likely; a group whose answers all score the same has A = 0 and teaches
          nothing — {learning} of {groups.length} group{groups.length === 1 ? '' : 's'} had a spread this step.
        </li>
        <li>
          <strong>Clipping.</strong> The update maximises min(ratio·A, clip(ratio, 1 − {c.epsilonLow}, 1 + {c.epsilonHigh})·A), ratio =
          π_new / π_old per token, so one step cannot move a token's probability far.
          {c.iterations === 1
            ? ' With μ = 1 each batch of rollouts is used once: the ratio is 1 and only its gradient counts.'
            : ` With μ = ${c.iterations} passes over the same rollouts the ratio drifts from 1 and clipping bites.`}
          {metrics && ` This step clipped ${(metrics.clipFraction * 100).toFixed(1)}% of the tokens.`}
        </li>
        <li>
          <strong>β = {c.beta}</strong>{' '}
          {c.beta === 0
            ? 'turns the KL penalty off: nothing pulls the policy back to the starting model.'
            : `weighs a KL penalty (k3 estimator) that keeps the policy near the starting model${metrics ? `: KL this step ${metrics.kl.toExponential(2)}` : ''}.`}
        </li>
      </ol>
    </details>
  );
}
