// The Benchmarks tab: BFCL v3, API-Bank (Level-1 and Level-2) or the synthetic held-out split, run on the
// loaded model or the trained policy in the Worker, with per-category accuracy, each benchmark's own way of
// summing up, and every entry's completion. Benchmark data comes from the user's files or a URL at run time.
import { useState, type ChangeEvent } from 'react';
import { SYNTHETIC_LEVELS, type SyntheticLevel } from '../data/synthetic.ts';
import type { CategorySummary, EvalEntry } from '../eval/runner.ts';
import { isBenchDataFile, type Bench, type BenchAggregate } from '../eval/suites.ts';
import { ortBackendOf, type BenchFile } from '../worker/protocol.ts';
import { AdapterPicker } from './AdapterPicker.tsx';
import { CompletionBody } from './CompletionView.tsx';
import { NumberField, Segmented, SelectField } from './fields.tsx';
import { formatDuration, formatRate } from './format.ts';
import { BackendChoice, OrtModelLine } from './OrtBackend.tsx';
import { benchTimeLeftMs, benchTimeMs, isCpuAdapter } from './bench-estimate.ts';
import { useClock } from './clock.ts';
import { toolCallBlocks } from '../toolcall/decode.ts';
import { engineBusy, useStudio } from './store.ts';

export function BenchmarksPanel() {
  const gpu = useStudio((s) => s.gpu);
  if (gpu.status === 'failed') {
    return (
      <section className="card muted" data-testid="bench-no-gpu">
        Benchmarks need WebGPU: see the GPU tab.
      </section>
    );
  }
  return (
    <div className="benchmarks">
      <div className="grid">
        <BenchConfig />
        <BenchStatus />
      </div>
      <Categories />
      <Entries />
    </div>
  );
}

// ---- configuration ---------------------------------------------------------------------------------

const BENCH_OPTIONS: { value: Bench; label: string; testid: string }[] = [
  { value: 'bfcl', label: 'BFCL v3', testid: 'bench-bfcl' },
  { value: 'apibank', label: 'API-Bank', testid: 'bench-apibank' },
  { value: 'synthetic', label: 'Synthetic held-out', testid: 'bench-synthetic' },
];

const DATA_HELP: Record<Exclude<Bench, 'synthetic'>, string> = {
  bfcl:
    'Question files BFCL_v3_<category>.json with their possible_answer/BFCL_v3_<category>.json (none for the relevance ' +
    'categories), from the Gorilla repository’s berkeley-function-call-leaderboard data folder.',
  apibank: 'level-1-api.json (Call) and/or level-2-api.json (Retrieve+Call), from API-Bank’s test-data folder.',
};

