// The live charts of a run: one small chart per metric over the steps, held-out evaluations on the reward's.
import { Chart, type ChartProps } from './Chart.tsx';
import type { BenchEvent, EvalEvent, SftStepEvent, StepEvent } from './training-run.ts';

const seconds = (ms: number) => ms / 1000;
const percent = (v: number) => `${(v * 100).toFixed(0)}%`;

const CATEGORY_COLORS = ['--accent', '--think', '--call', '--busy', '--bad', '--muted'];

/** The benchmark subset's accuracy at the steps it ran, overall and per category; null when the run has none. */
function benchChart(x: number[], benches: BenchEvent[]): ChartProps | null {
  if (benches.length === 0) return null;
  const at = new Map(benches.map((b) => [b.step, b]));
  const categories = [...new Set(benches.flatMap((b) => b.categories.map((c) => c.category)))];
  const values = (f: (b: BenchEvent) => number | undefined) => x.map((step) => (at.has(step) ? (f(at.get(step)!) ?? null) : null));
  return {
    title: `Benchmark accuracy (${benches[0].bench}, ${benches.at(-1)!.total} entries)`,
    testid: 'chart-bench',
    x,
    series: [
      { label: 'all', color: '--ok', values: values((b) => b.accuracy), dash: true },
      ...(categories.length > 1
        ? categories.map((c, i) => ({ label: c, color: CATEGORY_COLORS[i % CATEGORY_COLORS.length], values: values((b) => b.categories.find((k) => k.category === c)?.accuracy), dash: true }))
        : []),
    ],
    floor: [0, 1],
    format: percent,
  };
}

function charts(steps: StepEvent[], evals: EvalEvent[], benches: BenchEvent[]): ChartProps[] {
  const x = steps.map((s) => s.step);
  const of = (f: (s: StepEvent) => number) => steps.map((s) => (Number.isFinite(f(s)) ? f(s) : null));
  const evalAt = new Map(evals.map((e) => [e.step, e.meanReward]));
  return [
    {
      title: 'Reward ± std, held-out eval',
      testid: 'chart-reward',
      x,
      series: [
        { label: 'train', color: '--accent', values: of((s) => s.rewardMean) },
        { label: '+std', color: '--accent', values: of((s) => s.rewardMean + s.rewardStd), edge: true },
        { label: '−std', color: '--accent', values: of((s) => s.rewardMean - s.rewardStd), edge: true },
        { label: 'eval', color: '--ok', values: x.map((step) => evalAt.get(step) ?? null), dash: true },
      ],
      band: [1, 2],
      floor: [0, 1],
    },
    ...[benchChart(x, benches)].filter((c) => c !== null),
    { title: 'Format rate (think tags)', testid: 'chart-format', x, series: [{ label: 'format', color: '--think', values: of((s) => s.formatRate) }], floor: [0, 1], format: percent },
    { title: 'KL to reference', testid: 'chart-kl', x, series: [{ label: 'KL', color: '--accent', values: of((s) => s.kl) }], floor: [0, 0] },
    { title: 'Clip fraction', testid: 'chart-clip', x, series: [{ label: 'clipped', color: '--busy', values: of((s) => s.clipFraction) }], floor: [0, 0], format: percent },
    { title: 'Entropy (nats/token)', testid: 'chart-entropy', x, series: [{ label: 'entropy', color: '--think', values: of((s) => s.entropy) }], floor: [0, 0] },
    { title: 'Loss', testid: 'chart-loss', x, series: [{ label: 'loss', color: '--text', values: of((s) => s.loss) }] },
    { title: 'Gradient norm (before clipping)', testid: 'chart-grad-norm', x, series: [{ label: '|g|', color: '--bad', values: of((s) => s.gradNorm) }], floor: [0, 0] },
    { title: 'Learning rate', testid: 'chart-lr', x, series: [{ label: 'lr', color: '--muted', values: of((s) => s.lr) }], floor: [0, 0], format: (v) => (v === 0 ? '0' : v.toExponential(1)) },
    { title: 'Completion length (tokens)', testid: 'chart-length', x, series: [{ label: 'tokens', color: '--call', values: of((s) => s.completionLength) }], floor: [0, 0] },
    { title: 'Tokens / s (whole step)', testid: 'chart-tps', x, series: [{ label: 'tok/s', color: '--ok', values: of((s) => s.tokensPerSec) }], floor: [0, 0] },
    {
      title: 'Time per step (s)',
      testid: 'chart-time',
      x,
      series: [
        { label: 'rollout', color: '--accent', values: of((s) => seconds(s.rolloutMs)) },
        { label: 'scoring', color: '--busy', values: of((s) => seconds(s.scoringMs)) },
        { label: 'update', color: '--bad', values: of((s) => seconds(s.updateMs)) },
      ],
      floor: [0, 0],
    },
  ];
}

export function TrainingCharts({ steps, evals, benches = [] }: { steps: StepEvent[]; evals: EvalEvent[]; benches?: BenchEvent[] }) {
  if (steps.length === 0) return <p className="muted charts-empty">Charts appear after the first step.</p>;
  return (
    <div className="charts" data-testid="train-charts">
      {charts(steps, evals, benches).map((c) => (
        <Chart key={c.testid} {...c} />
      ))}
    </div>
  );
}

/** An SFT run's curves: loss and token accuracy per step, the held-out greedy reward (GRPO's evaluation). */
export function SftCharts({ steps, evals, benches = [] }: { steps: SftStepEvent[]; evals: EvalEvent[]; benches?: BenchEvent[] }) {
  const x = steps.map((s) => s.step);
  const of = (f: (s: SftStepEvent) => number) => steps.map((s) => (Number.isFinite(f(s)) ? f(s) : null));
  const evalAt = new Map(evals.map((e) => [e.step, e.meanReward]));
  const charts: ChartProps[] = [
    { title: 'SFT loss (cross-entropy / token)', testid: 'chart-sft-loss', x, series: [{ label: 'loss', color: '--text', values: of((s) => s.loss) }], floor: [0, 0] },
    { title: 'Token accuracy', testid: 'chart-sft-accuracy', x, series: [{ label: 'accuracy', color: '--accent', values: of((s) => s.tokenAccuracy) }], floor: [0, 1], format: percent },
    {
      title: 'Held-out greedy reward',
      testid: 'chart-sft-eval',
      x,
      series: [{ label: 'eval', color: '--ok', values: x.map((step) => evalAt.get(step) ?? null), dash: true }],
      floor: [0, 1],
    },
    ...[benchChart(x, benches)].filter((c) => c !== null),
    { title: 'Gradient norm (before clipping)', testid: 'chart-sft-grad-norm', x, series: [{ label: '|g|', color: '--bad', values: of((s) => s.gradNorm) }], floor: [0, 0] },
  ];
  return (
    <div className="charts" data-testid="train-sft-charts">
      {charts.map((c) => (
        <Chart key={c.testid} {...c} />
      ))}
    </div>
  );
}
