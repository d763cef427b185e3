// Runs side by side: the runs kept in this browser (open on the charts, rename, delete, resume, export their
// events as JSON Lines or CSV), a CLI run's events.jsonl opened as a run, the paper's ablation sets, and the
// chosen runs' curves overlaid, one colour per run.
import { useEffect, useState, type ChangeEvent } from 'react';
import type { TrainEvent } from '../train/events.ts';
import type { RunInfo } from '../worker/protocol.ts';
import { ABLATIONS } from './ablations.ts';
import { Chart, type ChartProps } from './Chart.tsx';
import { useRuns, type OverlaidRun } from './runs-store.ts';
import { engineBusy, useStudio } from './store.ts';

export function RunsCard() {
  const { runs, overlay, ablation, error } = useRuns();
  const { refresh, open } = useRuns.getState();
  const training = useStudio((s) => s.training.status);
  const checkpoint = useStudio((s) => s.checkpoint);
  // The list follows the runs: a new one appears when it starts, its step when it checkpoints, and at its end.
  useEffect(() => void refresh(), [training, checkpoint, refresh]);
  const pick = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (file) void open(file);
  };
  return (
    <section className="card" data-testid="runs-card">
      <div className="card-head">
        <h2>Runs</h2>
        <label className="button secondary">
          Open events.jsonl…
          <input type="file" hidden accept=".jsonl,.json,application/x-ndjson" data-testid="runs-open-input" onChange={pick} />
        </label>
      </div>
      <p className="note">Kept in this browser with their events. Tick runs to overlay their curves; a CLI run’s events.jsonl opens as a run.</p>
      {runs.length === 0 ? (
        <p className="muted">No runs kept yet.</p>
      ) : (
        <table className="cases runs" data-testid="runs-list">
          <tbody>
            {runs.map((r) => (
              <RunRow key={r.id} run={r} overlaid={overlay.some((o) => o.id === r.id)} />
            ))}
          </tbody>
        </table>
      )}
      {error && (
        <p className="summary fail" data-testid="runs-error">
          {error}
        </p>
      )}
      <Ablations running={ablation} />
      {overlay.length > 0 && <OverlayCharts runs={overlay} />}
    </section>
  );
}

function RunRow({ run: r, overlaid }: { run: RunInfo; overlaid: boolean }) {
  const { toggle, rename, remove, resume, download } = useRuns.getState();
  const busy = useStudio(engineBusy);
  const model = useStudio((s) => s.model?.label);
  const steps = useStudio((s) => s.trainForm.config[r.method].steps);
  const [editing, setEditing] = useState<string | null>(null);
  const canResume = !busy && !r.imported && r.checkpointStep !== null && model === r.model && steps > r.checkpointStep;
  return (
    <tr data-testid="run-row" data-name={r.name}>
      <td>
        <input type="checkbox" aria-label={`overlay ${r.name}`} data-testid="run-overlay" checked={overlaid} onChange={() => void toggle(r.id)} />
      </td>
      <td>
        {editing === null ? (
          <button className="link run-name" title="rename" data-testid="run-name" onClick={() => setEditing(r.name)}>
            {r.name}
          </button>
        ) : (
          <input
            autoFocus
            data-testid="run-rename"
            value={editing}
            onChange={(e) => setEditing(e.target.value)}
            onBlur={() => setEditing(null)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && editing.trim()) void rename(r.id, editing).then(() => setEditing(null));
              if (e.key === 'Escape') setEditing(null);
            }}
          />
        )}
        <div className="muted run-facts">
          {r.imported ? 'opened from a file' : `${r.method.toUpperCase()} · ${r.model}`} · {r.data} ·{' '}
          {r.active ? 'training' : r.checkpointStep !== null ? `checkpoint at step ${r.checkpointStep} of ${r.steps}` : `${r.steps} steps`}
          {r.current && ' · saved run'}
        </div>
      </td>
      <td className="run-actions">
        <button className="link" data-testid="run-jsonl" onClick={() => void download(r.id, 'jsonl')}>
          JSONL
        </button>
        <button className="link" data-testid="run-csv" onClick={() => void download(r.id, 'csv')}>
          CSV
        </button>
        {!r.imported && (
          <button className="link" data-testid="run-resume" disabled={!canResume} title={`continue up to the form’s ${steps} steps`} onClick={() => void resume(r.id)}>
            resume
          </button>
        )}
        <button className="link danger-link" data-testid="run-delete" disabled={r.active || busy !== null} onClick={() => confirm(`Delete “${r.name}” and its checkpoint?`) && void remove(r.id)}>
          delete
        </button>
      </td>
    </tr>
  );
}