function BenchConfig() {
  const f = useStudio((s) => s.benchForm);
  const update = useStudio((s) => s.updateBenchForm);
  const running = useStudio((s) => s.bench.status === 'running');
  const stopping = useStudio((s) => s.bench.stopping);
  const model = useStudio((s) => s.model);
  const trained = useStudio((s) => s.checkpoint?.model === s.model?.label || (s.training.start !== null && s.training.status !== 'failed'));
  const busy = useStudio(engineBusy);
  const { runBenchmark, stopBenchmark } = useStudio.getState();
  const ort = f.backend === 'engine' ? null : ortBackendOf(f.backend);
  const ortReady = useStudio((s) => ort !== null && s.ort[ort].info !== null);
  const ready = (ort === null ? model !== null : ortReady) && busy === null && (f.bench === 'synthetic' || (f.from === 'url' ? f.url.trim() !== '' : f.files.length > 0));

  /**
   * Adds picked files; a file picked again under the same path replaces the old one. A folder's other files
   * (READMEs, scripts, other benchmarks' data) are left out without a word.
   */
  const pick = (pathOf: (file: File) => string, onlyData?: 'bfcl') => (e: ChangeEvent<HTMLInputElement>) => {
    const all: BenchFile[] = Array.from(e.target.files ?? [], (file) => ({ path: pathOf(file), file }));
    const picked = onlyData ? all.filter((f) => isBenchDataFile(onlyData, f.path)) : all;
    e.target.value = '';
    const paths = new Set(picked.map((p) => p.path));
    update({ files: [...f.files.filter((x) => !paths.has(x.path)), ...picked] });
  };

  return (
    <section className="card" data-testid="bench-config">
      <h2>Benchmark</h2>
      <Segmented label="Benchmark" value={f.bench} options={BENCH_OPTIONS} onChange={(bench) => update({ bench, files: [] })} />
      {f.bench === 'synthetic' ? (
        <>
          <p className="note">The embedded generator’s held-out split: other tools and wordings than training sees, judged by the binary reward.</p>
          <div className="params">
            <SelectField<SyntheticLevel> label="level" testid="bench-level" value={f.level} options={Object.keys(SYNTHETIC_LEVELS) as SyntheticLevel[]} onChange={(level) => update({ level })} />
            <NumberField label="seed" testid="bench-seed" value={f.seed} min={0} max={2 ** 31 - 1} step={1} onChange={(seed) => update({ seed })} />
            <NumberField label="prompts" testid="bench-count" value={f.count} min={1} max={10_000} step={1} onChange={(count) => update({ count })} />
          </div>
        </>
      ) : (
        <>
          <p className="note">{DATA_HELP[f.bench]} Nothing is uploaded anywhere.</p>
          <Segmented
            label="Data from"
            value={f.from}
            options={[
              { value: 'files', label: 'Files', testid: 'bench-from-files' },
              { value: 'url', label: 'URL', testid: 'bench-from-url' },
            ]}
            onChange={(from) => update({ from })}
          />
          {f.from === 'url' ? (
            <input
              className="mono wide"
              data-testid="bench-url"
              aria-label="Base URL of the benchmark files"
              placeholder={f.bench === 'bfcl' ? 'https://…/data/  (holding BFCL_v3_*.json and possible_answer/)' : 'https://…/test-data/'}
              value={f.url}
              spellCheck={false}
              onChange={(e) => update({ url: e.target.value })}
            />
          ) : (
            <div className="pickers">
              {f.bench === 'bfcl' ? (
                <>
                  <FilePicker label="Folder…" testid="bench-folder-input" directory onChange={pick((file) => file.webkitRelativePath || file.name, 'bfcl')} />
                  <FilePicker label="Question files…" testid="bench-questions-input" onChange={pick((file) => file.name)} />
                  <FilePicker label="Possible answers…" testid="bench-answers-input" onChange={pick((file) => `possible_answer/${file.name}`)} />
                </>
              ) : (
                <FilePicker label="level-1 / level-2 files…" testid="bench-apibank-input" onChange={pick((file) => file.name)} />
              )}
              {f.files.length > 0 && (
                <button className="link" onClick={() => update({ files: [] })}>
                  clear
                </button>
              )}
            </div>
          )}
          {f.from === 'files' && f.files.length > 0 && (
            <ul className="chips picked" data-testid="bench-files">
              {f.files.map((x) => (
                <li key={x.path}>{x.path}</li>
              ))}
            </ul>
          )}
        </>
      )}
      <h3>Run</h3>
      <div className="params">
        <NumberField label="per category (0 all)" testid="bench-limit" value={f.limit} min={0} max={100_000} step={1} onChange={(limit) => update({ limit })} />
        <NumberField label="max new tokens" testid="bench-max-new-tokens" value={f.maxNewTokens} min={1} max={8192} step={1} onChange={(maxNewTokens) => update({ maxNewTokens })} />
        <NumberField label="batch" testid="bench-batch" value={f.batchSize} min={1} max={256} step={1} onChange={(batchSize) => update({ batchSize })} />
      </div>
      <BackendChoice value={f.backend} testid="bench-backend" onChange={(backend) => update({ backend })} />
      {ort !== null ? (
        <OrtModelLine backend={ort} />
      ) : (
        <>
          <Segmented
            label="Model"
            value={f.model}
            options={[
              { value: 'loaded', label: 'Loaded model', testid: 'bench-model-loaded' },
              { value: 'trained', label: 'Trained policy', testid: 'bench-model-trained' },
            ]}
            onChange={(m) => update({ model: m })}
          />
          {f.model === 'loaded' && <AdapterPicker />}
          {f.model === 'trained' && !trained && <p className="note">No trained policy for this model yet: train one on the Training tab.</p>}
        </>
      )}
      <p className="note">Greedy decoding with the thinking template, as the paper evaluates.</p>
      <BenchEstimate />
      <div className="actions">
        {running ? (
          <button className="danger" data-testid="bench-stop" disabled={stopping} onClick={stopBenchmark}>
            {stopping ? 'Stopping after this batch…' : 'Stop'}
          </button>
        ) : (
          <button className="primary" data-testid="bench-run" disabled={!ready || (ort === null && f.model === 'trained' && !trained)} onClick={() => void runBenchmark()}>
            Run benchmark
          </button>
        )}
        {ort === null && !model ? (
          <LoadEmbedded />
        ) : (
          busy && !running && <span className="muted">The engine is {busy}: wait for it.</span>
        )}
      </div>
    </section>
  );
}

function LoadEmbedded() {
  const loading = useStudio((s) => s.load.status === 'loading');
  const loadModel = useStudio((s) => s.loadModel);
  return (
    <>
      <span className="muted">No model loaded: choose one on the Playground tab, or</span>
      <button className="secondary" data-testid="bench-load-embedded" disabled={loading} onClick={() => void loadModel({ kind: 'embedded' }, 'embedded tiny model')}>
        {loading ? 'Loading…' : 'Load the embedded tiny model'}
      </button>
    </>
  );
}

/** How long the run will take at most, from the decoding rate measured in this session, said before it starts. */
function BenchEstimate() {
  const f = useStudio((s) => s.benchForm);
  const rate = useStudio((s) => s.decodeRate);
  const cpu = useStudio((s) => s.gpu.status === 'ready' && isCpuAdapter(s.gpu.info));
  const categories = f.bench === 'bfcl' && f.from === 'files' ? f.files.filter((x) => !x.path.startsWith('possible_answer/') && !x.path.includes('/possible_answer/')).length : null;
  const prompts = f.bench === 'synthetic' ? f.count : f.limit > 0 ? f.limit * (f.bench === 'apibank' ? 2 : (categories ?? 1)) : null;
  const scope = f.bench === 'bfcl' && categories === null ? ' per category' : '';
  const device = cpu ? 'This adapter runs WebGPU on the CPU: the default size is a few minutes’ worth. ' : '';
  let text: string;
  if (prompts === null) text = 'Every entry of each category: the time depends on the files (set “per category” to bound it).';
  else if (!rate) text = `${prompts} prompts${scope} × up to ${f.maxNewTokens} tokens; no decoding measured yet in this session: the estimate comes with the first batch (or generate once on the Playground).`;
  else {
    const ms = benchTimeMs(prompts, f.maxNewTokens, f.batchSize, rate);
    text = `${prompts} prompts${scope} × up to ${f.maxNewTokens} tokens, ${f.batchSize} at a time: up to ~${formatDuration(ms)} at the ${formatRate(rate.tokensPerSec)} tok/s (batch ${rate.batch}) of ${rate.where}.`;
  }
  return (
    <p className="note" data-testid="bench-estimate">
      {device}
      {text}
    </p>
  );
}

function FilePicker({ label, testid, directory, onChange }: { label: string; testid: string; directory?: boolean; onChange(e: ChangeEvent<HTMLInputElement>): void }) {
  // React's types do not know the directory-picker attribute, which Chromium, Firefox and Safari all support.
  const folder = directory ? ({ webkitdirectory: '' } as object) : {};
  return (
    <label className="button secondary">
      {label}
      <input type="file" hidden multiple accept={directory ? undefined : '.json,.jsonl'} data-testid={testid} onChange={onChange} {...folder} />
    </label>
  );
}

// ---- progress and summary --------------------------------------------------------------------------

const pct = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '—' : `${(100 * x).toFixed(1)}%`);