function Ablations({ running }: { running: { id: string; variant: number; of: number } | null }) {
  const busy = useStudio(engineBusy);
  const model = useStudio((s) => s.model);
  const { runAblation, stopAblation } = useRuns.getState();
  return (
    <div className="ablations" data-testid="ablations">
      <h3>Ablation sets (the paper’s)</h3>
      <p className="note">Each runs the form’s settings with one thing changed, one run after another; they land overlaid.</p>
      <div className="examples">
        {ABLATIONS.map((a) => (
          <button key={a.id} className="chip-button" data-testid={`ablation-${a.id}`} title={a.note} disabled={!model || busy !== null} onClick={() => void runAblation(a.id)}>
            {a.label}
          </button>
        ))}
      </div>
      {running && (
        <p data-testid="ablation-status">
          {ABLATIONS.find((a) => a.id === running.id)?.label}: run {running.variant + 1} of {running.of}{' '}
          <button className="link" onClick={stopAblation}>
            stop the set
          </button>
        </p>
      )}
    </div>
  );
}

// ---- overlaid curves -------------------------------------------------------------------------------

const RUN_COLORS = ['--accent', '--ok', '--bad', '--think', '--call', '--busy', '--muted', '--text'];

type Metric = { title: string; testid: string; of: (events: TrainEvent[]) => Map<number, number>; floor?: [number, number]; percent?: boolean };

const byStep = <T extends TrainEvent>(type: T['type'], value: (e: T) => number) => (events: TrainEvent[]) =>
  new Map(events.filter((e): e is T => e.type === type).map((e) => [(e as T & { step: number }).step, value(e)]));

type Step = Extract<TrainEvent, { type: 'step' }>;
const METRICS: Metric[] = [
  { title: 'Reward (train mean)', testid: 'overlay-reward', of: byStep<Step>('step', (e) => e.rewardMean), floor: [0, 1] },
  { title: 'Held-out greedy reward', testid: 'overlay-eval', of: byStep<Extract<TrainEvent, { type: 'eval' }>>('eval', (e) => e.meanReward), floor: [0, 1] },
  { title: 'Benchmark accuracy', testid: 'overlay-bench', of: byStep<Extract<TrainEvent, { type: 'bench' }>>('bench', (e) => e.accuracy), floor: [0, 1], percent: true },
  { title: 'Format rate', testid: 'overlay-format', of: byStep<Step>('step', (e) => e.formatRate), floor: [0, 1], percent: true },
  { title: 'KL to reference', testid: 'overlay-kl', of: byStep<Step>('step', (e) => e.kl), floor: [0, 0] },
  { title: 'Completion length (tokens)', testid: 'overlay-length', of: byStep<Step>('step', (e) => e.completionLength), floor: [0, 0] },
  { title: 'Entropy (nats/token)', testid: 'overlay-entropy', of: byStep<Step>('step', (e) => e.entropy), floor: [0, 0] },
  { title: 'SFT loss', testid: 'overlay-sft-loss', of: byStep<Extract<TrainEvent, { type: 'sft-step' }>>('sft-step', (e) => e.loss), floor: [0, 0] },
];

/** One chart per metric that some overlaid run has, a series per run over the union of their steps. */
export function overlayCharts(runs: OverlaidRun[]): ChartProps[] {
  return METRICS.flatMap((m) => {
    const per = runs.map((r) => m.of(r.events));
    if (per.every((p) => [...p.values()].every((v) => !Number.isFinite(v)))) return [];
    const x = [...new Set(per.flatMap((p) => [...p.keys()]))].sort((a, b) => a - b);
    return [{
      title: m.title,
      testid: m.testid,
      x,
      series: runs.map((r, i) => ({
        label: r.name,
        color: RUN_COLORS[i % RUN_COLORS.length],
        values: x.map((s) => (Number.isFinite(per[i].get(s)) ? per[i].get(s)! : null)),
      })),
      floor: m.floor,
      format: m.percent ? (v: number) => `${(v * 100).toFixed(0)}%` : undefined,
    }];
  });
}

function OverlayCharts({ runs }: { runs: OverlaidRun[] }) {
  return (
    <div data-testid="overlay">
      <h3>Overlaid</h3>
      <ul className="chips overlay-legend">
        {runs.map((r, i) => (
          <li key={r.id} style={{ color: `var(${RUN_COLORS[i % RUN_COLORS.length]})` }}>
            ■ {r.name}
          </li>
        ))}
      </ul>
      <div className="charts" data-testid="overlay-charts">
        {overlayCharts(runs).map((c) => (
          // Keyed by the runs too: a different set of series builds a new plot.
          <Chart key={`${c.testid}:${runs.map((r) => r.id).join(',')}`} {...c} />
        ))}
      </div>
    </div>
  );
}