function BenchStatus() {
  const b = useStudio((s) => s.bench);
  const now = useClock(b.status === 'running');
  if (b.status === 'idle') {
    return (
      <section className="card muted" data-testid="bench-status" data-status="idle">
        <h2>Results</h2>
        <p>Pick a benchmark and run it: accuracy per category and the benchmark’s own summary appear here.</p>
      </section>
    );
  }
  const fraction = b.total > 0 ? b.done / b.total : 0;
  const elapsed = (b.report ? b.report.run.ms : now - b.startedAt);
  const left = b.status === 'running' ? benchTimeLeftMs(b.done, b.total, elapsed) : null;
  return (
    <section className="card" data-testid="bench-status" data-status={b.status}>
      <div className="card-head">
        <h2>Results</h2>
        {b.report && <span className="muted">{b.report.model}</span>}
      </div>
      <div className="progress-head">
        <span data-testid="bench-progress">
          {b.done} of {b.total || '…'} · {b.correct} correct
          {b.tokensPerSec > 0 && ` · ${formatRate(b.tokensPerSec)} tok/s`}
          {b.report?.run.stopped && ' · stopped'}
          {b.status === 'running' && b.decoding && ` · this batch: token ${b.decoding.token} of at most ${b.decoding.of}`}
        </span>
        <span className="muted" data-testid="bench-time">
          {formatDuration(elapsed)}
          {b.status === 'running' && (left === null ? ' · estimate after the first batch' : ` · ~${formatDuration(left)} left`)}
        </span>
      </div>
      <div className={b.status === 'running' && b.done === 0 ? 'bar indeterminate' : 'bar'}>
        <div style={{ width: `${(100 * fraction).toFixed(1)}%` }} />
      </div>
      {b.error && (
        <p className="summary fail" data-testid="bench-error">
          {b.error.message}
        </p>
      )}
      {b.errors.length > 0 && (
        <details>
          <summary>{b.errors.length} records could not be read{b.bench === 'synthetic' ? ' (left out)' : ' (counted as wrong)'}</summary>
          <pre>{b.errors.slice(0, 50).join('\n')}</pre>
        </details>
      )}
      {b.report && <Aggregate aggregate={b.report.aggregate} entries={b.report.run.entries} />}
    </section>
  );
}

function Aggregate({ aggregate: a, entries }: { aggregate: BenchAggregate; entries: EvalEntry[] }) {
  if ('paper' in a) {
    const calling = entries.filter((e) => toolCallBlocks(e.completion).length > 0).length;
    return (
      <div className="aggregate" data-testid="bench-summary">
        <SummaryTable
          title="Tool-N1 paper’s aggregation"
          rows={[
            ['Non-live', a.paper.nonLive, `mean of ${a.paper.simpleLabel}, Multiple, Parallel, Parallel-Multiple`],
            ['Live', a.paper.live, 'entry-weighted over the four live AST categories'],
            ['Overall', a.paper.overall, '(Non-live + Live) / 2'],
          ]}
        />
        <SummaryTable
          title="BFCL v3’s own summaries"
          rows={[
            ['Non-Live Overall', a.bfcl.nonLiveOverall, 'mean of the four AST categories and irrelevance'],
            ['Live Overall', a.bfcl.liveOverall, 'weighted over live AST, live irrelevance and relevance'],
          ]}
        />
        {calling === 0 && entries.length > 0 ? (
          <p className="summary fail" data-testid="bench-no-calls">
            The model made no calls at all ({entries.length} entries without a &lt;tool_call&gt; block): irrelevance categories score 100% from silence alone.
          </p>
        ) : (
          <p className="note" data-testid="bench-calls">
            Calls made in {calling} of {entries.length} entries.
          </p>
        )}
        <p className="note">A dash: some category the summary needs was not run.</p>
      </div>
    );
  }
  if ('level1' in a) {
    return (
      <div className="aggregate" data-testid="bench-summary">
        <SummaryTable
          title="API-Bank (levels apart)"
          rows={[
            ['Level-1 (Call)', a.level1, 'the paper’s “Call” mode'],
            ['Level-2 (Retrieve+Call)', a.level2, 'only ToolSearcher is described'],
          ]}
        />
      </div>
    );
  }
  return (
    <div className="aggregate" data-testid="bench-summary">
      <SummaryTable
        title="Synthetic held-out"
        rows={[
          ['Mean reward', a.meanReward, 'binary: = accuracy'],
          ['Exact calls', a.exactMatch, 'the calls right, think tags or not'],
        ]}
      />
    </div>
  );
}

function SummaryTable({ title, rows }: { title: string; rows: [string, number | null, string][] }) {
  return (
    <table className="cases summary-table">
      <caption>{title}</caption>
      <tbody>
        {rows.map(([name, value, how]) => (
          <tr key={name}>
            <th title={how}>{name}</th>
            <td className="num big-number">{pct(value)}</td>
            <td className="muted">{how}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// ---- categories and entries ------------------------------------------------------------------------

function Categories() {
  const report = useStudio((s) => s.bench.report);
  if (!report || report.run.categories.length === 0) return null;
  const rates = [...new Set(report.run.categories.flatMap((c) => Object.keys(c.rates ?? {})))];
  const label = (c: CategorySummary) => ('paper' in report.aggregate && c.category === 'simple' ? report.aggregate.paper.simpleLabel : c.category);
  return (
    <section className="card" data-testid="bench-categories">
      <h2>Per category</h2>
      <table className="cases">
        <thead>
          <tr>
            <th>category</th>
            <th className="num">correct</th>
            <th className="num">accuracy</th>
            <th className="num" title="prompt + max new tokens longer than the model's positions: counted wrong">too long</th>
            {rates.map((r) => (
              <th key={r} className="num">
                {r}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {report.run.categories.map((c) => (
            <tr key={c.category} data-testid="bench-category" data-category={c.category}>
              <td>{label(c)}</td>
              <td className="num">
                {c.correct} / {c.total}
              </td>
              <td className="num">
                <strong>{pct(c.accuracy)}</strong>
              </td>
              <td className="num">{c.skipped}</td>
              {rates.map((r) => (
                <td key={r} className="num">
                  {pct(c.rates?.[r])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const PAGE = 100;

function Entries() {
  const entries = useStudio((s) => s.bench.entries);
  const [wrongOnly, setWrongOnly] = useState(false);
  const [shown, setShown] = useState(PAGE);
  const [open, setOpen] = useState<string | null>(null);
  if (entries.length === 0) return null;
  const list = wrongOnly ? entries.filter((e) => !e.correct) : entries;
  return (
    <section className="card" data-testid="bench-entries">
      <div className="card-head">
        <h2>Entries</h2>
        <label className="muted">
          <input type="checkbox" checked={wrongOnly} onChange={(e) => setWrongOnly(e.target.checked)} /> wrong only
        </label>
      </div>
      <table className="cases entries">
        <thead>
          <tr>
            <th>id</th>
            <th>category</th>
            <th>result</th>
            <th>error</th>
            <th className="num">tokens</th>
          </tr>
        </thead>
        <tbody>
          {list.slice(0, shown).map((e) => (
            <EntryRow key={e.id} entry={e} open={open === e.id} onToggle={() => setOpen(open === e.id ? null : e.id)} />
          ))}
        </tbody>
      </table>
      {list.length > shown && (
        <button className="link" onClick={() => setShown(shown + PAGE)}>
          show {Math.min(PAGE, list.length - shown)} more of {list.length - shown}
        </button>
      )}
    </section>
  );
}

function EntryRow({ entry: e, open, onToggle }: { entry: EvalEntry; open: boolean; onToggle(): void }) {
  const detail = useStudio((s) => s.bench.details[e.id]);
  return (
    <>
      <tr className="entry" data-testid="bench-entry" data-correct={e.correct} onClick={onToggle}>
        <td className="mono">
          <span className="disclosure">{open ? '▾' : '▸'}</span> {e.id}
        </td>
        <td>{e.category}</td>
        <td>
          <span className={e.correct ? 'verdict pass' : 'verdict fail'}>{e.correct ? '✓' : '✗'}</span>
        </td>
        <td className="mono muted">{e.error ?? ''}</td>
        <td className="num">{e.completionTokens}</td>
      </tr>
      {open && (
        <tr className="entry-detail">
          <td colSpan={5}>
            {detail?.question && (
              <p className="entry-question" data-testid="entry-question">
                <span className="muted">asked:</span> {detail.question}
              </p>
            )}
            {e.completion.trim() === '' ? (
              // Nothing but whitespace (or nothing): shown as the characters it is.
              <pre className="raw" data-testid="entry-raw">
                {e.completion === '' ? '(the model ended at once: no tokens)' : `only whitespace: ${JSON.stringify(e.completion)}`}
              </pre>
            ) : (
              <CompletionBody text={e.completion} raw={false} />
            )}
            {detail?.expected && (
              <p className="entry-expected mono" data-testid="entry-expected">
                <span className="muted">expected:</span> {detail.expected}
              </p>
            )}
          </td>
        </tr>
      )}
    </>
  );
}
